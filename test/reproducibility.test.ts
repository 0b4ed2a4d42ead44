/**
 * Reproducibility without global patches (issue #20, item 5): the optimizer's seed drives model.fit's
 * shuffle, fit's batches per epoch replace the placeholder of 500, and `Math.random` / `engine.keep` are
 * the original functions after every step, probe, throwing closure and fit.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { batchesPerEpochOf } from '../src/core/fitHook.js';
import * as lrfree from '../src/index.js';
import { bestOfTwo } from './helpers/rules.js';
import { bitEqual, snapshotWeights, tinyMlp, toyClassification, useBackend } from './helpers/tf.js';

beforeAll(async () => {
  await useBackend('cpu');
});

const engine = () => tf.engine() as unknown as { keep: unknown };

/** A step rule that records the stepsPerEpoch each step sees, with a constant eta. */
function recordingRule(seen: (number | undefined)[]): lrfree.StepRule {
  return {
    kind: 'testRecordSpe',
    config: {},
    slotNames: [],
    needsLoss: false,
    initSlots: () => [],
    initScalars: () => ({}),
    choose: (ctx) => {
      seen.push(ctx.stepsPerEpoch);
      return { eta: 0.05 };
    },
  };
}

describe('no global patch is left behind', () => {
  it('Math.random and engine.keep are the original functions after steps, probes and a throwing closure', () => {
    const random = Math.random;
    const keep = engine().keep;
    const model = tinyMlp(4, 6, 3, { bn: true, dropout: 0.3 });
    const { x, y } = toyClassification(8, 4, 3);
    const vars = lrfree.modelVariables(model);
    const f = () =>
      tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar;
    const opt = lrfree.optimizer({ direction: lrfree.directions.adam(), step: bestOfTwo(0.01), seed: 5 });
    for (let s = 0; s < 3; s++) opt.minimize(f, false, vars);
    expect(opt.counters.forwards).toBeGreaterThan(0); // probes ran (extra evaluations with keep recorded)
    expect(Math.random).toBe(random);
    expect(engine().keep).toBe(keep);
    expect(() =>
      opt.minimize(
        () => {
          throw new Error('closure fails');
        },
        false,
        vars,
      ),
    ).toThrow('closure fails');
    expect(Math.random).toBe(random);
    expect(engine().keep).toBe(keep);
    opt.dispose();
    model.dispose();
    tf.dispose([x, y]);
  });
});

describe("model.fit's shuffle follows the optimizer's seed", () => {
  async function fitWeights(seed: number, shuffle: boolean) {
    const model = tinyMlp(5, 7, 3);
    const opt = lrfree.sgd(0.1, { seed });
    model.compile({ optimizer: opt, loss: 'categoricalCrossentropy' });
    const { x, y } = toyClassification(40, 5, 3, 9);
    const random = Math.random;
    await model.fit(x, y, { batchSize: 8, epochs: 3, shuffle, verbose: 0 });
    expect(Math.random).toBe(random);
    const w = snapshotWeights(model);
    model.dispose();
    opt.dispose();
    tf.dispose([x, y]);
    return w;
  }

  it('same seed: the same batches (bit-equal weights); another seed or no shuffle: other batches', async () => {
    const a = await fitWeights(1, true);
    const b = await fitWeights(1, true);
    expect(bitEqual(a, b)).toBe(true);
    expect(bitEqual(a, await fitWeights(2, true))).toBe(false);
    expect(bitEqual(a, await fitWeights(1, false))).toBe(false);
  });

  it('Math.random is not seeded after fit (the generator is put back)', async () => {
    await fitWeights(1, true);
    const draws = [Math.random(), Math.random()];
    await fitWeights(1, true);
    expect([Math.random(), Math.random()]).not.toEqual(draws);
  });
});

describe("model.fit's batches per epoch", () => {
  it("rules see fit's ceil(samples / batchSize) when no stepsPerEpoch was given, and nothing outside fit", async () => {
    const seen: (number | undefined)[] = [];
    const model = tinyMlp(5, 7, 3);
    const opt = lrfree.optimizer({ direction: lrfree.directions.sgd(), step: recordingRule(seen) });
    model.compile({ optimizer: opt, loss: 'categoricalCrossentropy' });
    const { x, y } = toyClassification(20, 5, 3, 9);
    await model.fit(x, y, { batchSize: 8, epochs: 2, verbose: 0 });
    expect(seen).toEqual([3, 3, 3, 3, 3, 3]);
    // Outside fit: back to undefined (the rule's own default applies).
    const vars = lrfree.modelVariables(model);
    opt.minimize(
      () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
      false,
      vars,
    );
    expect(seen[6]).toBeUndefined();
    // A given stepsPerEpoch wins over fit's.
    const given: (number | undefined)[] = [];
    const opt2 = lrfree.optimizer({
      direction: lrfree.directions.sgd(),
      step: recordingRule(given),
      stepsPerEpoch: 7,
    });
    model.compile({ optimizer: opt2, loss: 'categoricalCrossentropy' });
    await model.fit(x, y, { batchSize: 8, epochs: 1, verbose: 0 });
    expect(given).toEqual([7, 7, 7]);
    model.dispose();
    tf.dispose([x, y]);
  });

  it('SLS under fit resets with n = batches per epoch, not the placeholder 500', async () => {
    // The reset rule multiplies the stored step by gamma^(1/n): with n = 3 the growth is far larger.
    const run = async (stepsPerEpoch?: number) => {
      const model = tinyMlp(5, 7, 3);
      const opt = lrfree.sls(stepsPerEpoch === undefined ? {} : { stepsPerEpoch });
      model.compile({ optimizer: opt, loss: 'categoricalCrossentropy' });
      const { x, y } = toyClassification(24, 5, 3, 9);
      await model.fit(x, y, { batchSize: 8, epochs: 2, shuffle: false, verbose: 0 });
      const w = snapshotWeights(model);
      model.dispose();
      tf.dispose([x, y]);
      return w;
    };
    const fromFit = await run();
    expect(bitEqual(fromFit, await run(3))).toBe(true);
    expect(bitEqual(fromFit, await run(500))).toBe(false);
  });

  it('batchesPerEpochOf reads fit and fitDataset params', () => {
    expect(batchesPerEpochOf({ samples: 20, batchSize: 8 })).toBe(3);
    expect(batchesPerEpochOf({ steps: 12, samples: null, batchSize: 8 })).toBe(12);
    expect(batchesPerEpochOf({ samples: null })).toBeUndefined();
    expect(batchesPerEpochOf(undefined)).toBeUndefined();
  });
});
