import { describe, expect, it } from 'vitest';
import {
  benchmarkScore,
  costWeightedLogLossArea,
  logLossArea,
  meanStd,
  median,
  pairedBootstrap,
  pairedRatio,
  performanceProfile,
  performanceRatios,
  timeToTarget,
  tuningInclusiveCost,
  verdict,
} from '../../src/bench/metrics.js';

describe('benchmark metrics on hand-made traces', () => {
  it('L is the log of the geometric-mean loss; clamps zeros; non-finite fails the run', () => {
    expect(logLossArea([1, Math.E, Math.E ** 2])).toBeCloseTo(1, 12);
    expect(Math.exp(logLossArea([0.5, 2]))).toBeCloseTo(1, 12);
    expect(logLossArea([0, 1])).toBeCloseTo(Math.log(1e-12) / 2, 12);
    expect(logLossArea([1, Number.NaN])).toBe(Number.POSITIVE_INFINITY);
  });

  it('cost-weighted L weights each step by its cost', () => {
    // Step 1 costs 1 at loss e, step 2 costs 3 at loss e^5: (1*1 + 3*5)/4 = 4.
    expect(costWeightedLogLossArea([Math.E, Math.E ** 5], [1, 3])).toBeCloseTo(4, 12);
    expect(costWeightedLogLossArea([1], [1, 2])).toBeNaN();
  });

  it('time-to-target: first time at or past the target, Infinity when never', () => {
    expect(timeToTarget([10, 20, 30], [0.9, 0.5, 0.4], 0.5)).toBe(20);
    expect(timeToTarget([10, 20, 30], [0.7, 0.85, 0.95], 0.9, true)).toBe(30);
    expect(timeToTarget([10, 20], [0.7, 0.8], 0.9, true)).toBe(Number.POSITIVE_INFINITY);
    expect(median([3, 1, Number.POSITIVE_INFINITY])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    const ms = meanStd([1, 2, 3]);
    expect(ms.mean).toBe(2);
    expect(ms.std).toBe(1);
  });

  it('performance ratios, profile and AlgoPerf score', () => {
    const r = performanceRatios({
      a: { w1: 10, w2: 40 },
      b: { w1: 20, w2: 20 },
      c: { w1: Number.POSITIVE_INFINITY, w2: 100 },
    });
    expect(r.a).toEqual({ w1: 1, w2: 2 });
    expect(r.b).toEqual({ w1: 2, w2: 1 });
    expect(r.c.w1).toBe(Number.POSITIVE_INFINITY);
    expect(r.c.w2).toBe(5);
    expect(performanceProfile(r.a, 1)).toBe(0.5);
    expect(performanceProfile(r.a, 2)).toBe(1);
    // Always best -> score 1; never within rMax -> 0; ratio 2 on one of two workloads:
    // rho = 0.5 on [1,2), 1 on [2,4] -> (0.5*1 + 1*2)/3 = 5/6 (trapezoid error O(h)).
    expect(benchmarkScore({ w1: 1, w2: 1 })).toBeCloseTo(1, 12);
    expect(benchmarkScore(r.c)).toBe(0);
    expect(benchmarkScore(r.a, 4, 3001)).toBeCloseTo(5 / 6, 3);
  });

  it('tuning-inclusive cost sums the grid', () => {
    expect(tuningInclusiveCost([100, 100, 120], 80)).toEqual({ grid: 320, ratio: 4 });
  });
});

describe('paired bootstrap over seeds', () => {
  it('is deterministic for a seed and brackets the median of known data', () => {
    const d = [0.1, 0.2, 0.3, 0.4, 0.5];
    const a = pairedBootstrap(d);
    expect(pairedBootstrap(d)).toEqual(a);
    expect(a.estimate).toBe(0.3);
    // The median of a resample of 5 lies between the 2nd and 4th order statistics unless 3+ draws land on
    // one side: the 95% interval is inside [min, max] and strictly contains the median here.
    expect(a.low).toBeGreaterThanOrEqual(0.1);
    expect(a.high).toBeLessThanOrEqual(0.5);
    expect(a.low).toBeLessThan(0.3);
    expect(a.high).toBeGreaterThan(0.3);
    // Constant data: a zero-width interval.
    expect(pairedBootstrap([2, 2, 2])).toEqual({ estimate: 2, low: 2, high: 2 });
  });

  // Catches a one-seed demo table calling a 3% difference "worse": a resample of 1 or 2 values only
  // repeats them, so the old code returned the zero-width interval [x, x] and a verdict from it.
  it('one or two seeds give no interval, and so an inconclusive verdict', () => {
    expect(pairedBootstrap([0.7])).toEqual({ estimate: 0.7, low: -Infinity, high: Infinity });
    const two = pairedRatio([2, 2.1], [1, 1]);
    expect(two.estimate).toBeCloseTo(Math.sqrt(2 * 2.1), 12);
    expect([two.low, two.high]).toEqual([0, Infinity]);
    expect(verdict(pairedRatio([1.03], [1]))).toBe('inconclusive');
    expect(verdict(pairedRatio([2, 2.1, 1.9], [1, 1, 1]))).toBe('worse');
  });

  it('the mean statistic matches the normal approximation on a large known sample', () => {
    // 400 paired differences: 0 and 1 alternating, mean 0.5, standard error 0.5/sqrt(400) = 0.025.
    const d = Array.from({ length: 400 }, (_, i) => i % 2);
    const r = pairedBootstrap(d, { statistic: 'mean', resamples: 4000, seed: 7 });
    expect(r.estimate).toBe(0.5);
    expect(r.low).toBeGreaterThan(0.5 - 1.96 * 0.025 - 0.01);
    expect(r.low).toBeLessThan(0.5 - 1.96 * 0.025 + 0.01);
    expect(r.high).toBeGreaterThan(0.5 + 1.96 * 0.025 - 0.01);
    expect(r.high).toBeLessThan(0.5 + 1.96 * 0.025 + 0.01);
  });

  it('paired ratios: a clear win is "better", a coin toss "inconclusive", a failure never a win', () => {
    const ref = [1, 1, 1, 1, 1];
    expect(verdict(pairedRatio([0.5, 0.6, 0.55, 0.5, 0.52], ref))).toBe('better');
    expect(verdict(pairedRatio([2, 2.1, 1.9, 2, 2.2], ref))).toBe('worse');
    // Wins on three seeds, loses on two: the interval covers 1.
    const mixed = pairedRatio([0.8, 0.9, 0.85, 1.2, 1.3], ref);
    expect(mixed.low).toBeLessThan(1);
    expect(mixed.high).toBeGreaterThan(1);
    expect(verdict(mixed)).toBe('inconclusive');
    // Three diverged seeds of five: the median ratio is infinite.
    const failing = pairedRatio([0.5, 0.5, Number.NaN, Number.POSITIVE_INFINITY, Number.NaN], ref);
    expect(failing.estimate).toBe(Number.POSITIVE_INFINITY);
    expect(verdict(failing)).not.toBe('better');
  });
});
