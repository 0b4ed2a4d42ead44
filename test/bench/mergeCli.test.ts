/**
 * `lrfree bench merge <stores...> -o <file>` as docs/benchmark.md writes it (bench's own -o once took the
 * subcommand's), and scripts/compare-stores.ts, which scripts/slurm-e2e.sh uses to check a merged sharded
 * sweep against an unsharded one.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compareStores, differences } from '../../scripts/compare-stores.js';
import { encodeRecord, readStore } from '../../src/bench/store.js';

const dir = mkdtempSync(join(tmpdir(), 'lrfree-merge-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const record = (key: string, L: number, wallMs = 5) => ({
  key,
  L,
  wallMs,
  elapsedMs: wallMs + 1,
  trace: [{ step: 1, loss: L, eta: 0.1, cost: 3, ms: wallMs }],
  toTarget: { steps: Infinity, cost: Infinity, ms: Infinity },
});
const store = (name: string, records: unknown[]) => {
  const path = join(dir, name);
  writeFileSync(path, records.map((r) => `${encodeRecord(r)}\n`).join(''));
  return path;
};

describe('lrfree bench merge', () => {
  it('merges stores given after the subcommand, -o last, each run once', () => {
    const a = store('a.jsonl', [record('quick|t|x|1', 1), record('quick|t|y|1', 2)]);
    const b = store('b.jsonl', [record('quick|t|z|1', 3), record('quick|t|x|1', 9)]);
    const out = join(dir, 'merged.jsonl');
    const printed = execFileSync(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'bench', 'merge', a, b, '-o', out],
      { encoding: 'utf8' },
    );
    expect(printed).toMatch(/3 runs -> .*merged\.jsonl \(1 duplicates dropped\)/);
    const merged = readStore(out).records;
    expect(merged.map((r) => [r.key, r.L])).toEqual([
      ['quick|t|x|1', 1],
      ['quick|t|y|1', 2],
      ['quick|t|z|1', 3],
    ]);
  });
});

describe('scripts/compare-stores.ts', () => {
  it('ignores wall-clock fields and nothing else', () => {
    expect(differences(record('k', 1, 5), record('k', 1, 700))).toEqual([]);
    expect(differences(record('k', 1), record('k', 1.0000001))).toEqual([
      '.L: 1 != 1.0000001',
      '.trace[0].loss: 1 != 1.0000001',
    ]);
  });

  it('names missing, extra, duplicated and differing runs', () => {
    const a = store('ca.jsonl', [record('k1', 1), record('k2', 2), record('k2', 2)]);
    const b = store('cb.jsonl', [record('k1', 1, 99), record('k3', 3)]);
    expect(compareStores(a, a).problems).toContain(`${a}: k2 appears twice`);
    const { problems } = compareStores(a, b);
    expect(problems).toEqual(
      expect.arrayContaining([`k2: only in ${a}`, `k3: only in ${b}`, `${a}: k2 appears twice`]),
    );
    expect(problems.some((p) => p.startsWith('k1'))).toBe(false);
    expect(compareStores(b, join(dir, 'none.jsonl')).problems).toContain(
      `${join(dir, 'none.jsonl')}: no such file`,
    );
    const same = store('cc.jsonl', [record('k1', 1, 42), record('k3', 3, 1)]);
    expect(compareStores(b, same)).toEqual({ runs: 2, problems: [] });
  });
});
