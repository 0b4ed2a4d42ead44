import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluate } from '../../src/diagnostics/common.js';
import {
  modelValues,
  randomDirection,
  trainableValues,
  weightSpaceLine,
  weightSpacePlane,
} from '../../src/diagnostics/weightSpace.js';
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

function convModel(): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [6, 6, 2],
        filters: 4,
        kernelSize: 3,
        activation: 'relu',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }),
        biasInitializer: tf.initializers.randomUniform({ minval: -0.5, maxval: 0.5, seed: 9 }),
      }),
      tf.layers.batchNormalization(),
      tf.layers.flatten(),
      tf.layers.dense({
        units: 3,
        activation: 'softmax',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 6 }),
      }),
    ],
  });
}

/** Norm of each slice along the last axis, in float64. */
function filterNorms(values: ArrayLike<number>, shape: number[]): number[] {
  const f = shape[shape.length - 1];
  const out = new Array<number>(f).fill(0);
  for (let j = 0; j < values.length; j++) out[j % f] += values[j] ** 2;
  return out.map(Math.sqrt);
}

describe('random directions (filter normalisation, T27)', () => {
  it('every output filter of d has the norm of the same weight filter (Dense and Conv2D); 1-D params zeroed', () => {
    for (const model of [tinyMlp(5, 7, 3), convModel()]) {
      const d = randomDirection(model, { seed: 4 });
      model.trainableWeights.forEach((w, i) => {
        const theta = w.read();
        const dv = d[i].dataSync();
        if (theta.shape.length === 1) {
          expect(Array.from(dv).every((v) => v === 0)).toBe(true);
          return;
        }
        const want = filterNorms(theta.dataSync(), theta.shape);
        const got = filterNorms(dv, theta.shape);
        for (const [f, n] of want.entries()) expect(got[f]).toBeCloseTo(n, 5);
        // filters differ in norm, so this is not a whole-layer scaling
        expect(new Set(want.map((v) => v.toFixed(4))).size).toBeGreaterThan(1);
      });
      expect(
        model.trainableWeights.some((w) => w.read().shape.length === 4) || model.layers.length === 2,
      ).toBe(true);
      tf.dispose(d);
      model.dispose();
    }
  });
  it("'layer' matches whole-tensor norms, ignore 'none' copies 1-D params, and draws are seeded", () => {
    const model = convModel();
    const d = randomDirection(model, { seed: 4, normalization: 'layer', ignore: 'none' });
    model.trainableWeights.forEach((w, i) => {
      const theta = w.read();
      if (theta.shape.length === 1) expect(Array.from(d[i].dataSync())).toEqual(Array.from(theta.dataSync()));
      else expect(tf.norm(d[i]).dataSync()[0]).toBeCloseTo(tf.norm(theta).dataSync()[0], 4);
    });
    const again = randomDirection(model, { seed: 4, normalization: 'layer', ignore: 'none' });
    const other = randomDirection(model, { seed: 5, normalization: 'layer', ignore: 'none' });
    expect(
      bitEqual(
        d.map((t) => t.dataSync() as Float32Array),
        again.map((t) => t.dataSync() as Float32Array),
      ),
    ).toBe(true);
    expect(Array.from(other[0].dataSync())).not.toEqual(Array.from(d[0].dataSync()));
    tf.dispose([...d, ...again, ...other]);
    expect(() => randomDirection(model, { normalization: 'weight' as 'layer' })).toThrow(/normalization/);
    model.dispose();
  });
});

