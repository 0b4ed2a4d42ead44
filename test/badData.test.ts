/**
 * Bad data never reaches any state (issue #20, item 1): one NaN row in a `model.fit` batch on a
 * batch-norm model, for every catalog optimizer and for the Alrao model. The moving statistics (and the
 * weights) must be finite and bit-equal (cpu) to a run that never saw that batch, predictions finite, and
 * the skip reported once with its count.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { wrap } from '../src/alrao/model.js';
import * as lrfree from '../src/index.js';
import { bitEqual, snapshotWeights, tinyMlp, uniformArray, useBackend } from './helpers/tf.js';

const N = 32;
const D = 5;
const K = 3;
const BATCH = 8;
const BAD_BATCH = 2; // rows 16..23; row 17 gets a NaN
const EPOCHS = 1;

beforeAll(async () => {
  await useBackend('cpu');
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** Inputs and one-hot labels, plus the same inputs with one NaN in the bad batch, and both without it. */
function datasets() {
  const xs = uniformArray(N * D, 11);
  const labels = Array.from({ length: N }, (_, i) => (i * 7) % K);
  const bad = xs.slice();
  bad[(BAD_BATCH * BATCH + 1) * D] = Number.NaN;
  const keep = Array.from({ length: N }, (_, i) => i).filter((i) => Math.floor(i / BATCH) !== BAD_BATCH);
  const rows = (a: Float32Array, idx: number[]) =>
    tf.tensor2d(Float32Array.from(idx.flatMap((i) => Array.from(a.subarray(i * D, (i + 1) * D)))), [
      idx.length,
      D,
    ]);
  const all = Array.from({ length: N }, (_, i) => i);
  const oneHot = (idx: number[]) =>
    tf
      .oneHot(
        tf.tensor1d(
          idx.map((i) => labels[i]),
          'int32',
        ),
        K,
      )
      .toFloat();
  return {
    poisoned: { x: rows(bad, all), y: oneHot(all) },
    without: { x: rows(xs, keep), y: oneHot(keep) },
    labels,
    clean: rows(xs, all),
  };
}

function finite(arrays: Float32Array[]): boolean {
  return arrays.every((a) => a.every(Number.isFinite));
}

describe('a NaN row in model.fit on a batch-norm model', () => {
  const names = lrfree.catalog().map((e) => e.name);

  it.each(names)(
    '%s: statistics and weights equal a run without that batch; predictions finite',
    async (name) => {
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
      const { poisoned, without, clean } = datasets();
      const run = async (data: { x: tf.Tensor; y: tf.Tensor }) => {
        const model = tinyMlp(D, 7, K, { bn: true });
        const opt = lrfree.catalogEntry(name).make({ stepsPerEpoch: N / BATCH, totalSteps: 8, seed: 3 });
        model.compile({ optimizer: opt, loss: 'categoricalCrossentropy' });
        await model.fit(data.x, data.y, { batchSize: BATCH, epochs: EPOCHS, shuffle: false, verbose: 0 });
        const stats = model.nonTrainableWeights.map((w) => w.read().dataSync().slice() as Float32Array);
        const weights = snapshotWeights(model);
        const pred = tf.tidy(() => (model.predict(clean) as tf.Tensor).dataSync().slice() as Float32Array);
        const out = { stats, weights, pred, skipped: opt.counters.skipped, steps: opt.counters.steps };
        opt.dispose();
        model.dispose();
        return out;
      };
      const a = await run(poisoned);
      const warnings = warn.mock.calls.map((c) => String(c[0]));
      const b = await run(without);
      expect(a.skipped).toBe(EPOCHS);
      expect(b.skipped).toBe(0);
      expect(a.steps).toBe(b.steps);
      expect(a.stats.length).toBe(2); // moving mean and variance
      expect(finite(a.stats)).toBe(true);
      expect(bitEqual(a.stats, b.stats)).toBe(true);
      expect(bitEqual(a.weights, b.weights)).toBe(true);
      expect(a.pred.every(Number.isFinite)).toBe(true);
      // Reported once, with the count, at the end of the fit run.
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/model\.fit skipped 1 step\b/);
      tf.dispose([poisoned.x, poisoned.y, without.x, without.y, clean]);
    },
  );

  it('the Alrao model: pre-classifier statistics and weights equal a run without that batch', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const { poisoned, without, clean } = datasets();
    const pre = () => {
      const input = tf.input({ shape: [D] });
      let h = tf.layers
        .dense({ units: 6, kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) })
        .apply(input) as tf.SymbolicTensor;
      h = tf.layers.batchNormalization().apply(h) as tf.SymbolicTensor;
      h = tf.layers.activation({ activation: 'tanh' }).apply(h) as tf.SymbolicTensor;
      return tf.model({ inputs: input, outputs: h });
    };
    const run = async (data: { x: tf.Tensor; y: tf.Tensor }) => {
      const model = wrap(pre(), { classes: K, copies: 3, minLr: 1e-3, maxLr: 1, seed: 4 });
      await model.fit(data.x, data.y, { batchSize: BATCH, epochs: EPOCHS, shuffle: false, verbose: 0 });
      const pc = model.preClassifier;
      const stats = pc.nonTrainableWeights.map((w) => w.read().dataSync().slice() as Float32Array);
      const pred = tf.tidy(() => model.predict(clean).dataSync().slice() as Float32Array);
      return { stats, weights: snapshotWeights(pc), pred, skipped: model.skipped };
    };
    const a = await run(poisoned);
    const warnings = warn.mock.calls.map((c) => String(c[0]));
    const b = await run(without);
    expect(a.skipped).toBe(EPOCHS);
    expect(b.skipped).toBe(0);
    expect(a.stats.length).toBe(2);
    expect(finite(a.stats)).toBe(true);
    expect(bitEqual(a.stats, b.stats)).toBe(true);
    expect(bitEqual(a.weights, b.weights)).toBe(true);
    expect(a.pred.every(Number.isFinite)).toBe(true);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/skipped 1 step\b/);
    tf.dispose([poisoned.x, poisoned.y, without.x, without.y, clean]);
  });
});
