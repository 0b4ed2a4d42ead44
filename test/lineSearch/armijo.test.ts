import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { optimizer } from '../../src/core/optimizer.js';
import { LrfreeConfigError } from '../../src/core/validate.js';
import { sgd } from '../../src/directions/sgd.js';
import { armijo } from '../../src/steps/armijo.js';
import { goldstein } from '../../src/steps/goldstein.js';
import { FALLBACK_STEP, goldsteinSearch } from '../../src/steps/lineSearchCommon.js';
import { useBackend } from '../helpers/tf.js';
import { quadratic, run } from './helpers.js';

beforeAll(async () => {
  await useBackend('cpu');
});

/** The documented reset rules, written out independently of the implementation. */
function resetOf(option: number | string, init: number, gamma: number, n: number) {
  return (prev: number, k: number): number => {
    if (option === 0) return prev;
    if (option === 1) return prev * gamma ** (1 / n);
    if (option === 2) return init;
    if (option === 3) return (k - 1) % n === 0 ? init : prev;
    return k % n === 0 ? prev * gamma : prev;
  };
}

/** SLS in float64 (ALGORITHMS.md §1.4) on a quadratic: per step the trial etas, accepted eta and point. */
function slsOracle(
  q: ReturnType<typeof quadratic>,
  start: number[],
  o: { c: number; betaB: number; reset: (prev: number, k: number) => number; init: number; steps: number },
) {
  let w = [...start];
  let prev = o.init;
  const out: { trials: number[]; eta: number; w: number[] }[] = [];
  for (let k = 1; k <= o.steps; k++) {
    const g = q.g64(w);
    const gn2 = g.reduce((s, x) => s + x * x, 0);
    const l0 = q.f64(w);
    let eta = o.reset(prev, k);
    const trials: number[] = [];
    for (;;) {
      trials.push(eta);
      const wt = w.map((x, i) => x - eta * g[i]);
      if (q.f64(wt) <= l0 - o.c * eta * gn2) {
        w = wt;
        break;
      }
      eta *= o.betaB;
    }
    prev = eta;
    out.push({ trials, eta, w });
  }
  return out;
}

/** Trial step sizes of each step, read back from the points the closure saw: eta = (w0 - w) / g. */
function trialEtas(at: number[][], g64: (x: number[]) => number[], perStep: number[]): number[][] {
  const out: number[][] = [];
  let i = 0;
  for (const n of perStep) {
    const w0 = at[i];
    const g = g64(w0);
    out.push(at.slice(i + 1, i + 1 + n).map((w) => (w0[0] - w[0]) / g[0]));
    i += 1 + n;
  }
  return out;
}

