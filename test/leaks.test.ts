import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import * as lrfree from '../src/index.js';
import { fitTensorCounts } from './helpers/leaks.js';
import { bestOfTwo } from './helpers/rules.js';
import { BACKENDS, tinyMlp, toyClassification, useBackend } from './helpers/tf.js';

/** Every optimizer that exists, by name; new presets are added here as they land. */
const OPTIMIZERS: Record<string, () => lrfree.LrfreeOptimizer> = {
  sgd: () => lrfree.sgd(0.05),
  momentum: () => lrfree.momentum(0.05, 0.9, { nesterov: true }),
  adam: () => lrfree.adam(0.001, { weightDecay: 1e-4 }),
  'sgd+cosine': () =>
    lrfree.optimizer({
      direction: lrfree.directions.sgd(),
      step: lrfree.scheduled(0.05, lrfree.cosine({ totalSteps: 500 })),
    }),
  'adam+probes': () =>
    lrfree.optimizer({
      direction: lrfree.directions.adam(),
      step: bestOfTwo(0.001, 1),
      schedule: lrfree.warmup({ steps: 10 }),
    }),
};

const STEPS = 1000;

describe.each(BACKENDS)('no tensor leaks on %s', (backend) => {
  it.each(Object.keys(OPTIMIZERS))(
    '%s in a custom loop: numTensors at step 10 == at step 1000',
    async (name) => {
      await useBackend(backend);
      const model = tinyMlp(4, 6, 3, { bn: true, dropout: 0.2, logits: true });
      const { x, y } = toyClassification(8, 4, 3);
      const opt = OPTIMIZERS[name]();
      const vars = lrfree.modelVariables(model);
      const lossFn = () =>
        tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar;
      let at10 = -1;
      for (let s = 1; s <= STEPS; s++) {
        const cost = opt.minimize(lossFn, true, vars);
        cost?.dispose();
        if (s === 10) at10 = tf.memory().numTensors;
      }
      expect(opt.counters.steps).toBe(STEPS);
      expect(tf.memory().numTensors).toBe(at10);
      opt.dispose();
      tf.dispose([x, y]);
      model.dispose();
    },
  );
});

describe('no tensor leaks inside model.fit with metrics (wasm)', () => {
  it.each(Object.keys(OPTIMIZERS))('%s: numTensors at batch 10 == at batch 1000', async (name) => {
    await useBackend('wasm');
    const opt = OPTIMIZERS[name]();
    const { atBatch10, atEnd } = await fitTensorCounts(opt, STEPS);
    expect(opt.counters.steps).toBe(STEPS);
    expect(atEnd).toBe(atBatch10);
  });
});
