/**
 * bench/results-facts.ts, which computes the numbers docs/results.md's prose quotes: `--tasks` keeps only the
 * tasks named, `--rows` prints those rows' facts beside the reference, bad arguments exit 2. Runs on the
 * committed standard-suite snapshot's linreg and quadratic runs (extracted to a temporary store).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runTsx, snapshotStore } from '../helpers/snapshot.js';

const dir = mkdtempSync(join(tmpdir(), 'lrfree-facts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const facts = (...args: string[]) => runTsx('bench/results-facts.ts', ...args);

describe('bench/results-facts.ts', () => {
  it('keeps the tasks asked for and prints the rows asked for beside the reference', () => {
    const { path: store, lines: kept } = snapshotStore(dir, 'two-tasks.jsonl', ['linreg', 'quadratic']);
    const r = facts(store, '--tasks', 'linreg', '--rows', 'auto,no-such-row');
    expect(r.status, r.stderr).toBe(0);
    const out = r.stdout.split('\n');
    const taskLines = out.filter((l) => /^[a-z-]+: reference /.test(l));
    expect(taskLines).toHaveLength(1);
    expect(taskLines[0]).toMatch(
      /^linreg: reference (adamw|momentum)\+cosine \(tuned\); target loss [0-9.e-]+; best /,
    );
    const autoLine = out.find((l) => l.startsWith('  auto: '));
    expect(autoLine).toMatch(
      /^ {2}auto: test loss \S+ \[\S+, \S+\]; vs reference \S+ \[\S+, \S+\] (better|worse|inconclusive); reached [0-5]\/5; failed [0-5]\/5; cost to target (\d+|miss) \(reference fastest (\d+|miss)\)$/,
    );
    expect(out.some((l) => l.includes('no-such-row'))).toBe(false);
    // The goal's geometric mean: over one task it is that task's cost / the reference's fastest trial.
    const [, cost, fastest] = /cost to target (\S+) \(reference fastest (\S+)\)$/.exec(autoLine!)!;
    const geo = out.find((l) => l.startsWith("auto: cost to target / the reference's fastest trial"));
    if (cost === 'miss') expect(geo).toMatch(/geometric mean Infinity over 1 tasks/);
    else
      expect(geo).toContain(
        `geometric mean ${(Number(cost) / Number(fastest)).toFixed(3)} over 1 tasks; linreg`,
      );
    const runs = out.find((l) => / runs; inside steps /.test(l));
    expect(runs).toMatch(new RegExp(`^${kept.filter((l) => l.includes('"task":"linreg"')).length} runs;`));
  });

  it('prints help with exit 0 and refuses bad arguments with exit 2', () => {
    const help = facts('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/usage: npx tsx bench\/results-facts\.ts/);
    for (const bad of [[], ['--tasks', 'linreg'], ['store.jsonl', '--bogus']]) {
      const r = facts(...bad);
      expect(r.status, bad.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/usage:/);
    }
  });
});
