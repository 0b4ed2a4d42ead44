import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { hasEvalPoint, withEvalPoint } from '../src/core/evalPoint.js';
import { modelVariables } from '../src/core/params.js';
import { adam, scheduleFreeSgd } from '../src/index.js';
import { bitEqual, snapshotWeights, tinyMlp, toyClassification, useBackend } from './helpers/tf.js';

function train(model: tf.LayersModel, opt: tf.Optimizer, steps: number) {
  const { x, y } = toyClassification(64, 6, 3, 5);
  for (let i = 0; i < steps; i++) {
    opt.minimize(
      () => tf.losses.meanSquaredError(y, model.apply(x, { training: true }) as tf.Tensor),
      false,
      modelVariables(model),
    );
  }
  return { x, y };
}

describe('evaluation point contract', () => {
  beforeAll(() => useBackend('cpu'));

  it('a method without one runs fn plainly and leaves the weights alone', () => {
    const model = tinyMlp(6, 8, 3);
    const opt = adam(1e-2);
    train(model, opt, 3);
    expect(hasEvalPoint(opt)).toBe(false);
    const before = snapshotWeights(model);
    const seen = withEvalPoint(opt, { model }, () => snapshotWeights(model));
    expect(bitEqual(seen, before)).toBe(true);
  });

  it('Schedule-Free: x inside, the training point y back bit for bit after, also when fn throws', () => {
    const model = tinyMlp(6, 8, 3, { bn: true });
    const opt = scheduleFreeSgd({ lr: 0.5 });
    const { x } = train(model, opt, 5);
    expect(hasEvalPoint(opt)).toBe(true);
    const atY = snapshotWeights(model);
    const bnAtY = model.nonTrainableWeights.map((w) => w.read().dataSync().slice() as Float32Array);
    const atX = withEvalPoint(opt, { model, trainX: x }, () => snapshotWeights(model));
    // A wrong implementation that never swaps would give y here.
    expect(bitEqual(atX, atY)).toBe(false);
    expect(bitEqual(snapshotWeights(model), atY)).toBe(true);
    const bnAfter = model.nonTrainableWeights.map((w) => w.read().dataSync().slice() as Float32Array);
    expect(bitEqual(bnAfter, bnAtY)).toBe(true);
    expect(() =>
      withEvalPoint(opt, { model, trainX: x }, () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(bitEqual(snapshotWeights(model), atY)).toBe(true);
    // Leaving twice is a no-op, not a second swap.
    const leave = opt.enterEvalPoint({ model, trainX: x });
    leave();
    leave();
    expect(bitEqual(snapshotWeights(model), atY)).toBe(true);
  });
});
