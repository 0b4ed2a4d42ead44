/** Gradient transforms: clipByGlobalNorm, decoupledWeightDecay (and its default mask), chain. */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { modelVariables } from '../src/core/params.js';
import * as lrfree from '../src/index.js';
import {
  bitEqual,
  maxAbsDiff,
  snapshotWeights,
  tinyMlp,
  toyClassification,
  useBackend,
} from './helpers/tf.js';

const { chain, clipByGlobalNorm, decoupledWeightDecay, defaultDecayMask } = lrfree.transforms;

/** One step of `opt` on a fixed problem; returns the weights before, after and the gradient. */
function oneStep(model: tf.LayersModel, opt: lrfree.LrfreeOptimizer) {
  const { x, y } = toyClassification(16, 5, 3, 7);
  const vars = modelVariables(model);
  const loss = () =>
    tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar;
  const { grads } = tf.variableGrads(loss, vars);
  const g = vars.map((v) => grads[v.name].dataSync().slice() as Float32Array);
  tf.dispose(Object.values(grads));
  const w0 = vars.map((v) => v.dataSync().slice() as Float32Array);
  opt.minimize(loss, false, vars);
  const w1 = vars.map((v) => v.dataSync().slice() as Float32Array);
  tf.dispose([x, y]);
  return { vars, g, w0, w1 };
}