describe('armijo', () => {
  it('accepts the largest grid value betaB^k * eta0 that satisfies the Armijo inequality (1-D quadratic)', () => {
    // f(w) = 1.5 (w - 0.5)^2, w0 = 2: the inequality holds iff eta <= 2(1 - c)/a = 0.6.
    const q = quadratic([3], [0.5], [2]);
    const opt = optimizer({ direction: sgd(), step: armijo({ c: 0.1, resetOption: 2, initStepSize: 1 }) });
    const [rec] = run(opt, q.loss, q.vars, 1);
    const g = 4.5;
    const l0 = q.f64([2]);
    let best = -1;
    let bestK = -1;
    for (let k = 200; k >= 0; k--) {
      const eta = 0.9 ** k;
      if (q.f64([2 - eta * g]) <= l0 - 0.1 * eta * g * g) {
        best = eta;
        bestK = k;
      }
    }
    expect(bestK).toBe(5);
    expect(best).toBeLessThanOrEqual(0.6);
    expect(0.9 ** (bestK - 1)).toBeGreaterThan(0.6);
    expect(rec.eta as number).toBeCloseTo(best, 12);
    expect(rec.forwards).toBe(bestK + 1);
    expect(rec.info.failed).toBe(0); // a successful search is not reported as failed (mutation survivor)
    expect(rec.info.failures).toBe(0);
    expect(rec.info.trials).toBe(bestK + 1);
    expect(q.values()[0]).toBeCloseTo(2 - best * g, 5);
    opt.dispose();
    q.dispose();
  });

  for (const option of [0, 1, 2, 3, 'doubleEvery'] as const) {
    it(`reset option ${option}: trial sequences and trajectory match a float64 SLS`, () => {
      const start = [2, 1];
      const q = quadratic([3, 0.5], [0.5, -1], start);
      const cfg = { c: 0.1, betaB: 0.9, initStepSize: 0.5, gamma: 2, nBatchesPerEpoch: 3 };
      const opt = optimizer({ direction: sgd(), step: armijo({ ...cfg, resetOption: option }) });
      const recs = run(opt, q.loss, q.vars, 10);
      const oracle = slsOracle(q, start, {
        c: 0.1,
        betaB: 0.9,
        init: 0.5,
        reset: resetOf(option, 0.5, 2, 3),
        steps: 10,
      });
      const seen = trialEtas(
        q.at,
        q.g64,
        recs.map((r) => r.forwards),
      );
      oracle.forEach((o, k) => {
        expect(recs[k].forwards).toBe(o.trials.length);
        expect(recs[k].info.initialEta).toBeCloseTo(o.trials[0], 10);
        expect(recs[k].eta as number).toBeCloseTo(o.eta, 10);
        seen[k].forEach((eta, j) => {
          expect(Math.abs(eta - o.trials[j]) / o.trials[j]).toBeLessThan(1e-4);
        });
      });
      expect(Math.abs(q.values()[0] - oracle[9].w[0])).toBeLessThan(1e-5);
      expect(Math.abs(q.values()[1] - oracle[9].w[1])).toBeLessThan(1e-5);
      opt.dispose();
      q.dispose();
    });
  }

  it('reset option 3 restarts at initStepSize on the first step of every epoch, option 2 on every step', () => {
    for (const [option, expected] of [
      [3, [1, 4, 7]],
      [2, [1, 2, 3, 4, 5, 6, 7, 8]],
    ] as const) {
      const q = quadratic([3], [0.5], [2]);
      const opt = optimizer({
        direction: sgd(),
        step: armijo({ resetOption: option, initStepSize: 4, nBatchesPerEpoch: 3 }),
      });
      const recs = run(opt, q.loss, q.vars, 8);
      const restarts = recs.flatMap((r, i) => (r.info.initialEta === 4 ? [i + 1] : []));
      expect(restarts).toEqual(expected);
      opt.dispose();
      q.dispose();
    }
  });

  it('uses the optimizer stepsPerEpoch as n when nBatchesPerEpoch is not given', () => {
    const q = quadratic([0.01], [0], [1]);
    const opt = optimizer({ direction: sgd(), step: armijo({ initStepSize: 1 }), stepsPerEpoch: 4 });
    const [r1, r2] = run(opt, q.loss, q.vars, 2);
    // A flat quadratic accepts every first trial: eta grows by 2^(1/4) per step.
    expect(r1.info.initialEta).toBeCloseTo(2 ** 0.25, 12);
    expect(r2.info.initialEta).toBeCloseTo(2 ** 0.5, 12);
    opt.dispose();
    q.dispose();
  });

  it('treats non-finite trial losses as rejections and never stops at such a point', () => {
    const q = quadratic([3], [0.5], [2]);
    // The branch is read from the data (no gradient through a comparison); w0 itself is finite.
    const f = () => (q.w.dataSync()[0] < 1.2 ? tf.scalar(Infinity) : q.loss());
    const opt = optimizer({ direction: sgd(), step: armijo({ resetOption: 2 }) });
    const [rec] = run(opt, f, q.vars, 1);
    // Trials 0.9^k with w = 2 - 4.5 * 0.9^k >= 1.2 first at k = 17 (Armijo holds there: 0.167 <= 0.6).
    expect(rec.forwards).toBe(18);
    expect(rec.eta as number).toBeCloseTo(0.9 ** 17, 12);
    expect(q.values()[0]).toBeGreaterThanOrEqual(1.2);
    opt.dispose();
    q.dispose();
  });

  it('a failed search takes the 1e-6 fallback step, stores a bounded eta and counts the failure', () => {
    const q = quadratic([3], [0.5], [2]);
    const w0 = 2;
    // Every trial evaluation is non-finite (only the gradient call is not): nothing can pass.
    let calls = 0;
    const f = () => (calls++ === 0 ? q.loss() : tf.scalar(Number.NaN));
    const opt = optimizer({
      direction: sgd(),
      step: armijo({ betaB: 0.5, resetOption: 0, initStepSize: 1 }),
    });
    const [rec] = run(opt, f, q.vars, 1);
    // 0.5^t < 1e-12 first at t = 40: 40 trials, then the fallback.
    expect(rec.forwards).toBe(40);
    expect(rec.info.failed).toBe(1);
    expect(rec.info.failures).toBe(1);
    expect(rec.eta).toBe(1e-6);
    expect(q.values()[0]).toBeCloseTo(w0 - 1e-6 * 4.5, 6);
    expect(q.values()[0]).not.toBe(w0);
    // The stored eta is bounded below by 1e-10 (not 0.5^40): the next search starts there.
    const q2 = quadratic([3], [0.5], [2]);
    const [next] = run(opt, q2.loss, q2.vars, 1);
    expect(next.info.initialEta).toBe(1e-10);
    expect(next.info.failures).toBe(1);
    opt.dispose();
    q.dispose();
    q2.dispose();
  });

  it('maxBacktracks bounds the trials per step', () => {
    const q = quadratic([3], [0.5], [2]);
    const opt = optimizer({
      direction: sgd(),
      step: armijo({ resetOption: 2, initStepSize: 100, maxBacktracks: 3 }),
    });
    const [rec] = run(opt, q.loss, q.vars, 1);
    expect(rec.forwards).toBe(3);
    expect(rec.info.failed).toBe(1);
    expect(rec.eta).toBe(1e-6);
    opt.dispose();
    q.dispose();
  });

  it('does not move when the gradient vanishes, but the step size still resets', () => {
    const q = quadratic([3], [0.5], [0.5]);
    const opt = optimizer({ direction: sgd(), step: armijo({ nBatchesPerEpoch: 2 }) });
    const recs = run(opt, q.loss, q.vars, 2);
    expect(recs.map((r) => r.forwards)).toEqual([0, 0]);
    expect(recs[1].info.initialEta).toBeCloseTo(2, 12);
    expect(q.values()[0]).toBe(0.5);
    opt.dispose();
    q.dispose();
  });

  // Mutation survivors: the ||g|| < 1e-8 guard must hold on its own (not only together with a zero slope),
  // and its no-move step must be 0 (a gradient of exactly 0 hides a wrong eta).
  it('a gradient below 1e-8 but not zero: no trial, no move (catches || -> && in the guard, eta 0 -> 1)', () => {
    const q = quadratic([1], [5e-9], [0]);
    const opt = optimizer({ direction: sgd(), step: armijo() });
    const [rec] = run(opt, q.loss, q.vars, 1);
    expect(rec.forwards).toBe(0);
    expect(rec.info.trials).toBe(0); // the reported trial count matches the forwards spent
    expect(rec.eta).toBe(0);
    expect(q.values()[0]).toBe(0);
    opt.dispose();
    q.dispose();
  });

  it('etaMax caps the trial step size', () => {
    const q = quadratic([0.01], [0], [1]);
    const opt = optimizer({
      direction: sgd(),
      step: armijo({ resetOption: 'doubleEvery', nBatchesPerEpoch: 1, etaMax: 5 }),
    });
    const recs = run(opt, q.loss, q.vars, 4);
    expect(recs.map((r) => r.eta)).toEqual([2, 4, 5, 5]);
    opt.dispose();
    q.dispose();
  });

  it('rejects bad hyperparameters naming the parameter, value and range', () => {
    expect(() => armijo({ c: 1 })).toThrow(LrfreeConfigError);
    expect(() => armijo({ c: 1 })).toThrow(/c = 1.*\(0, 1\)/);
    expect(() => armijo({ betaB: 0 })).toThrow(/betaB = 0/);
    expect(() => armijo({ betaB: 1 })).toThrow(/betaB = 1/); // betaB = 1 never backtracks (mutation survivor)
    expect(() => armijo({ resetOption: 7 as 0 })).toThrow(/resetOption = 7/);
    expect(() => armijo({ nBatchesPerEpoch: 0.5 })).toThrow(/nBatchesPerEpoch/);
    expect(() => armijo({ gamma: 0.5 })).toThrow(/gamma = 0.5/);
    expect(() => armijo({ cc: 1 } as never)).toThrow(/unknown option 'cc'/);
    expect(() => goldstein({ c: 0.5 })).toThrow(/c = 0.5.*\(0, 0.5\)/);
    expect(() => goldstein({ betaF: 1 })).toThrow(/betaF = 1/);
  });
});

