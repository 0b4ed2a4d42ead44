import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patchWasm } from '../../src/backend/patchWasm.js';
import { knownToBeFinite } from '../../src/backend/wasm/finiteMemo.js';
import {
  ALL_FINITE,
  STEP_ALONG,
  SUM_OF_SQUARES,
  stepKernelConfigs,
  stepKernelsAvailable,
} from '../../src/backend/wasm/stepKernels.js';
import { allFinite, lossAndSquaredNorms, stepAlong } from '../../src/core/stepKernels.js';
import { adamMoments } from '../../src/directions/adamMoments.js';
import { adam, sgd } from '../../src/optimizers/baselines.js';
import { adamSls } from '../../src/optimizers/lineSearch.js';
import { snapshotWeights, tinyMlp, toyClassification } from '../helpers/tf.js';
import { data, kernel, on, relErr } from './compare.js';

/** Shapes with every remainder mod 4, a scalar, an empty tensor and a layer's kernel. */
const SHAPES = [[], [1], [2], [3], [4], [5], [7, 9], [3, 5, 7], [0], [784, 128], [1000, 3]];

/** Whether the fused kernels remembered `t` as finite. */
const knownFinite = (t: tf.Tensor) => knownToBeFinite({ dataId: t.dataId, shape: t.shape, dtype: t.dtype });

/** Runs `f` with the step kernels unregistered (the TF.js-ops path), then puts them back. */
function withoutStepKernels<T>(f: () => T): T {
  for (const c of stepKernelConfigs) tf.unregisterKernel(c.kernelName, 'wasm');
  try {
    expect(stepKernelsAvailable()).toBe(false);
    return f();
  } finally {
    for (const c of stepKernelConfigs) tf.registerKernel(c);
  }
}

/** Bit patterns that differ between two arrays (NaN equals NaN, -0 differs from 0). */
function differing(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let n = 0;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) n++;
  return n;
}

