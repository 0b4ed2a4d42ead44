/**
 * Newton's Armijo fallback constant c = 1e-4 (ALGORITHMS.md §8.4), pinned by a decision that lies between
 * c and 2c: on the cubic f(x) = a x^3 + x^2 from x = 1, the relative decrease along the Newton direction d
 * is r(t) = (f(1) - f(1 - t d)) / (t g d) = 1 - t/2 + kappa t^2 with kappa = a g / H^2; `a` is chosen so
 * that r(1/2) = 1.5e-4. Central differences of the quadratic gradient are exact, so d is known to float32
 * round-off (r moves by ~2e-5 at most, inside the margin of 5e-5).
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { LrfreeOptimizer } from '../../src/core/optimizer.js';
import { newton } from '../../src/directions/newton.js';
import { constant } from '../../src/steps/constant.js';
import { useBackend } from '../helpers/tf.js';

beforeAll(async () => {
  await useBackend('cpu');
});

/** kappa(a) at x = 1: g = 3a + 2, H = 6a + 2. */
const kappa = (a: number) => (a * (3 * a + 2)) / (6 * a + 2) ** 2;

describe('newton Armijo fallback', () => {
  it('accepts t = 1/2 where the decrease is 1.5e-4 * t * g.d (catches c = 2e-4, which needs t = 1/4)', () => {
    // Bisect for r(1/2) = 0.75 + kappa/4 = 1.5e-4 with H > 0 (a in (-1/3, -0.1)).
    let lo = -1 / 3 + 1e-9;
    let hi = -0.1;
    const target = (1.5e-4 - 0.75) / 0.25;
    for (let i = 0; i < 200; i++) {
      const m = (lo + hi) / 2;
      if (kappa(m) < target) lo = m;
      else hi = m;
    }
    const a = Math.fround(lo);
    const g = 3 * a + 2;
    const H = 6 * a + 2;
    const d = g / H;
    const f = (x: number) => a * x ** 3 + x * x;
    const r = (t: number) => (f(1) - f(1 - t * d)) / (t * g * d);
    // The full step raises the loss (LM fails), t = 1/2 is inside [c, 2c), t = 1/4 passes both.
    expect(r(1)).toBeLessThan(0);
    expect(r(0.5)).toBeGreaterThan(1.3e-4);
    expect(r(0.5)).toBeLessThan(1.7e-4);
    expect(r(0.25)).toBeGreaterThan(0.5);

    const x = tf.variable(tf.tensor1d([1]), true, 'na/x');
    const opt = new LrfreeOptimizer({
      direction: newton({ hvp: 'central', lmTrials: 1, solver: 'dense' }),
      step: constant(1),
    });
    opt.minimize(
      () => tf.tidy(() => tf.sum(tf.add(tf.mul(a, tf.pow(x, 3)), tf.square(x))) as tf.Scalar),
      false,
      [x],
    );
    expect(opt.lastStep.info.lmTrials).toBe(1);
    expect(opt.lastStep.info.armijoTrials).toBe(2);
    expect(Math.abs(x.dataSync()[0] - (1 - 0.5 * d))).toBeLessThan(1e-4);
    opt.dispose();
    x.dispose();
  });
});
