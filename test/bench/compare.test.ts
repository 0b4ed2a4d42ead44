import { describe, expect, it } from 'vitest';
import { compare, profile } from '../../src/bench/compare.js';
import { benchReport } from '../../src/bench/report.js';
import { inPlanOrder } from '../../src/bench/suites.js';
import { INF, rec } from '../helpers/benchRecords.js';

const seeds = [1, 2, 3];
const grid = (task: string, etaVal: Record<string, number>, extra: Partial<Parameters<typeof rec>[3]> = {}) =>
  Object.entries(etaVal).flatMap(([eta, val]) =>
    seeds.map((s) => rec(task, `momentum@${eta}+cosine`, s, { val, ...extra })),
  );

describe('failures count', () => {
  it('a diverged seed ranks worst in the median: never a mean over the survivors', () => {
    const records = [
      ...grid('a', { '0.01': 0.5, '0.03': 0.3, '0.1': 0.2, '0.3': 0.4, '1': 0.6 }),
      rec('a', 'flaky', 1, { val: 0.1 }),
      rec('a', 'flaky', 2, { val: 0.2 }),
      rec('a', 'flaky', 3, { val: 0, diverged: true }),
      rec('a', 'broken', 1, { val: 0.05 }),
      rec('a', 'broken', 2, { val: 0, diverged: true }),
      rec('a', 'broken', 3, { val: 0, diverged: true }),
    ];
    const [c] = compare(records);
    const flaky = c.rows.find((r) => r.spec === 'flaky')!;
    // Survivors' mean would be 0.15; with the failure ranked worst the median is the worse survivor.
    expect(flaky.testLoss.estimate).toBe(0.2);
    expect(flaky.failures).toBe(1);
    const broken = c.rows.find((r) => r.spec === 'broken')!;
    // One survivor of three (0.05, the best number on the task) is not a result: the median is a failure.
    expect(broken.testLoss.estimate).toBe(INF);
    expect(broken.costToTarget).toBe(INF);
    expect(broken.L).toBe(INF);
    // Paired with the reference (0.2 on every seed): broken's ratio is infinite, a verdict of "worse" or
    // at best inconclusive, never "better".
    expect(broken.vsRef!.estimate).toBe(INF);
    expect(broken.vsRef!.verdict).not.toBe('better');
  });

  it('a grid point whose seeds diverge is not chosen for its survivors', () => {
    const records = [
      ...grid('a', { '0.01': 0.5, '0.03': 0.3, '0.1': 0.25, '0.3': 0.4 }),
      rec('a', 'momentum@1+cosine', 1, { val: 0.01 }),
      rec('a', 'momentum@1+cosine', 2, { val: 0, diverged: true }),
      rec('a', 'momentum@1+cosine', 3, { val: 0, diverged: true }),
    ];
    const [c] = compare(records);
    const tuned = c.rows.find((r) => r.tuned)!;
    expect(tuned.spec).toBe('momentum@0.1+cosine');
    expect(tuned.edge).toBeUndefined();
  });
});

