import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { LrfreeOptimizer } from '../../src/core/optimizer.js';
import { modelVariables } from '../../src/core/params.js';
import { CATALOG, keepStepping, keepVaulting, newton, pal, walk } from '../../src/optimizers/moreDescent.js';
import { tinyMlp, toyClassification, useBackend } from '../helpers/tf.js';

/** Every preset, at settings that exercise its probes on a tiny model. */
const PRESETS: Record<string, () => LrfreeOptimizer> = {
  walk: () => walk({ eta0: 0.05, refine: true }),
  keepStepping: () => keepStepping({ lr: 0.01, maxSteps: 4, scaleI: 2 }),
  keepVaulting: () => keepVaulting({ lr: 0.01, maxSteps: 3 }),
  pal: () => pal({ mu: 0.1 }),
  newton: () => newton({ hvp: 'forward' }),
};

/** Newton builds a dense Hessian (P gradients per step): it gets the smallest model. */
function modelFor(name: string, logits = false) {
  return name === 'newton'
    ? tinyMlp(2, 1, 2, { logits })
    : tinyMlp(4, 6, 3, { bn: true, dropout: 0.2, logits });
}

const STEPS = 1000;

describe('more-descent presets', () => {
  it('catalog: one entry per preset, named as the issue names them, each builds', () => {
    expect(CATALOG.map((e) => e.name)).toEqual(['walk', 'keepStepping', 'keepVaulting', 'pal', 'newton']);
    for (const e of CATALOG) {
      const opt = e.make({ seed: 3, stepsPerEpoch: 10, totalSteps: 100 });
      expect(opt.name).toBe(e.name);
      expect(e.family).toBe('more-descent');
      opt.dispose();
    }
  });

  it('configs round-trip through fromConfig and bad options fail naming them', () => {
    for (const make of Object.values(PRESETS)) {
      const opt = make();
      const copy = LrfreeOptimizer.fromConfig(LrfreeOptimizer, opt.getConfig()) as LrfreeOptimizer;
      expect(copy.getConfig()).toEqual(opt.getConfig());
      opt.dispose();
      copy.dispose();
    }
    expect(() => walk({ direction: 'rmsprop' as 'sgd' })).toThrow(/direction/);
    expect(() => keepStepping({ lrr: 1 } as object)).toThrow(/unknown option 'lrr'/);
    expect(() => newton({ guard: 'yes' as unknown as boolean })).toThrow(/guard/);
  });

  it.each(Object.keys(PRESETS))('%s: no tensor leak over 1000 steps in a custom loop (cpu)', async (name) => {
    await useBackend('cpu');
    const model = modelFor(name, true); // logits: softmaxCrossEntropy applies the softmax
    const d = name === 'newton' ? 2 : 4;
    const k = name === 'newton' ? 2 : 3;
    const { x, y } = toyClassification(8, d, k);
    const opt = PRESETS[name]();
    const vars = modelVariables(model);
    const lossFn = () =>
      tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar;
    const evalLoss = () =>
      tf.tidy(
        () =>
          tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: false }) as tf.Tensor).dataSync()[0],
      );
    const first = evalLoss();
    let at10 = -1;
    for (let s = 1; s <= STEPS; s++) {
      const cost = opt.minimize(lossFn, true, vars);
      cost?.dispose();
      if (s === 10) at10 = tf.memory().numTensors;
    }
    expect(opt.counters.steps + opt.counters.skipped).toBe(STEPS);
    expect(tf.memory().numTensors).toBe(at10);
    // And it trained.
    expect(evalLoss()).toBeLessThan(first);
    opt.dispose();
    tf.dispose([x, y]);
    model.dispose();
  });

  it.each(Object.keys(PRESETS))(
    '%s: no tensor leak over 1000 batches in model.fit with metrics (wasm)',
    async (name) => {
      await useBackend('wasm');
      const model = modelFor(name);
      const d = name === 'newton' ? 2 : 4;
      const k = name === 'newton' ? 2 : 3;
      const { x, y } = toyClassification(STEPS * 2, d, k);
      const opt = PRESETS[name]();
      model.compile({ optimizer: opt, loss: 'categoricalCrossentropy', metrics: ['accuracy', 'mse'] });
      // numTensors right after a batch includes the metric tensors fit's closure kept during this step's extra
      // evaluations (freed at the next step), so it varies with the probe count: compare the peaks early and late.
      const early: number[] = [];
      const late: number[] = [];
      await model.fit(x, y, {
        batchSize: 2,
        epochs: 1,
        shuffle: false,
        verbose: 0,
        callbacks: {
          onBatchEnd: async (batch) => {
            if (batch >= 9 && batch < 59) early.push(tf.memory().numTensors);
            if (batch >= STEPS - 50) late.push(tf.memory().numTensors);
          },
        },
      });
      expect(opt.counters.steps + opt.counters.skipped).toBe(STEPS);
      expect(late).toHaveLength(50);
      expect(Math.max(...late)).toBeLessThanOrEqual(Math.max(...early));
      tf.dispose([x, y]);
      model.dispose();
    },
  );
});
