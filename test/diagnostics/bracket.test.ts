import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/core/rng.js';
import {
  bracketRate,
  HALF_DECADE,
  type TriedRate,
  withinNoise,
  wobble,
} from '../../src/diagnostics/bracket.js';

/** A run at `lr` whose 10 held-out chunks are `best` plus seeded noise of the given spread (mean exactly `best`). */
function run(lr: number, best: number, spread = 0, seed = 1, fell = true): TriedRate {
  const r = mulberry32(seed);
  const raw = Array.from({ length: 10 }, () => spread * (r() - 0.5));
  const mean = raw.reduce((s, v) => s + v, 0) / raw.length;
  return { lr, best, chunks: raw.map((v) => best + v - mean), fell };
}

const limits = { lower: 1e-7, upper: 100 };

describe('bracketRate: pinning the rate down from short runs', () => {
  it('a winner with worse runs a half-decade away on both sides is pinned; nothing more to try', () => {
    const b = bracketRate([run(0.01, 1), run(0.0316, 0.8), run(0.1, 0.5), run(0.316, 0.7)], limits);
    expect(b.winner?.lr).toBe(0.1);
    expect(b.ties.map((t) => t.lr)).toEqual([0.1]);
    expect(b.below?.lr).toBe(0.0316);
    expect(b.above?.lr).toBe(0.316);
    expect(b.pinned).toBe(true);
    expect(b.flat).toBe(false);
    expect(b.next).toBeUndefined();
  });

  it('a winner at the top of what was tried: the next rate is a half-decade above it', () => {
    const b = bracketRate([run(0.01, 1), run(0.1, 0.6)], limits);
    expect(b.pinned).toBe(false);
    expect(b.next).toBeCloseTo(0.1 * HALF_DECADE, 12);
  });

  it('neighbours a decade away do not pin it: the gap above is closed first, then the one below', () => {
    const tried = [run(0.01, 0.9), run(0.1, 0.5), run(1, 0.8)];
    const b1 = bracketRate(tried, limits);
    expect(b1.pinned).toBe(false);
    expect(b1.next).toBeCloseTo(0.1 * HALF_DECADE, 12);
    tried.push(run(b1.next!, 0.6));
    const b2 = bracketRate(tried, limits);
    expect(b2.next).toBeCloseTo(0.1 / HALF_DECADE, 12);
    tried.push(run(b2.next!, 0.7));
    const b3 = bracketRate(tried, limits);
    expect(b3.pinned).toBe(true);
    expect(b3.winner?.lr).toBe(0.1);
  });

  it('the winner is the lowest loss among runs that fell; a run that did not fall never wins', () => {
    const b = bracketRate([run(0.01, 0.3, 0, 1, false), run(0.1, 0.5), run(0.316, 0.6)], limits);
    expect(b.winner?.lr).toBe(0.1);
    expect(bracketRate([run(0.01, 1, 0, 1, false)], limits).winner).toBeUndefined();
  });

  it('a diverged neighbour (NaN) counts as worse: it closes the bracket', () => {
    const b = bracketRate([run(0.0316, 0.7), run(0.1, 0.5), run(0.316, Number.NaN)], limits);
    expect(b.pinned).toBe(true);
  });

  it('flat: ties over more than a half-decade are not a pinned rate, and nothing more is tried', () => {
    // within 0.5% of each other from 0.01 to 0.1: the loss does not depend on the rate there
    const b = bracketRate(
      [run(0.00316, 0.9), run(0.01, 0.5), run(0.0316, 0.501), run(0.1, 0.5012), run(0.316, 0.9)],
      limits,
    );
    expect(b.ties.map((t) => t.lr)).toEqual([0.01, 0.0316, 0.1]);
    expect(b.flat).toBe(true);
    expect(b.pinned).toBe(false);
    expect(b.next).toBeUndefined();
  });

  it('noisy held-out chunks: a lower mean within 2 standard errors is a tie, not a winner by itself', () => {
    // the winner is better by 0.01 on average, but its chunks scatter by +-0.2 around the neighbour's
    const w = run(0.1, 0.5, 0.4, 3);
    const n = run(0.316, 0.51, 0.4, 4);
    expect(withinNoise(n, w)).toBe(true);
    // the same difference with quiet chunks is measurable
    expect(withinNoise(run(0.316, 0.52, 0.001, 4), run(0.1, 0.5, 0.001, 3))).toBe(false);
    // ... but not when it is under 2% (practically equivalent: the learning-rate-free comparison's "as good")
    expect(withinNoise(run(0.316, 0.509, 0.001, 4), run(0.1, 0.5, 0.001, 3))).toBe(true);
  });

  it('the training noise widens the ties: a bracket that looked pinned becomes flat', () => {
    const tried = [run(0.0316, 0.52), run(0.1, 0.5), run(0.316, 0.53), run(1, 0.9), run(0.01, 0.9)];
    expect(bracketRate(tried, limits).pinned).toBe(true);
    const noisy = bracketRate(tried, { ...limits, trainingNoise: 0.05 });
    expect(noisy.ties.map((t) => t.lr)).toEqual([0.0316, 0.1, 0.316]);
    expect(noisy.flat).toBe(true);
    expect(noisy.pinned).toBe(false);
  });

  it('limits: no rate above `upper` is tried; the gap below is closed, then nothing (not pinned: an edge)', () => {
    const tried = [run(0.1, 0.9), run(1, 0.5)];
    const b = bracketRate(tried, { lower: 0.05, upper: 2 });
    expect(b.next).toBeCloseTo(1 / HALF_DECADE, 12);
    tried.push(run(b.next!, 0.7));
    const c = bracketRate(tried, { lower: 0.05, upper: 2 });
    expect(c.next).toBeUndefined();
    expect(c.pinned).toBe(false);
    // and nothing below `lower`
    expect(bracketRate([run(0.1, 0.5), run(0.316, 0.9)], { lower: 0.05, upper: 2 }).next).toBeUndefined();
  });

  it("the old answer (the geometric middle of a tied neighbour, never run) is gone: the answer is a run's own rate", () => {
    // mnist-bn-dropout seed 2 of the 62b7fb3 table: 0.191 and 0.603 tied, the middle 0.34 was never run
    const tried = [run(0.0331, 1.25), run(0.191, 0.3965), run(0.603, 0.395), run(1.91, 0.934)];
    const b = bracketRate(tried, limits);
    expect(b.winner!.lr).toBe(0.603);
    expect(b.ties.map((t) => t.lr)).toEqual([0.191, 0.603]);
    // the lowest tie's lower neighbour is more than a half-decade away: that gap is closed next
    expect(b.pinned).toBe(false);
    expect(b.next).toBeCloseTo(0.191 / HALF_DECADE, 12);
  });
});