describe('weightSpaceLine', () => {
  it('interpolation endpoints reproduce the initial and final losses exactly; the model is bit-identical', async () => {
    const data = toyClassification(64, 5, 3, 2);
    const model = tinyMlp(5, 8, 3, { bn: true });
    const opt = momentum(0.2, 0.9);
    model.compile({ optimizer: opt, loss: 'categoricalCrossentropy' });
    const init = modelValues(model);
    const initLoss = evaluate(model, data).loss;
    await model.fit(data.x, data.y, { epochs: 3, batchSize: 16, verbose: 0 });
    const finalLoss = evaluate(model, data);
    const before = snapshotWeights(model);
    const optBefore = (await opt.getWeights()).map((w) => w.tensor.dataSync().slice() as Float32Array);
    const line = weightSpaceLine(model, data, {
      direction: 'interpolate',
      init,
      from: -0.5,
      to: 1.5,
      steps: 9,
    });
    expect(line.alphas[2]).toBe(0);
    expect(line.alphas[6]).toBe(1);
    expect(line.losses[2]).toBe(initLoss);
    expect(line.losses[6]).toBe(finalLoss.loss);
    expect(line.accuracies![6]).toBe(finalLoss.accuracy);
    expect(line.losses[0]).toBeGreaterThan(0);
    expect(line.batchNorm).toBe('interpolated');
    const kept = trainableValues(model);
    expect(weightSpaceLine(model, data, { direction: 'interpolate', init: kept, steps: 3 }).batchNorm).toBe(
      'kept',
    );
    tf.dispose(kept);
    expect(bitEqual(snapshotWeights(model), before)).toBe(true); // kernels, biases and BN statistics
    const optAfter = (await opt.getWeights()).map((w) => w.tensor.dataSync().slice() as Float32Array);
    expect(bitEqual(optAfter, optBefore)).toBe(true);
    tf.dispose([...init, data.x, data.y]);
    model.dispose();
  });
  it('along a given direction on least squares, the loss is the float64 quadratic', () => {
    const x = tf.tensor2d(uniformArray(40 * 3, 11), [40, 3]);
    const y = tf.tensor2d(uniformArray(40, 12), [40, 1]);
    const model = tf.sequential({
      layers: [
        tf.layers.dense({
          units: 1,
          inputShape: [3],
          useBias: false,
          kernelInitializer: tf.initializers.constant({ value: 0.3 }),
        }),
      ],
    });
    const d = [tf.tensor2d([1, -2, 0.5], [3, 1])];
    const line = weightSpaceLine(
      model,
      { x, y, loss: 'meanSquaredError' },
      { direction: d, from: -1, to: 2, steps: 7 },
    );
    const xs = x.dataSync();
    const ys = y.dataSync();
    line.alphas.forEach((a, k) => {
      const w = [0.3 + a, 0.3 - 2 * a, 0.3 + 0.5 * a];
      let s = 0;
      for (let r = 0; r < 40; r++)
        s += (xs[3 * r] * w[0] + xs[3 * r + 1] * w[1] + xs[3 * r + 2] * w[2] - ys[r]) ** 2;
      expect(line.losses[k]).toBeCloseTo(s / 40, 5);
    });
    expect(line.accuracies).toBeUndefined();
    expect(Array.from(model.getWeights()[0].dataSync())).toEqual([0.3, 0.3, 0.3].map(Math.fround));
    tf.dispose([x, y, ...d]);
    model.dispose();
  });
  it('a random line passes through the current loss at alpha = 0 and leaves no tensors behind', () => {
    const data = toyClassification(32, 5, 3, 3);
    const model = tinyMlp(5, 6, 3);
    const here = evaluate(model, data).loss;
    const n0 = tf.memory().numTensors;
    const line = weightSpaceLine(model, data, { seed: 2, steps: 11 });
    expect(tf.memory().numTensors).toBe(n0);
    expect(line.losses[5]).toBe(here);
    expect(line.normalization).toBe('filter');
    expect(() => weightSpaceLine(model, data, { direction: 'interpolate' })).toThrow(/init/);
    tf.dispose([data.x, data.y]);
    model.dispose();
  });
});

describe('weightSpacePlane', () => {
  it('the centre is the current loss, the model is bit-identical, and BN statistics are untouched', () => {
    const data = {
      x: tf.tensor4d(uniformArray(8 * 72, 3), [8, 6, 6, 2]),
      y: tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], 'int32'), 3),
    };
    const model = convModel();
    const before = snapshotWeights(model);
    const here = evaluate(model, data).loss;
    const plane = weightSpacePlane(model, data, { steps: 5, seed: 1 });
    expect(plane.losses[2][2]).toBe(here);
    expect(plane.losses.length).toBe(5);
    expect(plane.losses[0][0]).not.toBe(here);
    expect(bitEqual(snapshotWeights(model), before)).toBe(true);
    tf.dispose([data.x, data.y]);
    model.dispose();
  });
});

