/** Run-time hyperparameters: opt.hyperparams.get/set, validated, saved with the state. */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import * as lrfree from '../src/index.js';
import { maxAbsDiff, useBackend } from './helpers/tf.js';

function quadratic() {
  const w = tf.variable(tf.tensor1d([1, -2, 3]));
  const loss = () => tf.sum(tf.square(w)) as tf.Scalar; // g = 2w
  return { w, loss };
}

describe('run-time hyperparameters', () => {
  beforeAll(() => useBackend('cpu'));

  it("set('lr') changes the next step and nothing else", () => {
    const { w, loss } = quadratic();
    const opt = lrfree.sgd(0.1);
    expect(opt.hyperparams.get('lr')).toBe(0.1);
    expect(opt.hyperparams.get('step.lr')).toBe(0.1);
    opt.minimize(loss, false, [w]);
    expect(maxAbsDiff([w.dataSync()], [[0.8, -1.6, 2.4]])).toBeLessThan(1e-6);
    opt.hyperparams.set('lr', 0.25);
    opt.minimize(loss, false, [w]); // w <- w - 0.25*2w = w/2
    expect(maxAbsDiff([w.dataSync()], [[0.4, -0.8, 1.2]])).toBeLessThan(1e-6);
    expect(opt.lastStep.eta).toBe(0.25);
    expect(opt.getConfig().step).toEqual({ kind: 'constant', config: { eta: 0.1 } });
    opt.dispose();
    w.dispose();
  });

  it('momentum and Adam betas are run-time hyperparameters too', () => {
    const opt = lrfree.optimizer({
      direction: lrfree.directions.momentum({ momentum: 0.9 }),
      step: lrfree.steps.constant(0.1),
    });
    expect(opt.hyperparams.names().sort()).toEqual(['direction.momentum', 'step.lr']);
    opt.hyperparams.set('momentum', 0);
    const { w, loss } = quadratic();
    opt.minimize(loss, false, [w]);
    opt.minimize(loss, false, [w]); // momentum 0: plain SGD twice, w * 0.8^2
    expect(maxAbsDiff([w.dataSync()], [[0.64, -1.28, 1.92]])).toBeLessThan(1e-6);
    expect(lrfree.adam(1e-3).hyperparams.names().sort()).toEqual([
      'direction.beta1',
      'direction.beta2',
      'direction.epsilon',
      'step.lr',
    ]);
    opt.dispose();
    w.dispose();
  });

  it('values are validated; unknown and ambiguous names are refused, naming the valid ones', () => {
    const opt = lrfree.sgd(0.1);
    expect(() => opt.hyperparams.set('lr', -1)).toThrow(/lr = -1 is not allowed/);
    expect(() => opt.hyperparams.set('lr', Number.NaN)).toThrow(lrfree.LrfreeConfigError);
    expect(() => opt.hyperparams.set('eta', 1)).toThrow(/no run-time hyperparameter 'eta'.*step\.lr/);
    const both = lrfree.optimizer({
      transforms: lrfree.transforms.chain(
        lrfree.transforms.clipByGlobalNorm(1),
        lrfree.transforms.clipByGlobalNorm(2),
      ),
      direction: lrfree.directions.sgd(),
      step: lrfree.steps.constant(0.1),
    });
    expect(both.hyperparams.get('maxNorm@1')).toBe(2);
    const m = lrfree.optimizer({
      direction: lrfree.directions.momentum(),
      step: lrfree.steps.scheduled(0.1, lrfree.cosine({ totalSteps: 10 })),
    });
    expect(m.hyperparams.get('lr')).toBe(0.1);
    opt.dispose();
  });

  it('the current values are saved with the state and restored', async () => {
    const { w, loss } = quadratic();
    const opt = lrfree.momentum(0.1, 0.9);
    opt.minimize(loss, false, [w]);
    opt.hyperparams.set('lr', 0.02);
    opt.hyperparams.set('momentum', 0.5);
    const saved = await opt.getWeights();
    const copy = lrfree.LrfreeOptimizer.fromConfig(
      lrfree.LrfreeOptimizer,
      opt.getConfig(),
    ) as lrfree.LrfreeOptimizer;
    expect(copy.hyperparams.get('lr')).toBe(0.1);
    await copy.setWeights(saved);
    expect(copy.hyperparams.get('lr')).toBe(0.02);
    expect(copy.hyperparams.get('momentum')).toBe(0.5);
    opt.dispose();
    copy.dispose();
    w.dispose();
  });

  it('deprecated option spellings still work: momentum({ beta }) == momentum({ momentum })', () => {
    const a = lrfree.directions.momentum({ beta: 0.7 });
    const b = lrfree.directions.momentum({ momentum: 0.7 });
    expect(a.config).toEqual(b.config);
    expect(() => lrfree.directions.momentum({ beta: 0.7, momentum: 0.7 })).toThrow(/not both/);
  });
});
