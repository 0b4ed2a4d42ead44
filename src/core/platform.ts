/**
 * Where the code runs, and Node modules loaded at call time. Browser-safe modules (everything the root entry
 * `lrfree` reaches) import no Node built-in statically; the few Node-only methods they carry (e.g.
 * `AlraoModel.save`, `io.fileSystem`, the tfjs-node probe of `ready()`) load what they need here, through a
 * specifier bundlers do not follow, so a browser build neither bundles nor warns about Node modules. In a
 * browser those methods throw a clear error instead.
 */
import { LrfreeConfigError } from './validate.js';

/** True under Node.js (also Bun/Deno with Node compatibility). */
export const isNode: boolean = typeof process !== 'undefined' && !!process.versions?.node;

/**
 * Imports `specifier` (a Node built-in such as `node:fs`, or an optional package) at call time. `what`
 * names the caller in the error thrown outside Node.
 */
export async function nodeImport<T>(specifier: string, what: string): Promise<T> {
  if (!isNode) {
    throw new LrfreeConfigError(`${what} needs Node.js (it uses ${specifier}), and this is not Node.js.`);
  }
  const spec = specifier;
  return (await import(/* @vite-ignore */ /* webpackIgnore: true */ spec)) as T;
}