afterAll(() => {
  tf.disposeVariables();
});

describe('weightSpaceLine: batch-norm statistics recomputed at every alpha (§11.1)', () => {
  // Catches statistics kept (or recomputed once) along the line, a biased/unbiased variance mix-up, or a
  // running average weighted towards the last batch: a float64 forward of Dense -> BN -> Dense with the
  // statistics averaged over the four batches at theta(alpha).
  it('losses match a float64 reference that averages the batch statistics at theta(alpha); the model is restored', () => {
    const N = 64;
    const x = tf.tensor2d(uniformArray(N * 3, 41), [N, 3]);
    const y = tf.tensor2d(uniformArray(N * 2, 42), [N, 2]);
    const model = tf.sequential({
      layers: [
        tf.layers.dense({
          units: 4,
          inputShape: [3],
          kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
        }),
        tf.layers.batchNormalization(),
        tf.layers.dense({ units: 2, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
      ],
    });
    const before = snapshotWeights(model);
    const split = { x, y, loss: 'meanSquaredError' as const };
    const opts = { seed: 5, steps: 5, recomputeBatchNorm: { x, batchSize: 16 } };
    const line = weightSpaceLine(model, split, opts);
    expect(line.batchNorm).toBe('recomputed');
    expect(bitEqual(snapshotWeights(model), before)).toBe(true);
    const kept = weightSpaceLine(model, split, { seed: 5, steps: 5 });

    const X = Array.from({ length: N }, (_, i) => Array.from(x.dataSync().slice(i * 3, i * 3 + 3)));
    const Y = Array.from({ length: N }, (_, i) => Array.from(y.dataSync().slice(i * 2, i * 2 + 2)));
    const d = randomDirection(model, { seed: 5 });
    const theta = model.trainableWeights.map((w) => Array.from(w.read().dataSync()));
    const dir = d.map((t) => Array.from(t.dataSync()));
    tf.dispose(d);
    line.alphas.forEach((a, k) => {
      const [W1, b1, gamma, beta, W2, b2] = theta.map((t, i) => t.map((v, j) => v + a * dir[i][j]));
      const H = X.map((row) =>
        [0, 1, 2, 3].map((u) => row.reduce((s, v, j) => s + v * W1[j * 4 + u], b1[u])),
      );
      // The exact average over the four batches of 16 of each batch's mean and (biased) variance.
      const mean = [0, 0, 0, 0];
      const vari = [0, 0, 0, 0];
      for (let b = 0; b < 4; b++) {
        const rows = H.slice(16 * b, 16 * b + 16);
        for (let u = 0; u < 4; u++) {
          const m = rows.reduce((s, r) => s + r[u], 0) / 16;
          mean[u] += m / 4;
          vari[u] += rows.reduce((s, r) => s + (r[u] - m) ** 2, 0) / 16 / 4;
        }
      }
      let loss = 0;
      H.forEach((h, i) => {
        const z = h.map((v, u) => (gamma[u] * (v - mean[u])) / Math.sqrt(vari[u] + 1e-3) + beta[u]);
        for (let c = 0; c < 2; c++) {
          const out = z.reduce((s, v, u) => s + v * W2[u * 2 + c], b2[c]);
          loss += (out - Y[i][c]) ** 2 / (2 * N);
        }
      });
      expect(Math.abs(line.losses[k] - loss) / loss, `alpha ${a}`).toBeLessThan(1e-4);
    });
    // The option matters: with the statistics kept the losses differ away from alpha = 0.
    expect(Math.abs(kept.losses[0] - line.losses[0]) / line.losses[0]).toBeGreaterThan(1e-2);
    tf.dispose([x, y]);
    model.dispose();
  });
});
