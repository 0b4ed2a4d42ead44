import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { lrRangeTest, rangeTestLrs } from '../../src/diagnostics/rangeTest.js';
import { smoothDebiased, smoothEma } from '../../src/diagnostics/suggest.js';
import { momentum } from '../../src/optimizers/baselines.js';
import {
  bitEqual,
  snapshotWeights,
  tinyMlp,
  toyClassification,
  uniformArray,
  useBackend,
} from '../helpers/tf.js';

beforeAll(async () => {
  await useBackend('cpu');
});

/** Least squares y = X w, one linear unit without bias, MSE. */
function leastSquares(n = 32, d = 3) {
  const x = tf.tensor2d(uniformArray(n * d, 21), [n, d]);
  const y = tf.tensor2d(uniformArray(n, 22), [n, 1]);
  const model = tf.sequential({
    layers: [
      tf.layers.dense({
        units: 1,
        inputShape: [d],
        useBias: false,
        kernelInitializer: tf.initializers.zeros(),
      }),
    ],
  });
  return { x, y, model, n, d };
}

/** The same test in float64: full-batch gradient descent with the schedule, smoothing and stop rule. */
function oracle(
  xs: Float32Array,
  ys: Float32Array,
  n: number,
  d: number,
  lrs: number[],
  smooth: (l: number[]) => number[],
  thr: number,
) {
  const w = new Array<number>(d).fill(0);
  const losses: number[] = [];
  let best = Number.POSITIVE_INFINITY;
  for (const lr of lrs) {
    const r = Array.from({ length: n }, (_, i) => w.reduce((s, wj, j) => s + xs[i * d + j] * wj, 0) - ys[i]);
    losses.push(r.reduce((s, v) => s + v * v, 0) / n);
    const g = w.map((_, j) => (2 / n) * r.reduce((s, ri, i) => s + ri * xs[i * d + j], 0));
    for (let j = 0; j < d; j++) w[j] -= lr * g[j];
    const sm = smooth(losses);
    const s = sm[sm.length - 1];
    best = Math.min(best, s);
    if (s > thr * best) return { losses, smoothed: sm, stop: 'diverged' };
  }
  return { losses, smoothed: smooth(losses), stop: 'end' };
}

describe('learning-rate schedules', () => {
  it('fastai never reaches endLr; lr-finder does; linear mode', () => {
    const f = rangeTestLrs('fastai', 1e-7, 10, 100, 'exp');
    expect(f[0]).toBe(1e-7);
    expect(f[99]).toBeCloseTo(1e-7 * 1e8 ** 0.99, 12);
    const l = rangeTestLrs('lrFinder', 1e-3, 1, 4, 'exp');
    expect(l[3]).toBeCloseTo(1, 14);
    expect(rangeTestLrs('lrFinder', 1, 4, 4, 'linear')).toEqual([1, 2, 3, 4]);
  });
});

