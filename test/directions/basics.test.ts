/**
 * sgd, momentum and adam options, and conjugate gradients stopped by negative curvature, with answers in closed
 * form. Each test names the wrong implementation it catches (found by scripts/mutate.ts, docs/mutation.md).
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { LrfreeOptimizer } from '../../src/core/optimizer.js';
import type { Direction } from '../../src/core/types.js';
import { adam } from '../../src/directions/adam.js';
import { momentum } from '../../src/directions/momentum.js';
import { conjugateGradient } from '../../src/directions/newtonSolvers.js';
import { sgd } from '../../src/directions/sgd.js';
import { constant } from '../../src/steps/constant.js';
import { useBackend } from '../helpers/tf.js';

beforeAll(async () => {
  await useBackend('cpu');
});

/** w after `steps` steps of the direction at eta on f(w) = 0.5 w^2 from w0. */
function train(direction: Direction, eta: number, w0: number, steps: number): number[] {
  const w = tf.variable(tf.scalar(w0), true, `dir${Math.random()}/w`);
  const opt = new LrfreeOptimizer({ direction, step: constant(eta) });
  const out: number[] = [];
  for (let k = 0; k < steps; k++) {
    opt.minimize(() => tf.tidy(() => tf.mul(0.5, tf.square(w)).sum() as tf.Scalar), false, [w]);
    out.push(w.dataSync()[0]);
  }
  opt.dispose();
  w.dispose();
  return out;
}

describe('sgd', () => {
  it('weightDecay: w <- w - eta (g + wd w), for wd = 0.1 and wd = 1 (catches the decay skipped when wd > 0, or at wd = 1)', () => {
    for (const wd of [0, 0.1, 1]) {
      // g = w, so one step gives w0 (1 - eta (1 + wd)).
      expect(train(sgd({ weightDecay: wd }), 0.25, 2, 1)[0]).toBeCloseTo(2 * (1 - 0.25 * (1 + wd)), 6);
    }
  });
});

describe('momentum', () => {
  it('momentum given alone is accepted and used: a <- beta a + g (catches the both-given check firing on momentum alone)', () => {
    // g_k = w_k; a1 = 2, w1 = 2 - 0.1*2 = 1.8; a2 = 0.5*2 + 1.8 = 2.8, w2 = 1.8 - 0.28 = 1.52.
    const [w1, w2] = train(momentum({ momentum: 0.5 }), 0.1, 2, 2);
    expect(w1).toBeCloseTo(1.8, 6);
    expect(w2).toBeCloseTo(1.52, 6);
    expect(momentum({ momentum: 0.5 }).config.beta).toBe(0.5);
    expect(() => momentum({ momentum: 0.5, beta: 0.5 })).toThrow(/both given/);
  });

  it('the default momentum is 0.9 (catches another default)', () => {
    expect(momentum().config.beta).toBe(0.9);
    const [w1, w2] = train(momentum(), 0.1, 2, 2);
    expect(w1).toBeCloseTo(1.8, 6);
    expect(w2).toBeCloseTo(1.8 - 0.1 * (0.9 * 2 + 1.8), 6);
  });

  it('a bad value is reported under the name it was given (catches beta reported as momentum and the reverse)', () => {
    expect(() => momentum({ beta: 1 })).toThrow(/beta = 1 /);
    expect(() => momentum({ momentum: 1 })).toThrow(/momentum = 1 /);
  });
});

describe('adam', () => {
  it('the default epsilon is 1e-7, as tf.train.adam (catches another default): a gradient of 1e-7 gets P*g = 1/2', () => {
    // f(w) = 1e-7 w: at step 1 m-hat = g, sqrt(v-hat) = |g| = 1e-7, so d = 1e-7 / (1e-7 + 1e-7) = 0.5.
    expect(adam().config.epsilon).toBe(1e-7);
    const w = tf.variable(tf.scalar(1), true, `adamEps${Math.random()}/w`);
    const opt = new LrfreeOptimizer({ direction: adam(), step: constant(1) });
    opt.minimize(() => tf.tidy(() => tf.mul(1e-7, w).sum() as tf.Scalar), false, [w]);
    expect(w.dataSync()[0]).toBeCloseTo(0.5, 5);
    opt.dispose();
    w.dispose();
  });
});

describe('conjugateGradient', () => {
  const H = [
    [1, 2],
    [2, -10],
  ];
  const apply = (v: Float64Array) => Float64Array.from(H.map((row) => row[0] * v[0] + row[1] * v[1]));

  it('negative curvature at the first iteration returns b, at a later one the iterate so far (catches the two swapped)', () => {
    // b = (1, 1): p'Hp = 1 + 4 - 10 < 0 at once -> x = b.
    const first = conjugateGradient(apply, Float64Array.from([1, 1]), 0, 10, 1e-12);
    expect(first.negativeCurvature).toBe(true);
    expect(first.iterations).toBe(0);
    expect(Array.from(first.x)).toEqual([1, 1]);
    // b = (1, 0.1): p'Hp = 1.3 > 0, x1 = (1.01/1.3) b; the second direction has negative curvature.
    const later = conjugateGradient(apply, Float64Array.from([1, 0.1]), 0, 10, 1e-12);
    expect(later.negativeCurvature).toBe(true);
    expect(later.iterations).toBe(1);
    const alpha = 1.01 / 1.3;
    expect(later.x[0]).toBeCloseTo(alpha, 12);
    expect(later.x[1]).toBeCloseTo(alpha * 0.1, 12);
  });
});
