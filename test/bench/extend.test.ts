import { describe, expect, it } from 'vitest';
import { compare } from '../../src/bench/compare.js';
import { gridExtensions, nextRate } from '../../src/bench/extend.js';
import type { RunRecord } from '../../src/bench/runner.js';

const rec = (optimizer: string, seed: number, val: number): RunRecord =>
  ({
    key: `standard|a|${optimizer}|${seed}`,
    task: 'a',
    optimizer,
    seed,
    suite: 'standard',
    backend: 'cpu',
    steps: 1,
    forwards: 1,
    backwards: 1,
    cost: 4,
    wallMs: 1,
    skipped: 0,
    diverged: false,
    L: 0,
    Lcost: 0,
    trace: [],
    evals: [],
    final: { validation: { loss: val }, test: { loss: val } },
    toTarget: { steps: 1, cost: 1, ms: 1 },
  }) as RunRecord;

/** Validation loss of AdamW + cosine as a function of the rate: best at `opt`. */
const bowl = (eta: number, opt: number) => 1 + Math.log10(eta / opt) ** 2;
const points = (etas: number[], opt: number, seeds = [1, 2]) =>
  etas.flatMap((eta) => seeds.map((s) => rec(`adamw@${eta}+cosine`, s, bowl(eta, opt))));
const GRID = [3e-4, 1e-3, 3e-3, 1e-2, 3e-2];

describe('grids that cannot hide an edge', () => {
  it('steps along the half-decade ladder', () => {
    expect(nextRate(0.03, 1)).toBe(0.1);
    expect(nextRate(0.1, 1)).toBe(0.3);
    expect(nextRate(3e-4, -1)).toBe(1e-4);
    expect(nextRate(1e-4, -1)).toBe(3e-5);
  });

  it('extends an edge-best grid by one point in that direction, until the best is inside or the cap', () => {
    // The optimum is at 0.2: the grid's best is its top edge, 0.03.
    let records = points(GRID, 0.2);
    expect(gridExtensions(records, [1, 2])).toEqual([
      { task: 'a', spec: 'adamw@0.1+cosine', grid: 'adamw+cosine', direction: 'top' },
    ]);
    records = [...records, ...points([0.1], 0.2)];
    expect(gridExtensions(records, [1, 2]).map((e) => e.spec)).toEqual(['adamw@0.3+cosine']);
    records = [...records, ...points([0.3], 0.2)];
    // 0.3 is one ladder step from 0.2 in log distance 0.18, 0.1 is 0.30: the best is 0.3, the top edge, but
    // two points beyond the grid is the cap: no more extension, and the table marks the edge.
    expect(gridExtensions(records, [1, 2])).toEqual([]);
    const [c] = compare(records);
    expect(c.rows[0].method).toBe('adamw+cosine (tuned: 0.3, top edge)');
  });

  it('extends downwards, stops once the best is inside, and waits for every seed', () => {
    const low = points(GRID, 1e-4);
    expect(gridExtensions(low, [1, 2]).map((e) => e.spec)).toEqual(['adamw@0.0001+cosine']);
    // Optimum just below the grid's bottom (2.5e-4): extended once to 1e-4, which is worse, so the best
    // (3e-4) is now inside the rates tried and the grid is left alone.
    const near = points(GRID, 2.5e-4);
    expect(gridExtensions(near, [1, 2]).map((e) => e.spec)).toEqual(['adamw@0.0001+cosine']);
    const inside = [...near, ...points([1e-4], 2.5e-4)];
    expect(gridExtensions(inside, [1, 2])).toEqual([]);
    expect(compare(inside)[0].rows[0].edge).toBeUndefined();
    // A seed missing from a point: the grid is not complete, nothing is decided.
    expect(gridExtensions(low.slice(1), [1, 2])).toEqual([]);
    // An interior best never extends.
    expect(gridExtensions(points(GRID, 3e-3), [1, 2])).toEqual([]);
    // A partial grid (hand-picked points) is not extended.
    expect(gridExtensions(points([1e-2, 3e-2], 1), [1, 2])).toEqual([]);
  });
});
