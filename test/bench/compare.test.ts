import { describe, expect, it } from 'vitest';
import { compare, profile } from '../../src/bench/compare.js';
import { benchReport } from '../../src/bench/report.js';
import type { RunRecord } from '../../src/bench/runner.js';
import { inPlanOrder } from '../../src/bench/suites.js';

/** A hand-made record: only what the comparison reads. */
function rec(
  task: string,
  optimizer: string,
  validation: number,
  cost: number,
  costToTarget: number,
): RunRecord {
  return {
    key: `standard|${task}|${optimizer}|1`,
    task,
    optimizer,
    seed: 1,
    suite: 'standard',
    backend: 'cpu',
    steps: cost / 3,
    forwards: cost / 3,
    backwards: cost / 3,
    cost,
    wallMs: 1,
    skipped: 0,
    diverged: false,
    L: 0,
    Lcost: 0,
    trace: [],
    evals: [],
    final: { validation: { loss: validation }, test: { loss: validation } },
    toTarget: { steps: costToTarget / 3, cost: costToTarget, ms: 1 },
  };
}

describe('comparison and performance profile', () => {
  // Task a: sgd@0.1 (best on validation) reaches the target at 300 of its 900; the grid has two more runs
  // of 900. The lr-free method reaches it at 600.
  const records = [
    rec('a', 'sgd@0.1', 0.1, 900, 300),
    rec('a', 'sgd@0.01', 0.5, 900, Number.POSITIVE_INFINITY),
    rec('a', 'sgd@1', 0.9, 900, Number.POSITIVE_INFINITY),
    rec('a', 'free', 0.2, 1200, 600),
  ];

  it('picks the grid point on validation and charges the whole grid', () => {
    const [c] = compare(records);
    const tuned = c.rows.find((r) => r.tuned)!;
    expect(tuned.method).toBe('sgd (tuned: 0.1)');
    expect(tuned.gridCost).toBe(2700);
    expect(tuned.gridCostRatio).toBe(3);
  });

  it('a tuning-paid profile adds the rest of the grid to the tuned cost to target', () => {
    const plain = profile(compare(records));
    expect(plain.ratios['sgd (tuned)'].a).toBe(1);
    expect(plain.ratios.free.a).toBe(2);
    const paid = profile(compare(records), { tuningInclusive: true });
    // tuned: 300 + (2700 - 900) = 2100; free: 600 -> free is best, tuned 3.5x.
    expect(paid.ratios.free.a).toBe(1);
    expect(paid.ratios['sgd (tuned)'].a).toBe(3.5);
    expect(paid.scores.free).toBeGreaterThan(paid.scores['sgd (tuned)']);
  });
});

describe('report order', () => {
  it('puts records in plan order (TASKS, then defaultOptimizers, then seed) whatever the store order', () => {
    const plan = [
      { task: 'linreg', optimizer: 'sgd@0.1', seed: 1 },
      { task: 'linreg', optimizer: 'sgd@0.1', seed: 2 },
      { task: 'linreg', optimizer: 'sls', seed: 1 },
      { task: 'mnist-mlp', optimizer: 'adam@0.001', seed: 1 },
      { task: 'mnist-mlp', optimizer: 'salsa', seed: 1 },
      { task: 'zz-custom', optimizer: 'sls', seed: 1 },
    ];
    const shuffled = [plan[4], plan[2], plan[5], plan[1], plan[3], plan[0]];
    expect(inPlanOrder(shuffled)).toEqual(plan);
  });

  it('writes the same report tables for a shuffled store', () => {
    const records = [rec('mnist-mlp', 'sgd@0.1', 0.3, 900, 300), rec('linreg', 'sgd@0.1', 0.2, 900, 300)];
    const records2 = [rec('linreg', 'sls', 0.1, 600, 200), ...records];
    const a = benchReport(records2, { source: 'x' }).markdown;
    const b = benchReport([...records2].reverse(), { source: 'x' }).markdown;
    expect(b).toBe(a);
    expect(a.indexOf('### linreg')).toBeLessThan(a.indexOf('### mnist-mlp'));
  });
});
