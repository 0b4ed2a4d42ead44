/**
 * Batch-norm statistics recomputed at an evaluation point are reproducible when Dropout comes before the
 * batch norm: the recomputing forwards run in training mode, and their Dropout masks come from a seed.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { recomputeBatchNorm, restoreBatchNorm } from '../../src/core/batchNorm.js';
import { withEvalPoint } from '../../src/core/evalPoint.js';
import { modelVariables } from '../../src/core/params.js';
import { auto } from '../../src/optimizers/auto.js';
import { bitEqual, snapshotWeights, uniformArray, useBackend } from '../helpers/tf.js';

beforeAll(async () => {
  await useBackend('cpu');
});

/** Dense -> Dropout 0.5 -> BatchNorm -> Dense, seeded weights. */
function dropoutBeforeBn(): tf.LayersModel {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({
        inputShape: [6],
        units: 8,
        kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
      }),
      tf.layers.dropout({ rate: 0.5 }),
      tf.layers.batchNormalization(),
      tf.layers.dense({ units: 2, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
    ],
  });
  return model;
}

const statistics = (model: tf.LayersModel) =>
  model.nonTrainableWeights.map((w) => w.read().dataSync().slice() as Float32Array);

describe('recomputeBatchNorm with Dropout before the batch norm', () => {
  it('gives the same statistics for the same weights and seed, other statistics for another seed', () => {
    const model = dropoutBeforeBn();
    const x = tf.tensor2d(uniformArray(64 * 6, 3), [64, 6]);
    const random = Math.random;
    const first = recomputeBatchNorm({ model, x, batchSize: 16 });
    const a = statistics(model);
    restoreBatchNorm(model, first);
    const second = recomputeBatchNorm({ model, x, batchSize: 16 });
    const b = statistics(model);
    restoreBatchNorm(model, second);
    const third = recomputeBatchNorm({ model, x, batchSize: 16, seed: 7 });
    const c = statistics(model);
    restoreBatchNorm(model, third);
    expect(bitEqual(a, b)).toBe(true);
    expect(bitEqual(a, c)).toBe(false);
    // Math.random is the caller's again afterwards.
    expect(Math.random).toBe(random);
    expect(() => recomputeBatchNorm({ model, x, seed: 0.5 })).toThrow(/seed/);
    x.dispose();
    model.dispose();
  });

  it('an evaluation point with batch-norm recomputation predicts the same twice (auto, Schedule-Free base)', () => {
    const model = dropoutBeforeBn();
    const x = tf.tensor2d(uniformArray(64 * 6, 5), [64, 6]);
    const y = tf.oneHot(
      tf.tensor1d(
        Array.from({ length: 64 }, (_, i) => i % 2),
        'int32',
      ),
      2,
    );
    const opt = auto();
    const vars = modelVariables(model);
    for (let s = 0; s < 5; s++) {
      opt.minimize(
        () =>
          tf.tidy(
            () =>
              tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
          ),
        false,
        vars,
      );
    }
    const predict = () =>
      withEvalPoint(opt, { model, trainX: x, batchSize: 16 }, () =>
        tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync().slice()),
      );
    const before = snapshotWeights(model);
    const p1 = predict();
    const p2 = predict();
    expect(Array.from(p1)).toEqual(Array.from(p2));
    // The training point and its statistics are back, bit for bit.
    expect(bitEqual(snapshotWeights(model), before)).toBe(true);
    opt.dispose();
    tf.dispose([x, y]);
    model.dispose();
  });
});
