/** The committed standard-suite snapshot as small stores for the bench command-line tests. */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

/** Writes `dir/name` with the snapshot's runs of `tasks`; returns its path and the lines kept. */
export function snapshotStore(dir: string, name: string, tasks: string[]): { path: string; lines: string[] } {
  const all = gunzipSync(readFileSync('bench/results/std-v2.jsonl.gz')).toString('utf8').split('\n');
  const lines = all.filter((l) => tasks.some((t) => l.includes(`"task":"${t}"`)));
  const path = join(dir, name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return { path, lines };
}

/** Runs a TypeScript entry point (`node --import tsx file args`), its output as text. */
export const runTsx = (file: string, ...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', file, ...args], { encoding: 'utf8', timeout: 180_000 });
