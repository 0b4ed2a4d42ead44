/**
 * Longest-first run order (src/bench/runOrder.ts): the expected lengths come from the store's runs by a
 * multiplicative task x optimizer model, and a sweep asked for it starts the longest expected run first.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expectedRunMs, longestFirst } from '../../src/bench/runOrder.js';
import { readStore } from '../../src/bench/store.js';
import { planRuns } from '../../src/bench/suites.js';
import { sweep } from '../../src/bench/sweep.js';
import '../../src/index.js';
import { runTsx } from '../helpers/snapshot.js';

const dir = mkdtempSync(join(tmpdir(), 'lrfree-order-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (task: string, optimizer: string, elapsedMs: number, wallMs = elapsedMs / 2) => ({
  task,
  optimizer,
  elapsedMs,
  wallMs,
});

describe('expected run lengths', () => {
  it('recover a task x optimizer model, also for pairs never run, robust to one slow run', () => {
    // Task effects 1 and 10, optimizer effects 1 and 5 (base 100 ms); one run slowed 20x by load.
    const stored = [
      run('a', 'x', 100),
      run('a', 'x', 100),
      run('a', 'x', 2000),
      run('b', 'x', 1000),
      run('b', 'x', 1000),
      run('b', 'y', 5000),
      run('b', 'y', 5000),
    ];
    const [ax, bx, by, ay] = expectedRunMs(
      [
        { task: 'a', optimizer: 'x' },
        { task: 'b', optimizer: 'x' },
        { task: 'b', optimizer: 'y' },
        { task: 'a', optimizer: 'y' }, // never run: a's effect times y's
      ],
      stored,
    );
    // Alternating medians converge to within a fraction of a percent here; an order needs no more.
    expect(ax / 100).toBeCloseTo(1, 2);
    expect(bx / 1000).toBeCloseTo(1, 2);
    expect(by / 5000).toBeCloseTo(1, 2);
    expect(ay / 500).toBeCloseTo(1, 2);
  });

  it('use the time inside steps when a run has no whole-run time, and medians for unknown names', () => {
    const stored = [
      { task: 'a', optimizer: 'x', wallMs: 100 },
      { task: 'b', optimizer: 'x', wallMs: 400 },
    ];
    const [known, unknownTask, unknownBoth] = expectedRunMs(
      [
        { task: 'b', optimizer: 'x' },
        { task: 'c', optimizer: 'x' },
        { task: 'c', optimizer: 'z' },
      ],
      stored,
    );
    expect(known).toBeCloseTo(400, 6);
    expect(unknownTask).toBeCloseTo(200, 6); // the median (geometric mean of 2) of the task effects
    expect(unknownBoth).toBeCloseTo(200, 6);
  });

  it("take an optimizer's largest cost ratio from tasks at least a tenth as long, and leave refused runs out", () => {
    // 'slow' costs 2x auto on the small tasks and 40x on lstm; the transformer has auto's runs only.
    const stored = [
      run('quadratic', 'auto', 10),
      run('quadratic', 'slow', 20),
      run('mlp', 'auto', 100),
      run('mlp', 'slow', 200),
      run('lstm', 'auto', 1000),
      run('lstm', 'slow', 40_000),
      run('transformer', 'auto', 3000),
      { ...run('transformer', 'newton', 5), refused: 'above maxParams' },
      run('lstm', 'newton', 80_000),
    ];
    const [slow, newton] = expectedRunMs(
      [
        { task: 'transformer', optimizer: 'slow' },
        { task: 'transformer', optimizer: 'newton' },
      ],
      stored,
    );
    expect(slow / 120_000).toBeCloseTo(1, 1); // 3000 x 40, not 3000 x 2
    expect(newton / 240_000).toBeCloseTo(1, 1); // lstm's 80x auto; the refused run says nothing
  });

  it('order longest first, keep the given order among equals, and change nothing without data', () => {
    const runs = [
      { task: 'a', optimizer: 'x', id: 1 },
      { task: 'b', optimizer: 'x', id: 2 },
      { task: 'a', optimizer: 'x', id: 3 },
    ];
    const stored = [run('a', 'x', 10), run('b', 'x', 30)];
    expect(longestFirst(runs, stored).map((r) => r.id)).toEqual([2, 1, 3]);
    expect(longestFirst(runs, []).map((r) => r.id)).toEqual([1, 2, 3]);
  });
});

describe('a sweep in longest-first order, with a deadline', () => {
  it('starts the run the store says is longest, postpones what cannot end by a deadline; bad options touch nothing', async () => {
    const store = join(dir, 'order.jsonl');
    const plan = (seed: number) =>
      planRuns({ suite: 'quick', tasks: ['linreg', 'quadratic'], optimizers: ['sgd@0.1'], seeds: [seed] });
    await sweep({ runs: plan(1), store, workers: 0, backend: 'cpu' });
    // Rewrite every stored run's length: first quadratic 100x linreg, then the other way round.
    const setLengths = (quadraticMs: number, linregMs: number) => {
      const lines = readFileSync(store, 'utf8').trim().split('\n');
      const edited = lines.map((l) => {
        const r = JSON.parse(l) as { task: string; elapsedMs?: number };
        r.elapsedMs = r.task === 'quadratic' ? quadraticMs : linregMs;
        return JSON.stringify(r);
      });
      writeFileSync(store, `${edited.join('\n')}\n`);
    };
    const firstOf = (seed: number) =>
      readStore(store)
        .records.filter((r) => r.seed === seed)
        .map((r) => r.task)[0];

    setLengths(100_000, 1000);
    await sweep({ runs: plan(2), store, workers: 0, backend: 'cpu', order: 'longest-first' });
    expect(firstOf(2)).toBe('quadratic');
    setLengths(1000, 100_000);
    await sweep({ runs: plan(3), store, workers: 0, backend: 'cpu', order: 'longest-first' });
    expect(firstOf(3)).toBe('linreg');

    // A deadline: only runs expected to end by then start; the rest are postponed, not run.
    setLengths(3_600_000, 1000); // quadratic "takes an hour", linreg a second
    const partial = await sweep({
      runs: plan(4),
      store,
      workers: 0,
      backend: 'cpu',
      order: 'longest-first',
      deadline: Date.now() + 600_000,
    });
    expect(partial.ran).toBe(1);
    expect(partial.postponed).toEqual([plan(4).find((r) => r.task === 'quadratic')!.key]);
    expect(
      readStore(store)
        .records.filter((r) => r.seed === 4)
        .map((r) => r.task),
    ).toEqual(['linreg']);
    // A run expected to take longer than the whole time given can never fit: it may be a worker's first
    // run (its best chance), and only that.
    const alone = planRuns({ suite: 'quick', tasks: ['quadratic'], optimizers: ['sgd@0.1'], seeds: [6, 7] });
    const once = await sweep({
      runs: alone,
      store,
      workers: 0,
      backend: 'cpu',
      order: 'longest-first',
      deadline: Date.now() + 600_000,
    });
    expect(once.ran).toBe(1);
    expect(once.postponed).toHaveLength(1);
    // The command line: exit code 75 (EX_TEMPFAIL) and a message when runs were postponed.
    const cut = runTsx(
      'src/cli/main.ts',
      'bench',
      '--tasks',
      'linreg,quadratic',
      '--optimizers',
      'sgd@0.1',
      '--seeds',
      '5',
      '--time-limit',
      '1',
      '--workers',
      '0',
      '-o',
      store,
      '-q',
    );
    expect(cut.status).toBe(75);
    expect(cut.stderr).toMatch(
      /1 runs postponed: expected to end after the time limit; run the same command again/,
    );
    expect(
      readStore(store)
        .records.filter((r) => r.seed === 5)
        .map((r) => r.task),
    ).toEqual(['linreg']);

    const before = readFileSync(store, 'utf8');
    const bad = runTsx(
      'src/cli/main.ts',
      'bench',
      '--tasks',
      'linreg',
      '--order',
      'slowest',
      '-o',
      store,
      '-q',
    );
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/--order 'slowest' is not allowed; use one of shuffled, longest-first/);
    expect(readFileSync(store, 'utf8')).toBe(before);
    const noTime = runTsx(
      'src/cli/main.ts',
      'bench',
      '--tasks',
      'linreg',
      '--time-limit',
      '0',
      '-o',
      store,
      '-q',
    );
    expect(noTime.status).not.toBe(0);
    expect(noTime.stderr).toMatch(
      /--time-limit 0 is not allowed; --time-limit must be a positive number of minutes/,
    );
    expect(readFileSync(store, 'utf8')).toBe(before);
  }, 180_000);
});
