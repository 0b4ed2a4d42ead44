import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { LrfreeOptimizer } from '../../src/core/optimizer.js';
import { type NewtonOptions, newton } from '../../src/directions/newton.js';
import { cholesky, choleskySolve, conjugateGradient } from '../../src/directions/newtonSolvers.js';
import { constant } from '../../src/steps/constant.js';
import { useBackend } from '../helpers/tf.js';
import { normals } from './helpers.js';

beforeAll(async () => {
  await useBackend('cpu');
});

const N = 1000;
const D = 10;

/** Linear least squares, n = 1000, 10 features + intercept, noiseless y; alpha = ridge on the kernel. */
function leastSquares(seed: number, alpha = 0) {
  const X = normals(N * D, seed);
  const wTrue = normals(D, seed + 1).map((v) => 5 * v);
  const y = Array.from({ length: N }, (_, i) => wTrue.reduce((a, w, j) => a + w * X[i * D + j], 3));
  const x = tf.tensor2d(X, [N, D]);
  const yt = tf.tensor2d(y, [N, 1]);
  const kernel = tf.variable(tf.tensor2d(normals(D, seed + 2), [D, 1]));
  const bias = tf.variable(tf.tensor1d(normals(1, seed + 3)));
  const loss = () =>
    tf.tidy(() => {
      const mse = tf.mean(tf.square(tf.sub(tf.add(tf.matMul(x, kernel), bias), yt)));
      return (alpha > 0 ? tf.add(mse, tf.mul(alpha, tf.sum(tf.square(kernel)))) : mse) as tf.Scalar;
    });
  // Oracle: (X1^T X1 / n + alpha*D) beta = X1^T y / n in float64, X1 = [X, 1] (intercept unpenalised).
  const P = D + 1;
  const A = new Float64Array(P * P);
  const b = new Float64Array(P);
  for (let i = 0; i < N; i++) {
    const row = [...X.slice(i * D, i * D + D), 1];
    for (let r = 0; r < P; r++) {
      b[r] += (row[r] * y[i]) / N;
      for (let c = 0; c < P; c++) A[r * P + c] += (row[r] * row[c]) / N;
    }
  }
  for (let r = 0; r < D; r++) A[r * P + r] += alpha;
  const beta = choleskySolve(cholesky(A, P)!, P, b);
  const mean = y.reduce((a, v) => a + v, 0) / N;
  const varY = y.reduce((a, v) => a + (v - mean) ** 2, 0) / N;
  const weights = () => [...kernel.dataSync(), ...bias.dataSync()];
  const mseOf = (wb: number[]) => {
    let s = 0;
    for (let i = 0; i < N; i++) {
      let p = wb[D];
      for (let j = 0; j < D; j++) p += wb[j] * X[i * D + j];
      s += (p - y[i]) ** 2;
    }
    return s / N;
  };
  return {
    vars: [kernel, bias],
    loss,
    beta,
    varY,
    weights,
    mseOf,
    dispose: () => tf.dispose([x, yt, kernel, bias]),
  };
}

function newtonOpt(o: NewtonOptions = {}) {
  return new LrfreeOptimizer({ direction: newton(o), step: constant(1) });
}

