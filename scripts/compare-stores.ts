/**
 * Checks that two results stores hold the same runs with the same numbers: the same keys, each once, and
 * every field equal except the wall-clock ones (wallMs, elapsedMs, and the `ms` of trace points, evals and
 * toTarget), which no two runs share. On the cpu backend a seed reproduces a run bit-identically, so a
 * merged sharded sweep must equal an unsharded one exactly (scripts/slurm-e2e.sh).
 *
 *   npx tsx scripts/compare-stores.ts runs/merged.jsonl runs/unsharded.jsonl
 *
 * Prints the differences (at most 20) and exits 1 if there are any.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readStore } from '../src/bench/store.js';

/** Field names whose values are wall-clock times. */
const TIMING = new Set(['wallMs', 'elapsedMs', 'ms']);

/** The differences between two JSON values, as `path: a != b`, timing fields left out. */
export function differences(a: unknown, b: unknown, path = ''): string[] {
  if (Object.is(a, b)) return [];
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
    return [`${path || '.'}: ${JSON.stringify(a)} != ${JSON.stringify(b)}`];
  }
  if (Array.isArray(a) !== Array.isArray(b)) return [`${path}: array != object`];
  const out: string[] = [];
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) {
    if (TIMING.has(k)) continue;
    const va = (a as Record<string, unknown>)[k];
    const vb = (b as Record<string, unknown>)[k];
    out.push(...differences(va, vb, Array.isArray(a) ? `${path}[${k}]` : `${path}.${k}`));
  }
  return out;
}

/** Compares the stores; returns a list of problems (empty when they hold the same runs). */
export function compareStores(pathA: string, pathB: string): { runs: number; problems: string[] } {
  const problems: string[] = [];
  const index = (path: string) => {
    if (!existsSync(path)) problems.push(`${path}: no such file`);
    const { records, torn } = readStore(path);
    if (torn) problems.push(`${path}: torn last line`);
    const byKey = new Map<string, unknown>();
    for (const r of records) {
      if (byKey.has(r.key)) problems.push(`${path}: ${r.key} appears twice`);
      byKey.set(r.key, r);
    }
    return byKey;
  };
  const a = index(pathA);
  const b = index(pathB);
  for (const k of a.keys()) if (!b.has(k)) problems.push(`${k}: only in ${pathA}`);
  for (const k of b.keys()) if (!a.has(k)) problems.push(`${k}: only in ${pathB}`);
  for (const [k, ra] of a) {
    const rb = b.get(k);
    if (rb !== undefined) for (const d of differences(ra, rb)) problems.push(`${k} ${d}`);
  }
  return { runs: a.size, problems };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [pathA, pathB] = process.argv.slice(2);
  if (!pathA || !pathB) {
    console.error('usage: tsx scripts/compare-stores.ts <store-a.jsonl> <store-b.jsonl>');
    process.exit(2);
  }
  const { runs, problems } = compareStores(pathA, pathB);
  if (problems.length > 0) {
    console.error(`${pathA} and ${pathB} differ (${problems.length} differences):`);
    for (const p of problems.slice(0, 20)) console.error(`  ${p}`);
    process.exit(1);
  }
  if (runs === 0) {
    console.error(`${pathA} and ${pathB} hold no runs: nothing was compared.`);
    process.exit(1);
  }
  console.log(`${pathA} = ${pathB}: the same ${runs} runs, every number equal (timings aside).`);
}