describe("a run's own wobble and practical equivalence (the confident misses of f649349)", () => {
  it('wobble: how far the held-out loss rose and came back down; none for a run that only falls, only rises or rises at its end', () => {
    expect(wobble([1.481, 1.606, 1.647, 1.386])).toBeCloseTo(0.166, 12);
    expect(wobble([1.457, 1.437, 1.346, 1.35])).toBe(0);
    expect(wobble([7e7, 2.7e16, 1.1e25, 4.7e33])).toBe(0);
    expect(wobble([0.5, 0.7, 0.6, 0.9, 0.4])).toBeCloseTo(0.4, 12);
    expect(wobble([0.5, Number.NaN, 0.7, 0.6])).toBeCloseTo(0.1, 12);
    expect(wobble([])).toBe(0);
  });

  it('tab-raw-scales seed 2: the run above the winner was worse by 3% but wobbled by 12%: not a closing run, so the bracket goes on up', () => {
    // the real held-out losses (marks after 25, 50, 75, 100 steps) of the f649349 run
    const marks: [number, number[]][] = [
      [1.148e-4, [1.83, 1.477, 1.447, 1.438]],
      [3.631e-4, [1.457, 1.437, 1.346, 1.35]],
      [1.148e-3, [1.481, 1.606, 1.647, 1.386]],
    ];
    const tried = marks.map(([lr, l]) => ({ ...run(lr, Math.min(...l)), wobble: wobble(l) }));
    const b = bracketRate(tried, limits);
    expect(b.winner?.lr).toBe(3.631e-4);
    expect(b.ties.map((t) => t.lr)).toEqual([3.631e-4, 1.148e-3]);
    expect(b.pinned).toBe(false);
    expect(b.next).toBeCloseTo(1.148e-3 * HALF_DECADE, 12);
    // without the wobble it was pinned, and wrongly: the grid's best was 0.0316 (held-out 1.22)
    expect(
      bracketRate(
        tried.map((t) => ({ ...t, wobble: 0 })),
        limits,
      ).pinned,
    ).toBe(true);
  });

  it('linreg seed 1: losses within 1.1% from 0.0457 to 0.331 are flat, not a pinned 0.0457', () => {
    const tried = [
      run(0.01445, 0.04057),
      run(0.04571, 0.01013),
      run(0.1445, 0.0102),
      run(0.3311, 0.01024),
      { ...run(1.047, 7.025e7), fell: false },
    ];
    const b = bracketRate(tried, limits);
    expect(b.ties.map((t) => t.lr)).toEqual([0.04571, 0.1445, 0.3311]);
    expect(b.flat).toBe(true);
    expect(b.pinned).toBe(false);
  });
});

describe('bracketRate when no run fell', () => {
  const none = (lr: number, best: number, start: number): TriedRate => ({
    ...run(lr, best, 0, 1, false),
    start,
  });
  it('every run made the model worse: walk a half-decade below the lowest', () => {
    const b = bracketRate([none(1, 5, 2), none(3.16, Number.NaN, 2)], limits);
    expect(b.winner).toBeUndefined();
    expect(b.next).toBeCloseTo(1 / HALF_DECADE, 12);
  });
  it('every run barely moved: walk a half-decade above the highest', () => {
    const b = bracketRate([none(1e-4, 1.99, 2), none(3e-4, 1.98, 2)], limits);
    expect(b.next).toBeCloseTo(3e-4 * HALF_DECADE, 12);
  });
  it('mixed (one too small, one too large): no walk', () => {
    expect(bracketRate([none(1e-4, 1.99, 2), none(1, 5, 2)], limits).next).toBeUndefined();
  });
});
