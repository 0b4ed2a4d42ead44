/**
 * Newton's dense Hessian from forward differences on a non-quadratic with a cross term: the columns
 * (g(w + eps e_j) - g(w)) / eps are not symmetric there (trap T25), so the symmetrisation ALGORITHMS.md
 * §8.3 asks for changes the step. Float64 reference written from the spec.
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

/** f(a, b) = a^2 b + 1.5 (a^2 + b^2): the mixed third derivative makes forward differences asymmetric. */
const grad = ([a, b]: number[]) => [2 * a * b + 3 * a, a * a + 3 * b];

describe('newton dense Hessian', () => {
  it('forward differences are symmetrised before the solve (catches the first off-diagonal pair left as measured)', () => {
    const w0 = [1, 1];
    const fdScale = 0.1;
    // Float64: eps = fdScale (1 + ||w||) for a unit vector; H_ij = (g_i(w + eps e_j) - g_i(w)) / eps.
    const eps = fdScale * (1 + Math.hypot(...w0));
    const g0 = grad(w0);
    const col = (j: number) =>
      grad(w0.map((x, i) => (i === j ? x + eps : x))).map((v, i) => (v - g0[i]) / eps);
    const [c0, c1] = [col(0), col(1)];
    const off = (c1[0] + c0[1]) / 2;
    // The measured pair differs by eps (2 vs 2 + eps): the test is about something real.
    expect(Math.abs(c1[0] - c0[1])).toBeGreaterThan(0.2);
    const det = c0[0] * c1[1] - off * off;
    const d = [(c1[1] * g0[0] - off * g0[1]) / det, (c0[0] * g0[1] - off * g0[0]) / det];
    const expected = w0.map((x, i) => x - d[i]);

    const w = tf.variable(tf.tensor1d(w0), true, 'nh/w');
    const opt = new LrfreeOptimizer({
      direction: newton({ solver: 'dense', hvp: 'forward', fdScale, adaptive: false }),
      step: constant(1),
    });
    opt.minimize(
      () =>
        tf.tidy(() => {
          const [a, b] = tf.unstack(w);
          return tf.add(
            tf.mul(tf.square(a), b),
            tf.mul(1.5, tf.add(tf.square(a), tf.square(b))),
          ) as tf.Scalar;
        }),
      false,
      [w],
    );
    const got = Array.from(w.dataSync());
    // Float32 differences at eps = 0.24 are good to ~1e-6; without symmetrisation w moves by ~0.015 more.
    expect(Math.abs(got[0] - expected[0])).toBeLessThan(1e-4);
    expect(Math.abs(got[1] - expected[1])).toBeLessThan(1e-4);
    expect(opt.lastStep.backwards).toBe(1 + 2);
    opt.dispose();
    w.dispose();
  });
});
