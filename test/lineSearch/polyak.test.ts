import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { optimizer } from '../../src/core/optimizer.js';
import { sgd } from '../../src/directions/sgd.js';
import { polyak } from '../../src/steps/polyak.js';
import { useBackend } from '../helpers/tf.js';
import { quadratic, run } from './helpers.js';

beforeAll(async () => {
  await useBackend('cpu');
});

/** f(w) = 0.5 a (w - b)^2 + fStar: the Polyak step with the true f* is 1/(2 c a), for every w. */
function shifted(a: number, b: number, w0: number, fStar: number) {
  const q = quadratic([a], [b], [w0]);
  return { ...q, loss: () => tf.tidy(() => tf.add(q.loss(), fStar)) as tf.Scalar };
}

describe('polyak', () => {
  it('SPS with the known f* gives the closed-form eta 1/(2ca); with c = 1/2 one step lands on the minimiser', () => {
    for (const c of [0.5, 0.2]) {
      const q = shifted(3, 0.5, 2, 0.3);
      const opt = optimizer({ direction: sgd(), step: polyak({ c, fStar: 0.3, variant: 'sps', eps: 0 }) });
      const [rec] = run(opt, q.loss, q.vars, 1);
      expect(Math.abs((rec.eta as number) - 1 / (2 * c * 3)) / (1 / (2 * c * 3))).toBeLessThan(1e-5);
      expect(rec.forwards).toBe(0);
      expect(q.values()[0]).toBeCloseTo(2 - (1 / (2 * c * 3)) * 4.5, 5);
      opt.dispose();
      q.dispose();
    }
  });

  it('eps is added to c*s in the denominator (catches c*s - eps): eta = gap / (c s + eps)', () => {
    // f = 0.5 * 3 (w - 0.5)^2 from w = 2: gap = 3.375, s = ||g||^2 = 20.25; eps = 10 is comparable to c*s.
    const q = shifted(3, 0.5, 2, 0);
    const opt = optimizer({ direction: sgd(), step: polyak({ c: 0.5, variant: 'sps', eps: 10 }) });
    const [rec] = run(opt, q.loss, q.vars, 1);
    const want = 3.375 / (0.5 * 20.25 + 10);
    expect(Math.abs((rec.eta as number) - want) / want).toBeLessThan(1e-5);
    opt.dispose();
    q.dispose();
  });

  it('SPS_max caps the step at etaMax; f* = 0 on a shifted loss overestimates the step (trap T11)', () => {
    const q = shifted(3, 0.5, 2, 0.3);
    const opt = optimizer({ direction: sgd(), step: polyak({ variant: 'spsMax', etaMax: 0.1, eps: 0 }) });
    const [rec] = run(opt, q.loss, q.vars, 1);
    expect(rec.eta).toBe(0.1);
    const q2 = shifted(3, 0.5, 2, 0.3);
    const opt2 = optimizer({ direction: sgd(), step: polyak({ variant: 'sps', eps: 0 }) });
    const [rec2] = run(opt2, q2.loss, q2.vars, 1);
    // (L0 - 0) / (0.5 g^2) with L0 = 1.5*1.5^2 + 0.3 = 3.675, g = 4.5.
    expect(rec2.eta as number).toBeCloseTo(3.675 / (0.5 * 20.25), 5);
    opt.dispose();
    opt2.dispose();
    q.dispose();
    q2.dispose();
  });

  it('smooth: eta = min(Polyak, gamma^(1/n) eta_{k-1}) step after step (float64 oracle)', () => {
    const q = quadratic([0.25], [0], [8]);
    const opt = optimizer({ direction: sgd(), step: polyak({ nBatchesPerEpoch: 2 }) });
    const recs = run(opt, q.loss, q.vars, 4);
    let w = 8;
    let prev = 1;
    for (const rec of recs) {
      const l = 0.125 * w * w;
      const g = 0.25 * w;
      const eta = Math.min(2 ** 0.5 * prev, l / (0.5 * g * g + 1e-8));
      expect(Math.abs((rec.eta as number) - eta) / eta).toBeLessThan(1e-5);
      w -= eta * g;
      prev = eta;
    }
    // The bound was active: the Polyak step is 4 here, the first steps are 1.41, 2, 2.83, 4.
    expect(recs[0].eta as number).toBeCloseTo(2 ** 0.5, 5);
    expect(Math.abs(q.values()[0] - w)).toBeLessThan(1e-4);
    opt.dispose();
    q.dispose();
  });

  it('a vanishing gradient does not move and does not zero the stored bound; loss below f* gives eta 0', () => {
    const q = quadratic([0.1], [0], [0]);
    const opt = optimizer({ direction: sgd(), step: polyak({ nBatchesPerEpoch: 1 }) });
    const [r0] = run(opt, q.loss, q.vars, 1);
    expect(r0.eta).toBe(0);
    q.w.assign(tf.tensor1d([10]));
    const [r1] = run(opt, q.loss, q.vars, 1);
    // The bound grew from the initial 1 (x2 per step with n = 1), not from 0 (the Polyak step is 10).
    expect(r1.eta).toBe(2);
    const q2 = quadratic([1], [0], [1]);
    const opt2 = optimizer({ direction: sgd(), step: polyak({ fStar: 5, variant: 'sps' }) });
    const [r2] = run(opt2, q2.loss, q2.vars, 1);
    expect(r2.eta).toBe(0);
    expect(q2.values()[0]).toBe(1);
    opt.dispose();
    opt2.dispose();
    q.dispose();
    q2.dispose();
  });

  it('rejects bad hyperparameters', () => {
    expect(() => polyak({ c: 0 })).toThrow(/c = 0/);
    expect(() => polyak({ variant: 'spsMax' })).toThrow(/etaMax/);
    // spsMax without a finite etaMax: the message gives the allowed range (catches a lower bound of 1 there).
    expect(() => polyak({ variant: 'spsMax', etaMax: Number.POSITIVE_INFINITY })).toThrow(
      /etaMax must be \(0, /,
    );
    expect(() => polyak({ variant: 'x' as 'sps' })).toThrow(/variant = "x"/);
  });

  // Mutation survivor: the reference's eps (added to c*||g||^2) was not pinned by any test.
  it('defaults are the reference sps class values (c 0.5, eps 1e-8, gamma 2, smooth)', () => {
    expect(polyak().config).toMatchObject({ c: 0.5, eps: 1e-8, gamma: 2, variant: 'smooth', fStar: 0 });
  });
});