describe('goldstein', () => {
  // Mutation survivor: with no trial ever passing the sufficient-decrease test, the search must fail
  // (fallback step), not return a step it never accepted (catches lastA starting at a non-zero value).
  it('out of trials with no trial passing the Armijo side: the 1e-6 fallback, not found', () => {
    const search = goldsteinSearch(0.1, 0.5, 2, 10, 5);
    const r = search(() => Number.POSITIVE_INFINITY, 1, 1, 1);
    expect(r).toEqual({ eta: FALLBACK_STEP, stored: expect.any(Number), found: false, trials: 5 });
    expect(r.stored).toBeCloseTo(0.5 ** 5, 12);
    // Once the trial reaches the 1e-8 floor and still fails, the search stops there (no more trials).
    const floor = goldsteinSearch(0.1, 0.1, 2, 10, 50)(() => Number.POSITIVE_INFINITY, 1, 1, 1e-7);
    expect(floor.trials).toBe(2);
    expect(floor.found).toBe(false);
  });

  // f(w) = 1.5 (w - 0.5)^2 at w0 = 2, c = 0.1: A holds iff eta <= 0.6, B holds iff eta >= 2c/a = 0.0667.
  it('grows steps that are too short by betaF until both conditions hold', () => {
    const q = quadratic([3], [0.5], [2]);
    const opt = optimizer({ direction: sgd(), step: goldstein({ initStepSize: 0.01, resetOption: 0 }) });
    const [rec] = run(opt, q.loss, q.vars, 1);
    // 0.01, 0.02, 0.04 are too short (A only); 0.08 passes both.
    expect(rec.forwards).toBe(4);
    expect(rec.eta as number).toBeCloseTo(0.08, 12);
    const trials = q.at.slice(1).map((w) => (2 - w[0]) / 4.5);
    [0.01, 0.02, 0.04, 0.08].forEach((e, i) => {
      expect(trials[i]).toBeCloseTo(e, 6);
    });
    expect(q.values()[0]).toBeCloseTo(2 - 0.08 * 4.5, 6);
    opt.dispose();
    q.dispose();
  });

  it('shrinks steps that are too long by betaB', () => {
    const q = quadratic([3], [0.5], [2]);
    const opt = optimizer({ direction: sgd(), step: goldstein({ initStepSize: 5, resetOption: 0 }) });
    const [rec] = run(opt, q.loss, q.vars, 1);
    // 5 * 0.9^k <= 0.6 first at k = 21 (and 5 * 0.9^21 = 0.547 >= 0.0667).
    expect(rec.forwards).toBe(22);
    expect(rec.eta as number).toBeCloseTo(5 * 0.9 ** 21, 10);
    opt.dispose();
    q.dispose();
  });

  it('accepts etaMax when a step that long is still too short', () => {
    const q = quadratic([3], [0.5], [2]);
    const opt = optimizer({
      direction: sgd(),
      step: goldstein({ initStepSize: 0.01, resetOption: 0, etaMax: 0.03 }),
    });
    const [rec] = run(opt, q.loss, q.vars, 1);
    expect(rec.forwards).toBe(3);
    expect(rec.eta as number).toBeCloseTo(0.03, 12);
    opt.dispose();
    q.dispose();
  });

  it('out of trials, commits the last step that passed the sufficient-decrease test', () => {
    const q = quadratic([3], [0.5], [2]);
    const opt = optimizer({
      direction: sgd(),
      step: goldstein({ initStepSize: 0.01, resetOption: 0, maxBacktracks: 2 }),
    });
    const [rec] = run(opt, q.loss, q.vars, 1);
    expect(rec.forwards).toBe(2);
    expect(rec.eta as number).toBeCloseTo(0.02, 12);
    expect(rec.info.failed).toBe(1);
    opt.dispose();
    q.dispose();
  });
});