describe('lrRangeTest', () => {
  it('fastai style matches a float64 re-implementation on least squares and stops at 4x best', async () => {
    const { x, y, model, n, d } = leastSquares();
    const r = await lrRangeTest(
      model,
      { train: { x, y } },
      { loss: 'meanSquaredError', batchSize: 32, startLr: 1e-3, endLr: 100, numIt: 60 },
    );
    const lrs = rangeTestLrs('fastai', 1e-3, 100, 60, 'exp');
    const o = oracle(
      x.dataSync() as Float32Array,
      y.dataSync() as Float32Array,
      n,
      d,
      lrs,
      (l) => smoothDebiased(l),
      4,
    );
    expect(r.stopped).toBe(o.stop);
    expect(r.lrs.length).toBe(o.losses.length);
    // float32 and float64 agree closely until the blow-up, where rounding differences are amplified
    const calm = r.lrs.length - 5;
    for (let i = 0; i < calm; i++) expect(r.losses[i] / o.losses[i]).toBeCloseTo(1, 5);
    for (let i = 0; i < calm; i++) expect(r.smoothed[i] / o.smoothed[i]).toBeCloseTo(1, 5);
    // the stability limit of gradient descent on this quadratic is 2/lambda_max of (2/n) X^T X
    const H = tf.tidy(() => tf.mul(tf.matMul(x, x, true, false), 2 / n).arraySync() as number[][]);
    let v = [1, 1, 1];
    for (let k = 0; k < 200; k++) {
      const hv = H.map((row) => row.reduce((s, h, j) => s + h * v[j], 0));
      const norm = Math.hypot(...hv);
      v = hv.map((e) => e / norm);
    }
    const lambda = H.map((row) => row.reduce((s, h, j) => s + h * v[j], 0)).reduce(
      (s, e, i) => s + e * v[i],
      0,
    );
    expect(r.suggestion).toBeLessThan(2 / lambda);
    expect(r.divergedAt!).toBeGreaterThan(2 / lambda);
    expect(Array.from(model.getWeights()[0].dataSync())).toEqual([0, 0, 0]);
    tf.dispose([x, y]);
    model.dispose();
  });
  it('lr-finder style: EMA 0.05 on the new value, reaches endLr, steepest-gradient suggestion', async () => {
    const { x, y, model, n, d } = leastSquares();
    const r = await lrRangeTest(
      model,
      { train: { x, y } },
      { style: 'lrFinder', loss: 'meanSquaredError', batchSize: 32, startLr: 1e-3, endLr: 0.05, numIt: 30 },
    );
    const lrs = rangeTestLrs('lrFinder', 1e-3, 0.05, 30, 'exp');
    const o = oracle(
      x.dataSync() as Float32Array,
      y.dataSync() as Float32Array,
      n,
      d,
      lrs,
      (l) => smoothEma(l),
      5,
    );
    expect(r.stopped).toBe('end');
    expect(r.lrs[29]).toBeCloseTo(0.05, 12);
    for (const [i, v] of r.smoothed.entries()) expect(v / o.smoothed[i]).toBeCloseTo(1, 4);
    // pytorch-lr-finder: argmin of np.gradient over smoothed[10 : n-5] (catches a wrong skip window, an
    // argmax, or the raw curve instead of the smoothed one), computed here on the float64 oracle's curve.
    const win = o.smoothed.slice(10, 25);
    const grad = win.map((_, i) =>
      i === 0 ? win[1] - win[0] : i === win.length - 1 ? win[i] - win[i - 1] : (win[i + 1] - win[i - 1]) / 2,
    );
    const best = grad.indexOf(Math.min(...grad));
    expect(r.suggestions.steepest!.index).toBe(10 + best);
    expect(r.suggestions.steepest!.lr).toBe(r.lrs[10 + best]);
    expect(r.rule).toBe('valley');
    const steep = await lrRangeTest(
      model,
      { train: { x, y } },
      {
        style: 'lrFinder',
        rule: 'steepest',
        loss: 'meanSquaredError',
        batchSize: 32,
        startLr: 1e-3,
        endLr: 0.05,
        numIt: 30,
      },
    );
    expect(steep.rule).toBe('steepest');
    expect(steep.suggestion).toBe(steep.suggestions.steepest!.lr);
    expect(steep.suggestions.steepest!.lr).toBe(r.suggestions.steepest!.lr); // same data, same seed, same curve
    tf.dispose([x, y]);
    model.dispose();
  });
  it('restores weights, BN statistics and the compiled optimizer state bit for bit, without leaking tensors', async () => {
    const data = toyClassification(96, 6, 3, 4);
    const model = tinyMlp(6, 10, 3, { bn: true, dropout: 0.2 });
    const opt = momentum(0.1, 0.9);
    model.compile({ optimizer: opt, loss: 'categoricalCrossentropy' });
    await model.fit(data.x, data.y, { epochs: 1, batchSize: 32, verbose: 0 });
    const w0 = snapshotWeights(model);
    const o0 = (await opt.getWeights()).map((w) => w.tensor.dataSync().slice() as Float32Array);
    const n0 = tf.memory().numTensors;
    for (const variant of ['sgd', 'momentum', 'adam'] as const) {
      const r = await lrRangeTest(model, { train: data }, { variant, numIt: 40, batchSize: 16 });
      expect(r.lrs.length).toBeGreaterThan(10);
      expect(Number.isFinite(r.suggestion)).toBe(true);
    }
    expect(tf.memory().numTensors).toBe(n0);
    expect(bitEqual(snapshotWeights(model), w0)).toBe(true);
    const o1 = (await opt.getWeights()).map((w) => w.tensor.dataSync().slice() as Float32Array);
    expect(bitEqual(o1, o0)).toBe(true);
    tf.dispose([data.x, data.y]);
    model.dispose();
  });
  it('per-epoch increase with validation: one rate per epoch, the recorded loss is the validation loss after it', async () => {
    const train = toyClassification(64, 5, 3, 5);
    const validation = toyClassification(40, 5, 3, 6);
    const model = tinyMlp(5, 8, 3);
    const r = await lrRangeTest(
      model,
      { train, validation },
      {
        increase: 'epoch',
        validation: true,
        numIt: 8,
        startLr: 1e-3,
        endLr: 30,
        batchSize: 16,
        stopDiv: false,
      },
    );
    expect(r.lrs.length).toBe(8);
    expect(r.batches).toBe(8 * 4);
    expect(r.smoothed).toEqual(r.losses); // no smoothing by default in epoch/validation mode
    expect(r.accuracies!.length).toBe(8);
    expect(r.initialLoss).toBeGreaterThan(0.5);
    await expect(lrRangeTest(model, { train }, { validation: true })).rejects.toThrow(/validation/);
    tf.dispose([train.x, train.y, validation.x, validation.y]);
    model.dispose();
  });
  it('non-finite losses stop the test and never reach the restored weights; negative losses do not stop it early', async () => {
    const { x, y, model } = leastSquares();
    const r = await lrRangeTest(
      model,
      { train: { x, y } },
      { loss: 'meanSquaredError', batchSize: 32, startLr: 1, endLr: 1e30, numIt: 60, stopDiv: false },
    );
    expect(r.stopped).toBe('nonFinite');
    expect(Array.from(model.getWeights()[0].dataSync())).toEqual([0, 0, 0]);
    // a loss with a sign bug is negative and falls: 4*best would be below best; the test must go on
    const neg = await lrRangeTest(
      model,
      { train: { x, y } },
      {
        loss: (t, p) => tf.neg(tf.square(tf.sub(t, p))),
        batchSize: 32,
        startLr: 1e-4,
        endLr: 1e-2,
        numIt: 20,
      },
    );
    expect(neg.lrs.length).toBe(20);
    expect(neg.stopped).toBe('end');
    tf.dispose([x, y]);
    model.dispose();
  });
  it('1000 steps leave the tensor count where it was (momentum variant, BN + dropout model)', async () => {
    const data = toyClassification(64, 4, 3, 12);
    const model = tinyMlp(4, 6, 3, { bn: true, dropout: 0.1 });
    const n0 = tf.memory().numTensors;
    const r = await lrRangeTest(
      model,
      { train: data },
      { variant: 'momentum', numIt: 1000, startLr: 1e-6, endLr: 1e-2, stopDiv: false, batchSize: 16 },
    );
    expect(r.batches).toBe(1000);
    expect(tf.memory().numTensors).toBe(n0);
    tf.dispose([data.x, data.y]);
    model.dispose();
  });
  it('bad options name the parameter', async () => {
    const { x, y, model } = leastSquares();
    await expect(lrRangeTest(model, { train: { x, y } }, { startLr: -1 })).rejects.toThrow(/startLr = -1/);
    await expect(lrRangeTest(model, { train: { x, y } }, { style: 'keras' as 'fastai' })).rejects.toThrow(
      /style/,
    );
    await expect(lrRangeTest(model, { train: { x, y } }, { numLr: 3 } as object)).rejects.toThrow(/numLr/);
    tf.dispose([x, y]);
    model.dispose();
  });
});
