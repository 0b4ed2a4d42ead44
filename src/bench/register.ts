/**
 * Modules that register a user's own optimizers in the catalog (`registerOptimizer`), imported by a sweep
 * before it checks the specs and by each of its worker threads: `lrfree bench --register ./mine.js
 * --optimizers mine` benchmarks them beside the built-in ones.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LrfreeConfigError } from '../core/validate.js';

/** The file URL of each module path (relative to the working directory), checked to exist. */
export function registrationUrls(modules: readonly string[]): string[] {
  return modules.map((m) => {
    const path = resolve(m);
    if (!existsSync(path)) {
      throw new LrfreeConfigError(
        `--register ${m}: no such file (${path}); give the path of a module that calls lrfree's registerOptimizer().`,
      );
    }
    return pathToFileURL(path).href;
  });
}

/** Imports each module (once: Node caches them); a module that throws is reported with its name. */
export async function importRegistrations(urls: readonly string[]): Promise<void> {
  for (const url of urls) {
    try {
      await import(url);
    } catch (e) {
      throw new LrfreeConfigError(`--register ${url}: importing it failed: ${(e as Error).message}`);
    }
  }
}
