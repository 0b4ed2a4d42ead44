/**
 * Which code produced a benchmark run: the package version plus a hash of the library's own sources
 * (`src/` in a checkout, `dist/` in an installed package). Stored in every run record, so a store resumed
 * after the code changed says how many of its runs came from other code, and reports name their code.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|js)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** `<version>+<12 hex digits>`, e.g. `0.1.0+3f2a9c01b7de`; `<version>+unknown` if the sources are unreadable. */
export function codeVersion(): string {
  if (cached) return cached;
  const root = fileURLToPath(new URL('../../', import.meta.url));
  let version = 'unknown';
  try {
    version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
    const dir = existsSync(join(root, 'src')) ? join(root, 'src') : join(root, 'dist');
    const hash = createHash('sha256');
    for (const file of sourceFiles(dir).sort()) {
      hash.update(relative(dir, file).split('\\').join('/'));
      hash.update('\0');
      hash.update(readFileSync(file));
      hash.update('\0');
    }
    cached = `${version}+${hash.digest('hex').slice(0, 12)}`;
  } catch {
    cached = `${version}+unknown`;
  }
  return cached;
}

/** "0.1.0+abc (990 runs), unrecorded (9 runs)": the code versions of `records`, most runs first. */
export function codeSummary(records: readonly { code?: string }[]): string {
  const counts = new Map<string, number>();
  for (const r of records) counts.set(r.code ?? 'unrecorded', (counts.get(r.code ?? 'unrecorded') ?? 0) + 1);
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([code, n]) => `${code} (${n} run${n === 1 ? '' : 's'})`)
    .join(', ');
}