describe("the optimizer core's step kernels on patched wasm", () => {
  beforeAll(async () => {
    const names = patchWasm();
    for (const k of [SUM_OF_SQUARES, ALL_FINITE, STEP_ALONG]) expect(names).toContain(k);
    await tf.setBackend('wasm');
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('are used on wasm and not on cpu', async () => {
    expect(stepKernelsAvailable()).toBe(true);
    await tf.setBackend('cpu');
    expect(stepKernelsAvailable()).toBe(false);
    await tf.setBackend('wasm');
  });

  it.each(SHAPES)(
    'sum of squares: bit-identical to tf.sum(tf.square(x)) on wasm and close to cpu (%j)',
    async (...shape) => {
      const make = () => [tf.tensor(data(shape, 1), shape), tf.tensor(data([13], 2), [13]).mul(1e3)];
      const fused = tf.tidy(() => Float32Array.from(lossAndSquaredNorms(undefined, make()).squaredNorms));
      const ops = withoutStepKernels(() =>
        tf.tidy(() => Float32Array.from(lossAndSquaredNorms(undefined, make()).squaredNorms)),
      );
      // Stock wasm's Sum of an empty tensor returns uninitialised memory; the fused kernel gives cpu's 0.
      if (shape.includes(0)) expect(fused[0]).toBe(0);
      else expect(differing(fused, ops)).toBe(0);
      expect(differing(fused.subarray(1), ops.subarray(1))).toBe(0);
      // cpu adds in another order: float32 round-off apart.
      const [cpu] = await on('cpu', () => tf.stack(make().map((x) => tf.sum(tf.square(x)))));
      await tf.setBackend('wasm');
      expect(relErr(fused, cpu)).toBeLessThan(1e-5);
    },
  );

  it('sum of squares reads the loss too, and reads NaN and infinity through', () => {
    const loss = tf.scalar(2.5);
    const g = tf.tensor([1, Number.NaN, 3, 4, 5]);
    const h = tf.tensor([1, 2, Number.POSITIVE_INFINITY]);
    const r = lossAndSquaredNorms(loss, [g, h]);
    expect(r.loss).toBe(2.5);
    expect(r.squaredNorms[0]).toBeNaN();
    expect(r.squaredNorms[1]).toBe(Number.POSITIVE_INFINITY);
    tf.dispose([loss, g, h]);
  });

  it('all finite: the same verdict as the ops path for NaN or infinity at every position', () => {
    const values = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
    for (const n of [1, 3, 4, 5, 8, 17]) {
      for (let at = 0; at < n; at++) {
        for (const bad of values) {
          const x = data([n], at + 1);
          x[at] = bad;
          const t = tf.tensor(x);
          const fine = tf.tensor(data([6], 9));
          expect(allFinite([fine, t])).toBe(false);
          expect(withoutStepKernels(() => allFinite([fine, t]))).toBe(false);
          tf.dispose([t, fine]);
        }
      }
    }
  });

  it('all finite: true for extreme but finite values, -0, subnormals, integers and empty lists', () => {
    const edge = tf.tensor([3.4e38, -3.4e38, -0, 1e-45, -1e-45, 1.17e-38, 0, 1]);
    const ints = tf.tensor([1, 2, 3], [3], 'int32');
    const empty = tf.zeros([0]);
    expect(allFinite([edge, ints, empty])).toBe(true);
    expect(withoutStepKernels(() => allFinite([edge, ints, empty]))).toBe(true);
    expect(allFinite([])).toBe(true);
    expect(allFinite([ints])).toBe(true);
    tf.dispose([edge, ints, empty]);
  });

  it.each(SHAPES)(
    'step along: bit-identical to add(mul(scale, d), base) on wasm and on cpu (%j)',
    async (...shape) => {
      for (const scale of [-1e-3, -0.37, 1, -3.3e4]) {
        const make = () => [tf.tensor(data(shape, 3), shape), tf.tensor(data(shape, 4), shape)];
        const fused = tf.tidy(() => {
          const [base, d] = make();
          return Float32Array.from(stepAlong(base, d, scale).dataSync());
        });
        const ops = tf.tidy(() => {
          const [base, d] = make();
          return Float32Array.from(tf.add(tf.mul(tf.scalar(scale), d), base).dataSync());
        });
        expect(differing(fused, ops)).toBe(0);
        const [cpu] = await on('cpu', () => {
          const [base, d] = make();
          return stepAlong(base, d, scale);
        });
        await tf.setBackend('wasm');
        expect(differing(fused, cpu)).toBe(0);
      }
    },
  );

  it('all finite trusts what the fused Adam and step kernels checked as they wrote, and only that', () => {
    const values = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
    for (const n of [1, 3, 4, 5, 8, 17]) {
      for (let at = 0; at < n; at++) {
        for (const bad of values) {
          const g = tf.tensor(data([n], at + 2));
          const base = tf.tensor(data([n], at + 3));
          const dBad = data([n], at + 4);
          dBad[at] = bad;
          const d = tf.tensor(dBad);
          // Finite inputs: Adam's m and v and the step's output are remembered as finite.
          const { m, v } = adamMoments(
            g,
            g,
            tf.abs(g),
            { beta1: 0.9, beta2: 0.999, epsilon: 1e-7, step: 3 },
            false,
          );
          const next = stepAlong(base, g, -0.5);
          expect([m, v, next].map(knownFinite)).toEqual([true, true, true]);
          expect(allFinite([m, v, next])).toBe(true);
          // A bad value in the gradient or the direction: nothing remembered, and the check sees it.
          const bm = adamMoments(
            d,
            g,
            tf.abs(g),
            { beta1: 0.9, beta2: 0.999, epsilon: 1e-7, step: 3 },
            false,
          );
          const bnext = stepAlong(base, d, -0.5);
          expect([bm.m, bm.v, bnext].map(knownFinite)).toEqual([false, false, false]);
          expect(allFinite([bm.m])).toBe(false);
          expect(allFinite([bm.v])).toBe(false);
          expect(allFinite([next, bnext])).toBe(false);
          tf.dispose([g, base, d, m, v, next, bm.m, bm.v, bm.d, bnext]);
        }
      }
    }
    // Overflow of finite inputs: 3e38 + 3e38 is infinite.
    const big = tf.tensor([3e38, 1, 3e38, 2, 3e38]);
    const over = stepAlong(big, big, 1);
    expect(knownFinite(over)).toBe(false);
    expect(allFinite([over])).toBe(false);
    tf.dispose([big, over]);
  });

  it('step along: the ops inside a gradient tape (the kernel has no gradient)', () => {
    const base = tf.tensor([1, 2, 3]);
    const d = tf.tensor([0.5, -1, 2]);
    const [gBase, gD] = tf.grads((b: tf.Tensor, x: tf.Tensor) => tf.sum(stepAlong(b, x, -2)))([base, d]);
    expect(Array.from(gBase.dataSync())).toEqual([1, 1, 1]);
    expect(Array.from(gD.dataSync())).toEqual([-2, -2, -2]);
    tf.dispose([base, d, gBase, gD]);
  });

  it('reject bad inputs with a clear error', () => {
    const a = tf.zeros([4]);
    expect(() => kernel(STEP_ALONG, { base: a, d: tf.zeros([2, 2]) }, { scale: 1 })).toThrow(/one shape/);
    expect(() => kernel(STEP_ALONG, { base: a, d: tf.zeros([4], 'int32') }, { scale: 1 })).toThrow(/float32/);
    expect(() => kernel(SUM_OF_SQUARES, { x0: a, x2: a }, {})).toThrow(/x0, x1/);
    expect(() => kernel(SUM_OF_SQUARES, { x0: tf.zeros([3], 'int32') }, {})).toThrow(/float32/);
  });

  it('leak no tensors', () => {
    const g = [tf.tensor(data([300], 4)), tf.tensor(data([7], 5))];
    const before = tf.memory().numTensors;
    for (let k = 0; k < 50; k++) {
      lossAndSquaredNorms(undefined, g);
      allFinite(g);
      stepAlong(g[0], g[0], 0.5).dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(g);
  });

  it('an update that overflows the weights is skipped on both paths', () => {
    const run = () => {
      const w = tf.variable(tf.tensor([3e38, 2, 3, 4, 5]));
      const c = tf.tensor([-1, 1, 1, 1, 1]);
      const opt = sgd(1e38);
      const warn = console.warn;
      console.warn = () => {};
      try {
        // Loss, gradient (c) and eta are finite; w - 1e38 * c overflows float32 in the first entry only.
        opt.minimize(() => tf.sum(tf.mul(w, c)) as tf.Scalar, false, [w]);
      } finally {
        console.warn = warn;
      }
      const out = {
        w: Array.from(w.dataSync()),
        skipped: opt.counters.skipped,
        why: opt.lastStep.skipReason,
      };
      tf.dispose([w, c]);
      opt.dispose();
      return out;
    };
    const fused = run();
    expect(fused.skipped).toBe(1);
    expect(fused.why).toBe('update');
    expect(fused.w).toEqual([3e38, 2, 3, 4, 5].map(Math.fround));
    expect(withoutStepKernels(run)).toEqual(fused);
  });

  it.each([
    ['adam', () => adam(0.01, { seed: 1 })],
    ['sgd', () => sgd(0.1)],
    ['adamSls (line search)', () => adamSls({ seed: 3 })],
  ])('%s trains to the same weights, losses and skips with and without them', (_, make) => {
    const train = () => {
      const model = tinyMlp(6, 8, 3);
      const { x, y } = toyClassification(64, 6, 3, 5);
      const bad = x.mul(Number.NaN);
      const opt = make();
      const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
      const losses: number[] = [];
      for (let s = 0; s < 15; s++) {
        // Step 7 sees NaN inputs: the guard must skip it on both paths.
        const input = s === 7 ? bad : x;
        const f = () =>
          tf.mean(tf.metrics.categoricalCrossentropy(y, model.apply(input) as tf.Tensor)) as tf.Scalar;
        opt.minimize(f, false, vars);
        losses.push(opt.lastStep.loss);
      }
      const out = { w: snapshotWeights(model), losses, skipped: opt.counters.skipped };
      tf.dispose([x, y, bad]);
      opt.dispose();
      model.dispose();
      return out;
    };
    const warn = console.warn;
    console.warn = () => {};
    try {
      const before = tf.memory().numTensors;
      const fused = train();
      expect(tf.memory().numTensors).toBe(before);
      const ops = withoutStepKernels(train);
      expect(fused.skipped).toBe(1);
      expect(ops.skipped).toBe(1);
      expect(fused.losses).toEqual(ops.losses);
      expect(fused.w.map((w) => Array.from(w))).toEqual(ops.w.map((w) => Array.from(w)));
    } finally {
      console.warn = warn;
    }
  });
});