describe('gradient transforms', () => {
  beforeAll(() => useBackend('cpu'));

  it('clipByGlobalNorm: g * maxNorm/||g|| above the bound, untouched (bit for bit) below', () => {
    const lr = 0.1;
    const big = tinyMlp(5, 7, 3);
    const clip = lrfree.optimizer({
      transforms: clipByGlobalNorm(0.05),
      direction: lrfree.directions.sgd(),
      step: lrfree.steps.constant(lr),
    });
    const { g, w0, w1 } = oneStep(big, clip);
    const norm = Math.sqrt(g.reduce((a, gi) => a + gi.reduce((s, v) => s + v * v, 0), 0));
    expect(norm).toBeGreaterThan(0.05);
    expect(clip.lastStep.info.clipped).toBe(1);
    expect(clip.lastStep.info.gradNorm).toBeCloseTo(norm, 4);
    const expected = w0.map((w, i) => w.map((v, j) => v - lr * g[i][j] * (0.05 / norm)));
    expect(maxAbsDiff(w1, expected)).toBeLessThan(1e-6);

    const a = tinyMlp(5, 7, 3);
    const b = tinyMlp(5, 7, 3);
    oneStep(a, lrfree.sgd(lr));
    const loose = lrfree.optimizer({
      transforms: clipByGlobalNorm(1e6),
      direction: lrfree.directions.sgd(),
      step: lrfree.steps.constant(lr),
    });
    oneStep(b, loose);
    expect(loose.lastStep.info.clipped).toBe(0);
    expect(bitEqual(snapshotWeights(a), snapshotWeights(b))).toBe(true);
  });

  it('decoupledWeightDecay: the default mask decays rank >= 2 only (kernels), not biases or BN gamma/beta', () => {
    const model = tinyMlp(5, 7, 3, { bn: true });
    const decided = model.trainableWeights.map((w) => [w.name, defaultDecayMask(w.read() as tf.Variable)]);
    expect(decided.filter(([, d]) => d).map(([n]) => n)).toEqual(
      model.trainableWeights.filter((w) => w.shape.length >= 2).map((w) => w.name),
    );
    expect(decided.filter(([n]) => /bias|gamma|beta/.test(n as string)).every(([, d]) => !d)).toBe(true);

    const lr = 0.1;
    const rate = 0.5;
    const opt = lrfree.optimizer({
      transforms: decoupledWeightDecay({ rate }),
      direction: lrfree.directions.sgd(),
      step: lrfree.steps.constant(lr),
    });
    const { vars, g, w0, w1 } = oneStep(model, opt);
    const expected = w0.map((w, i) =>
      w.map((v, j) => v - lr * (g[i][j] + (vars[i].shape.length >= 2 ? rate * v : 0))),
    );
    expect(maxAbsDiff(w1, expected)).toBeLessThan(1e-6);
  });

  it("decoupledWeightDecay is the presets' weightDecay, bit for bit (mask 'all')", () => {
    const pairs: [string, () => lrfree.LrfreeOptimizer, () => lrfree.LrfreeOptimizer][] = [
      [
        'adam',
        () => lrfree.adam(1e-2, { weightDecay: 0.1 }),
        () =>
          lrfree.optimizer({
            direction: lrfree.directions.adam({ weightDecay: 0.1 }),
            step: lrfree.steps.constant(1e-2),
          }),
      ],
      [
        'momentum',
        () => lrfree.momentum(0.05, 0.9, { weightDecay: 0.1 }),
        () =>
          lrfree.optimizer({
            transforms: decoupledWeightDecay({ rate: 0.1, mask: 'all' }),
            direction: lrfree.directions.momentum({ momentum: 0.9 }),
            step: lrfree.steps.constant(0.05),
          }),
      ],
      [
        'sgd',
        () => lrfree.sgd(0.1, { weightDecay: 0.1 }),
        () =>
          lrfree.optimizer({
            direction: lrfree.directions.sgd({ weightDecay: 0.1 }),
            step: lrfree.steps.constant(0.1),
          }),
      ],
    ];
    for (const [name, a, b] of pairs) {
      const m1 = tinyMlp(5, 7, 3);
      const m2 = tinyMlp(5, 7, 3);
      const o1 = a();
      const o2 = b();
      for (let i = 0; i < 3; i++) {
        oneStep(m1, o1);
        oneStep(m2, o2);
      }
      expect(bitEqual(snapshotWeights(m1), snapshotWeights(m2)), name).toBe(true);
    }
  });

  it('chain applies in order, with any method, and round-trips through its config', () => {
    const t = chain(clipByGlobalNorm(0.05), decoupledWeightDecay({ rate: 0.01 }));
    expect(t.config).toEqual({
      transforms: [
        { kind: 'clipByGlobalNorm', config: { maxNorm: 0.05 } },
        { kind: 'decoupledWeightDecay', config: { rate: 0.01, mask: 'default' } },
      ],
    });
    const opt = lrfree.optimizer({ transforms: t, method: lrfree.methods.prodigy() });
    const model = tinyMlp(5, 7, 3);
    for (let i = 0; i < 3; i++) oneStep(model, opt);
    expect(opt.lastStep.info.clipped).toBe(1);
    expect(opt.hyperparams.names().sort()).toEqual([
      'method.dCoef',
      'method.lr',
      'transforms.maxNorm',
      'transforms.rate',
    ]);
    const again = lrfree.LrfreeOptimizer.fromConfig(
      lrfree.LrfreeOptimizer,
      opt.getConfig(),
    ) as lrfree.LrfreeOptimizer;
    expect(again.getConfig()).toEqual(opt.getConfig());
    // Clip (g -> g') then decay (d -> d'), by hand, with sgd.
    const lr = 0.1;
    const m = tinyMlp(5, 7, 3);
    const o = lrfree.optimizer({
      transforms: t,
      direction: lrfree.directions.sgd(),
      step: lrfree.steps.constant(lr),
    });
    const { vars, g, w0, w1 } = oneStep(m, o);
    const norm = Math.sqrt(g.reduce((a, gi) => a + gi.reduce((s, v) => s + v * v, 0), 0));
    const f = Math.min(1, 0.05 / norm);
    const expected = w0.map((w, i) =>
      w.map((v, j) => v - lr * (g[i][j] * f + (vars[i].shape.length >= 2 ? 0.01 * v : 0))),
    );
    expect(maxAbsDiff(w1, expected)).toBeLessThan(1e-6);
  });

  it('rejects bad transforms and options', () => {
    expect(() => clipByGlobalNorm(0)).toThrow(/maxNorm = 0/);
    expect(() => decoupledWeightDecay({ rate: -1 })).toThrow(/rate = -1/);
    expect(() => decoupledWeightDecay({ rate: 1, mask: 'biases' as never })).toThrow(/mask/);
    expect(() => chain(lrfree.directions.sgd() as never)).toThrow(/not a gradient transform/);
    expect(() =>
      lrfree.optimizer({
        transforms: {} as never,
        direction: lrfree.directions.sgd(),
        step: lrfree.steps.constant(1),
      }),
    ).toThrow(/optimizer: transforms = \{\} is not allowed; transforms must be a gradient transform/);
    const custom = decoupledWeightDecay({ rate: 1, mask: () => true });
    expect(() =>
      lrfree.LrfreeOptimizer.fromConfig(
        lrfree.LrfreeOptimizer,
        lrfree
          .optimizer({
            transforms: custom,
            direction: lrfree.directions.sgd(),
            step: lrfree.steps.constant(1),
          })
          .getConfig(),
      ),
    ).toThrow(/custom mask/);
  });
});