describe('newton direction', () => {
  it('solves linear least squares in one step from any start; a second step changes nothing', () => {
    for (const [seed, hvp] of [
      [11, 'central'],
      [23, 'forward'],
      [31, 'central'],
    ] as const) {
      const p = leastSquares(seed);
      const w0 = p.weights();
      const opt = newtonOpt({ hvp });
      opt.minimize(p.loss, false, p.vars);
      // 1 gradient + 11 (forward) or 22 (central) finite-difference gradients.
      // gradient + the Hessian's HVPs + one Levenberg-Marquardt evaluation of the loss at w - d.
      expect(opt.lastStep.backwards).toBe(1 + (hvp === 'central' ? 22 : 11) + 1);
      const w1 = p.weights();
      expect(p.mseOf(w1) / p.varY).toBeLessThan(1e-8);
      const scale = Math.max(...p.beta.map(Math.abs));
      w1.forEach((v, i) => {
        expect(Math.abs(v - p.beta[i])).toBeLessThan(1e-4 * scale);
      });
      // The second step moves by the first step's finite-difference error only: < 1e-4 of the first move.
      const moved = Math.max(...w1.map((v, i) => Math.abs(v - w0[i])));
      opt.minimize(p.loss, false, p.vars);
      const w2 = p.weights();
      w2.forEach((v, i) => {
        expect(Math.abs(v - w1[i])).toBeLessThan(1e-4 * moved);
      });
      opt.dispose();
      p.dispose();
    }
  });

  it('on a quadratic any eps is exact: with fdScale 1 the second step moves by float32 round-off only', () => {
    const p = leastSquares(11);
    const opt = newtonOpt({ fdScale: 1 });
    opt.minimize(p.loss, false, p.vars);
    expect(p.mseOf(p.weights()) / p.varY).toBeLessThan(1e-11);
    const w1 = p.weights();
    opt.minimize(p.loss, false, p.vars);
    // A few float32 ulps of weights of size ~10.
    p.weights().forEach((v, i) => {
      expect(Math.abs(v - w1[i])).toBeLessThan(1e-5);
    });
    opt.dispose();
    p.dispose();
  });

  it('ridge: one step gives the ridge solution', () => {
    const p = leastSquares(5, 0.7);
    const opt = newtonOpt();
    opt.minimize(p.loss, false, p.vars);
    const scale = Math.max(...p.beta.map(Math.abs));
    p.weights().forEach((v, i) => {
      expect(Math.abs(v - p.beta[i])).toBeLessThan(1e-4 * scale);
    });
    opt.dispose();
    p.dispose();
  });

  it('the CG solver reaches the same solution on least squares', () => {
    const p = leastSquares(7);
    const opt = newtonOpt({ solver: 'cg', cgIterations: 30, cgTolerance: 1e-8 });
    opt.minimize(p.loss, false, p.vars);
    expect(p.mseOf(p.weights()) / p.varY).toBeLessThan(1e-7);
    opt.dispose();
    p.dispose();
  });

  it('refuses models too large for the chosen solver, with a clear error', () => {
    const w = tf.variable(tf.zeros([40, 40]));
    const loss = () => tf.tidy(() => tf.sum(tf.square(w))) as tf.Scalar;
    const opt = newtonOpt({ solver: 'dense' });
    expect(() => opt.minimize(loss, false, [w])).toThrow(/1600 parameters, more than maxDenseParams = 1000/);
    const opt2 = newtonOpt({ maxParams: 1000 });
    expect(() => opt2.minimize(loss, false, [w])).toThrow(/more than maxParams = 1000/);
    // The failed steps left the weights alone.
    expect(w.dataSync().every((v) => v === 0)).toBe(true);
    opt.dispose();
    opt2.dispose();
    w.dispose();
  });

  it('non-convex: damping makes the step a descent direction (Levenberg-Marquardt)', () => {
    // f(x, y) = x^2 - y^2 + y^4: at (1, 0.1) the Hessian diag(2, -2 + 12 y^2) is indefinite.
    const v = tf.variable(tf.tensor1d([1, 0.1]));
    const loss = () =>
      tf.tidy(() => {
        const [x, y] = tf.unstack(v);
        return tf.add(tf.sub(tf.square(x), tf.square(y)), tf.pow(y, 4)) as tf.Scalar;
      });
    const opt = newtonOpt();
    const f = (a: number, b: number) => a * a - b * b + b ** 4;
    let prev = f(1, 0.1);
    let maxDamping = 0;
    for (let k = 0; k < 15; k++) {
      opt.minimize(loss, false, [v]);
      maxDamping = Math.max(maxDamping, opt.lastStep.info.damping);
      const [a, b] = v.dataSync();
      expect(Number.isFinite(a) && Number.isFinite(b)).toBe(true);
      prev = Math.min(prev, f(a, b));
    }
    // The minima are (0, +-1/sqrt 2) with f = -1/4.
    expect(prev).toBeLessThan(-0.2);
    // The indefinite Hessian needed damping, and lastStep.info shows it.
    expect(maxDamping).toBeGreaterThan(0);
    opt.dispose();
    v.dispose();
  });

  it('conjugate gradients solve a small SPD system exactly (float64 oracle)', () => {
    const A = [4, 1, 0, 1, 3, 1, 0, 1, 2];
    const apply = (x: Float64Array) =>
      Float64Array.from([0, 1, 2], (r) => A[r * 3] * x[0] + A[r * 3 + 1] * x[1] + A[r * 3 + 2] * x[2]);
    const b = Float64Array.from([1, 2, 3]);
    const cg = conjugateGradient(apply, b, 0.5, 10, 1e-12);
    const M = Float64Array.from(A);
    for (let i = 0; i < 3; i++) M[i * 3 + i] += 0.5;
    const exact = choleskySolve(cholesky(M, 3)!, 3, b);
    cg.x.forEach((v, i) => {
      expect(v).toBeCloseTo(exact[i], 10);
    });
    expect(cholesky(Float64Array.from([1, 2, 2, 1]), 2)).toBeUndefined();
  });

  it('rejects bad hyperparameters naming them', () => {
    expect(() => newton({ damping: -1 })).toThrow(/damping = -1/);
    expect(() => newton({ hvp: 'exact' as 'central' })).toThrow(/hvp/);
    expect(() => newton({ solver: 'lu' as 'cg' })).toThrow(/solver/);
    expect(() => newton({ fdScale: 0 })).toThrow(/fdScale = 0/);
  });
});