describe('reference, target, tuning charge, edges', () => {
  // Momentum + cosine grid: 0.1 is best on validation; it reaches its best validation loss at cost 300
  // (seed 1: loss 0.2; seeds 2 and 3: 0.25, the worst seed's best: the target).
  const records = [
    ...['0.003', '0.01', '0.03', '0.3'].flatMap((eta) =>
      seeds.map((s) => rec('a', `momentum@${eta}+cosine`, s, { val: 0.5, reachAt: INF })),
    ),
    rec('a', 'momentum@0.1+cosine', 1, { val: 0.2, best: 0.2, reachAt: 300 }),
    rec('a', 'momentum@0.1+cosine', 2, { val: 0.25, best: 0.25, reachAt: 300 }),
    rec('a', 'momentum@0.1+cosine', 3, { val: 0.25, best: 0.25, reachAt: 300 }),
    ...seeds.map((s) => rec('a', 'free', s, { val: 0.22, best: 0.22, reachAt: 600, cost: 1200 })),
  ];

  it('sets the target so the reference reaches it on every seed, and charges 5 trials as AlgoPerf does', () => {
    const [c] = compare(records);
    expect(c.reference).toBe('momentum+cosine (tuned)');
    expect(c.target).toMatchObject({ value: 0.25, on: 'loss' });
    const ref = c.rows[0];
    expect(ref.name).toBe('momentum+cosine (tuned)');
    expect(ref.reached).toBe(3);
    expect(ref.costToTarget).toBe(300);
    // External tuning: the fastest of the 5 trials (only 0.1 reaches): 300. Paid: 300 + 4 full runs of 900.
    expect(ref.tunedCostToTarget).toBe(300);
    expect(ref.paidCostToTarget).toBe(300 + 4 * 900);
    expect(ref.trials).toHaveLength(5);
    const free = c.rows.find((r) => r.spec === 'free')!;
    expect(free.costToTarget).toBe(600);
    const ext = profile([c], { tuning: 'external' });
    expect(ext.ratios['momentum+cosine (tuned)'].a).toBe(1);
    expect(ext.ratios.free.a).toBe(2);
    const paid = profile([c], { tuning: 'paid' });
    expect(paid.ratios.free.a).toBe(1);
    expect(paid.ratios['momentum+cosine (tuned)'].a).toBe(3900 / 600);
  });

  it('marks a tuned best point on the edge of the rates tried', () => {
    const edgy = grid('b', { '0.003': 0.5, '0.01': 0.4, '0.03': 0.3, '0.1': 0.2, '0.3': 0.1 });
    const [c] = compare(edgy);
    expect(c.rows[0].edge).toBe('top');
    expect(c.rows[0].method).toBe('momentum+cosine (tuned: 0.3, top edge)');
    expect(benchReport(edgy, { source: 'x' }).markdown).toMatch(
      /Best point on an edge of the rates tried: momentum\+cosine \(tuned: 0\.3, top edge\)/,
    );
  });
});

describe('report order', () => {
  it('puts records in plan order (TASKS, then defaultOptimizers, then seed) whatever the store order', () => {
    // defaultOptimizers: reference grids, fixed rows, defaults, then the secondary constant-rate grids.
    const plan = [
      { task: 'linreg', optimizer: 'adamw@0.001+cosine', seed: 1 },
      { task: 'linreg', optimizer: 'sls', seed: 1 },
      { task: 'linreg', optimizer: 'sgd@0.1', seed: 1 },
      { task: 'linreg', optimizer: 'sgd@0.1', seed: 2 },
      { task: 'mnist-mlp', optimizer: 'salsa', seed: 1 },
      { task: 'mnist-mlp', optimizer: 'adam@0.001', seed: 1 },
      { task: 'zz-custom', optimizer: 'sls', seed: 1 },
    ];
    const shuffled = [plan[4], plan[2], plan[6], plan[5], plan[1], plan[3], plan[0]];
    expect(inPlanOrder(shuffled).map((r) => `${r.task} ${r.optimizer} ${r.seed}`)).toEqual(
      plan.map((r) => `${r.task} ${r.optimizer} ${r.seed}`),
    );
  });

  it('writes the same report tables for a shuffled store', () => {
    const records = [rec('mnist-mlp', 'sgd@0.1', 1, { val: 0.3 }), rec('linreg', 'sgd@0.1', 1, { val: 0.2 })];
    const records2 = [rec('linreg', 'sls', 1, { val: 0.1, cost: 600 }), ...records];
    const a = benchReport(records2, { source: 'x' }).markdown;
    const b = benchReport([...records2].reverse(), { source: 'x' }).markdown;
    expect(b).toBe(a);
    expect(a.indexOf('### linreg')).toBeLessThan(a.indexOf('### mnist-mlp'));
    expect(a.indexOf('### Ranked summary')).toBeLessThan(a.indexOf('### linreg'));
  });
});
