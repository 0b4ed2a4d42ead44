import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { chunkEvaluation } from '../../src/diagnostics/chunkEvaluation.js';
import { evaluate, type LossSpec, sliceRows } from '../../src/diagnostics/common.js';
import { tinyMlp, toyClassification, useBackend } from '../helpers/tf.js';

beforeAll(async () => {
  await useBackend('cpu');
});

/** The old way: `evaluate` on each chunk separately (10 forward passes). */
function chunkByChunk(model: tf.LayersModel, split: { x: tf.Tensor; y: tf.Tensor }, loss?: LossSpec, k = 10) {
  const n = split.x.shape[0];
  const size = Math.floor(n / k);
  return Array.from({ length: k }, (_, i) => {
    const len = i === k - 1 ? n - i * size : size;
    const part = { x: sliceRows(split.x, i * size, len), y: sliceRows(split.y, i * size, len) };
    const e = evaluate(model, part, loss);
    tf.dispose([part.x, part.y]);
    return e;
  });
}

describe('chunkEvaluation: one forward pass, the same chunks as evaluating each chunk on its own', () => {
  it('cross-entropy, squared error, a per-example custom loss and a scalar custom loss; accuracy; no tensor left', () => {
    const data = toyClassification(1234, 8, 3, 5);
    const model = tinyMlp(8, 7, 3);
    const before = tf.memory().numTensors;
    const losses: (LossSpec | undefined)[] = [
      undefined,
      'meanSquaredError',
      (y, p) => tf.sum(tf.abs(tf.sub(y, p)), 1),
      (y, p) => tf.mean(tf.abs(tf.sub(y, p))),
    ];
    for (const loss of losses) {
      // batchSize 500: the predictions come in three pieces that the chunks straddle
      const e = chunkEvaluation(model, data, loss, 10, 500);
      const old = chunkByChunk(model, data, loss);
      expect(e.chunks).toHaveLength(10);
      for (let i = 0; i < 10; i++) expect(e.chunks[i]).toBeCloseTo(old[i].loss, 5);
      const whole = evaluate(model, data, loss);
      expect(e.loss).toBeCloseTo(whole.loss, 5);
      expect(e.accuracy).toBeCloseTo(whole.accuracy!, 10);
    }
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
    tf.dispose([data.x, data.y]);
  });

  it('fewer rows than chunks: one chunk per row; regression targets have no accuracy', () => {
    const x = tf.tensor2d([[1], [2], [3]]);
    const y = tf.tensor2d([[1], [1], [1]]);
    const model = tf.sequential({
      layers: [tf.layers.dense({ units: 1, inputShape: [1], useBias: false, kernelInitializer: 'ones' })],
    });
    const e = chunkEvaluation(model, { x, y }, 'meanSquaredError');
    expect(e.chunks).toEqual([0, 1, 4]);
    expect(e.loss).toBeCloseTo(5 / 3, 6);
    expect(e.accuracy).toBeUndefined();
    model.dispose();
    tf.dispose([x, y]);
  });
});

describe('evaluate: each 1000-row batch predicted at once', () => {
  it('the same loss and accuracy as predicting in 32-row batches (the TF.js default); no tensor left', () => {
    const data = toyClassification(2345, 8, 3, 7);
    const model = tinyMlp(8, 7, 3, { bn: true, dropout: 0.3 });
    const before = tf.memory().numTensors;
    const e = evaluate(model, data);
    const reference = tf.tidy(() => {
      const p = model.predict(data.x, { batchSize: 32 }) as tf.Tensor;
      const loss = tf.mean(tf.metrics.categoricalCrossentropy(data.y, p)).dataSync()[0];
      const right = tf.sum(tf.cast(tf.equal(tf.argMax(p, 1), tf.argMax(data.y, 1)), 'float32')).dataSync()[0];
      return { loss, accuracy: right / 2345 };
    });
    expect(e.accuracy).toBe(reference.accuracy);
    // evaluate sums three batch means (1000, 1000, 345 rows) in double precision: equal up to float32 rounding
    expect(e.loss).toBeCloseTo(reference.loss, 6);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
    tf.dispose([data.x, data.y]);
  });
});
