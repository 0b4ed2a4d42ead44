/**
 * The line-search presets' `weightDecay` goes through the one `transforms.decoupledWeightDecay` (mask 'all'),
 * with the numbers of the old form (the decay inside the direction) bit for bit: the decay is added to the
 * committed update in both, and the search direction is the same (sgd: the decayed update; adam: P*g).
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { modelVariables } from '../../src/core/params.js';
import * as lrfree from '../../src/index.js';
import { bitEqual, snapshotWeights, tinyMlp, toyClassification, useBackend } from '../helpers/tf.js';

beforeAll(() => useBackend('cpu'));

const { armijo, smoothedArmijo, polyak, perLayer } = lrfree.steps;
const { sgd, adam } = lrfree.directions;
const WD = 0.05;

const adamSearch = { initStepSize: 0.1, c: 0.2 };
const PAIRS: [string, () => lrfree.LrfreeOptimizer, () => lrfree.LrfreeOptimizer][] = [
  [
    'sls',
    () => lrfree.sls({ weightDecay: WD, seed: 2 }),
    () => lrfree.optimizer({ direction: sgd({ weightDecay: WD }), step: armijo({}), seed: 2 }),
  ],
  [
    'adamSls',
    () => lrfree.adamSls({ weightDecay: WD, seed: 2 }),
    () =>
      lrfree.optimizer({
        direction: adam({ epsilon: 1e-8, weightDecay: WD }),
        step: armijo(adamSearch),
        seed: 2,
      }),
  ],
  [
    'plasls',
    () => lrfree.plasls({ weightDecay: WD, seed: 2, jointSteps: 1 }),
    () =>
      lrfree.optimizer({
        direction: adam({ epsilon: 1e-8, weightDecay: WD }),
        step: perLayer(armijo(adamSearch), { jointSteps: 1 }),
        seed: 2,
      }),
  ],
  [
    'salsa (sgd)',
    () => lrfree.salsa({ direction: 'sgd', weightDecay: WD, seed: 2 }),
    () => lrfree.optimizer({ direction: sgd({ weightDecay: WD }), step: smoothedArmijo({}), seed: 2 }),
  ],
  [
    'salsa (adam, momentum in the search)',
    () => lrfree.salsa({ weightDecay: WD, useMomentumInSearch: true, seed: 2 }),
    () =>
      lrfree.optimizer({
        direction: adam({ epsilon: 1e-8, weightDecay: WD }),
        step: smoothedArmijo({ useMomentumInSearch: true }),
        seed: 2,
      }),
  ],
  [
    'sps',
    () => lrfree.sps({ weightDecay: WD, seed: 2 }),
    () => lrfree.optimizer({ direction: sgd({ weightDecay: WD }), step: polyak({}), seed: 2 }),
  ],
];

describe('line-search presets: weightDecay through the decay transform, the old numbers bit for bit', () => {
  it.each(PAIRS)('%s', (_name, preset, old) => {
    const { x, y } = toyClassification(24, 5, 3, 9);
    const m1 = tinyMlp(5, 7, 3);
    const m2 = tinyMlp(5, 7, 3);
    const o1 = preset();
    const o2 = old();
    o1.attachModel(m1);
    o2.attachModel(m2);
    const step = (m: tf.LayersModel, o: lrfree.LrfreeOptimizer) =>
      o.minimize(
        () => tf.losses.softmaxCrossEntropy(y, m.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
        false,
        modelVariables(m),
      );
    const w0 = snapshotWeights(m1);
    for (let i = 0; i < 6; i++) {
      step(m1, o1);
      step(m2, o2);
      expect(o1.lastStep.eta).toEqual(o2.lastStep.eta);
    }
    expect(bitEqual(snapshotWeights(m1), snapshotWeights(m2))).toBe(true);
    expect(bitEqual(snapshotWeights(m1), w0)).toBe(false);
    // The decay lives in the transform, once; the direction has none.
    const config = o1.getConfig() as {
      transforms?: { kind: string; config: { rate: number } };
      direction: { config: { weightDecay: number } };
    };
    expect(config.transforms?.kind).toBe('decoupledWeightDecay');
    expect(config.transforms?.config.rate).toBe(WD);
    expect(config.direction.config.weightDecay).toBe(0);
    tf.dispose([x, y]);
    [o1, o2, m1, m2].forEach((d) => {
      d.dispose();
    });
  });

  it('a bad weightDecay names the preset; weightDecay and a decay transform together are refused', () => {
    expect(() => lrfree.sls({ weightDecay: -1 })).toThrow(/sls.*weightDecay/);
    expect(() => lrfree.sps({ weightDecay: Number.NaN })).toThrow(/sps.*weightDecay/);
    expect(() =>
      lrfree.adamSls({ weightDecay: 0.1, transforms: lrfree.transforms.decoupledWeightDecay({ rate: 0.1 }) }),
    ).toThrow(/either as the preset option or inside transforms/);
  });
});
