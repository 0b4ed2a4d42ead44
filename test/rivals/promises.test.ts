/**
 * The promises every lrfree method keeps, for the two rivals (scheduleFreePlus, prodigyScheduleFree):
 * evaluation at x through the HasEvalPoint contract (batch-norm statistics recomputed), bit-exact
 * save/restore on cpu, non-finite steps skipped without touching state, no tensor leaks.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { hasEvalPoint, withEvalPoint, withEvalPointAsync } from '../../src/core/evalPoint.js';
import { modelVariables } from '../../src/core/params.js';
import { fileSystem } from '../../src/io/index.js';
import { auto } from '../../src/optimizers/auto.js';
import { catalogEntry } from '../../src/optimizers/catalog.js';
import { EvalPointOptimizer } from '../../src/optimizers/evalPointMethod.js';
import { methodState } from '../../src/optimizers/lrfreeMethods.js';
import { prodigyScheduleFree } from '../../src/optimizers/prodigyScheduleFree.js';
import { scheduleFreePlus } from '../../src/optimizers/scheduleFreePlus.js';
import { fitTensorCounts } from '../helpers/leaks.js';
import {
  bitEqual,
  snapshotWeights,
  tinyMlp,
  toyClassification,
  uniformArray,
  useBackend,
} from '../helpers/tf.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Each rival with knobs that exercise more state (annealing, EMA, decay; no limiter, factoring). */
const MAKERS: Record<string, () => EvalPointOptimizer> = {
  scheduleFreePlus: () =>
    scheduleFreePlus({ polyakBeta: 0.5, sfBeta1AnnealSteps: 10, cWarmup: 2, weightDecay: 0.1, r: 1 }),
  prodigyScheduleFree: () => prodigyScheduleFree({ d0: 1e-3, dLimiter: false, weightDecay: 0.01 }),
  auto: () => auto({ weightDecay: 1e-3, probeEvery: 3 }),
};
const NAMES = Object.keys(MAKERS);

async function stateOf(opt: EvalPointOptimizer): Promise<{ slots: Float32Array[]; scalars: number[] }> {
  const leave = opt.enterEvalPoint();
  const ws = await opt.getWeights();
  const slots = ws.slice(1, -1).map((w) => w.tensor.dataSync().slice() as Float32Array);
  leave();
  const scalars = Object.values(methodState(opt)).flatMap((v) => (Array.isArray(v) ? v : [v]));
  return { slots, scalars };
}

describe('the rivals and auto()', () => {
  it('are catalog entries at their defaults, and EvalPointOptimizers', () => {
    for (const name of NAMES) {
      const opt = catalogEntry(name).make({ seed: 1, stepsPerEpoch: 10, totalSteps: 100 });
      expect(opt.name).toBe(name);
      expect(opt).toBeInstanceOf(EvalPointOptimizer);
      expect(hasEvalPoint(opt)).toBe(true);
      opt.dispose();
    }
  });

  it('reject bad hyperparameters, naming the parameter, its value and the range', () => {
    expect(() => scheduleFreePlus({ sfBeta1: 1 })).toThrow(/scheduleFreePlus: sfBeta1 = 1 .* \(0, 1\)/);
    expect(() => scheduleFreePlus({ cWarmup: 1.5 })).toThrow(/cWarmup = 1.5/);
    expect(() => scheduleFreePlus({ eps: 0 })).toThrow(/eps = 0/);
    expect(() => prodigyScheduleFree({ betas: [0, 0.99] })).toThrow(/betas\[0\] = 0/);
    expect(() => prodigyScheduleFree({ d0: -1 })).toThrow(/prodigyScheduleFree: d0 = -1/);
    expect(() => prodigyScheduleFree({ dcoef: 2 } as never)).toThrow(/unknown option 'dcoef'/);
  });

  it('scheduleFreePlus needs the loss value: applyGradients is refused with the way out', async () => {
    await useBackend('cpu');
    const w = tf.variable(tf.tensor1d([1, 2]));
    const opt = scheduleFreePlus();
    const g = tf.tensor1d([0.1, 0.2]);
    expect(() => opt.applyGradients([{ name: w.name, tensor: g }])).toThrow(/needs the loss value.*minimize/);
    expect(Array.from(w.dataSync())).toEqual([1, 2]);
    opt.dispose();
    tf.dispose([w, g]);
  });

  it.each(NAMES)(
    '%s: a NaN gradient is skipped and leaves weights and every accumulator unchanged',
    async (name) => {
      await useBackend('cpu');
      const w = tf.variable(tf.tensor1d(uniformArray(40, 5)));
      const target = tf.tensor1d(uniformArray(40, 6));
      let poison = false;
      const lossFn = () =>
        tf.tidy(() => {
          const base = tf.sum(tf.square(tf.sub(w, target)));
          return (poison ? tf.add(base, tf.mul(0, tf.sqrt(tf.sub(w, w)).sum())) : base) as tf.Scalar;
        });
      const opt = MAKERS[name]();
      for (let s = 0; s < 5; s++) opt.minimize(lossFn, false, [w]);
      const before = await stateOf(opt);
      const weights = [w.dataSync().slice() as Float32Array];
      poison = true;
      opt.minimize(lossFn, false, [w]);
      poison = false;
      expect(opt.lastStep.skipped).toBe(true);
      const after = await stateOf(opt);
      expect(bitEqual(after.slots, before.slots)).toBe(true);
      expect(after.scalars).toEqual(before.scalars);
      expect(bitEqual([w.dataSync().slice() as Float32Array], weights)).toBe(true);
      for (let s = 0; s < 5; s++) opt.minimize(lossFn, false, [w]);
      const end = await stateOf(opt);
      expect(end.slots.every((a) => a.every(Number.isFinite))).toBe(true);
      expect(end.scalars.every(Number.isFinite)).toBe(true);
      expect(opt.counters.steps).toBe(10);
      expect(opt.lastStep.eta as number).toBeGreaterThan(0);
      opt.dispose();
      tf.dispose([w, target]);
    },
  );

  it.each(NAMES)(
    '%s: 20 fit steps + save (at x) + load + 20 == 40 straight, bit for bit on cpu',
    async (name) => {
      await useBackend('cpu');
      // Hidden width 40 so that prodigyScheduleFree factors its kernels' second moment.
      const { x, y } = toyClassification(20 * 8, 5, 3, 9);
      const fitOpts = { batchSize: 8, shuffle: false, verbose: 0 as const };
      const straight = tinyMlp(5, 40, 3);
      straight.compile({ optimizer: MAKERS[name](), loss: 'categoricalCrossentropy' });
      await straight.fit(x, y, { ...fitOpts, epochs: 2 });

      const first = tinyMlp(5, 40, 3);
      const opt = MAKERS[name]();
      first.compile({ optimizer: opt, loss: 'categoricalCrossentropy' });
      await first.fit(x, y, { ...fitOpts, epochs: 1 });
      const dir = mkdtempSync(join(tmpdir(), 'lrfree-rivals-'));
      dirs.push(dir);
      // Forgetting the evaluation point is refused rather than silently saving y.
      await expect(first.save(fileSystem(dir), { includeOptimizer: true })).rejects.toThrow(
        /refusing to save in train mode/,
      );
      const atY = snapshotWeights(first);
      await withEvalPointAsync(opt, { model: first }, () =>
        first.save(fileSystem(dir), { includeOptimizer: true }),
      );
      expect(bitEqual(snapshotWeights(first), atY)).toBe(true);
      const xWeights = withEvalPoint(opt, { model: first }, () => snapshotWeights(first));
      expect(bitEqual(xWeights, atY)).toBe(false);

      const resumed = await tf.loadLayersModel(fileSystem(dir));
      const ropt = resumed.optimizer as EvalPointOptimizer;
      expect(ropt).toBeInstanceOf(EvalPointOptimizer);
      expect(ropt.getConfig()).toEqual(opt.getConfig());
      expect(methodState(ropt)).toEqual(methodState(opt));
      expect(ropt.trainMode).toBe(false);
      // The checkpoint holds x.
      expect(bitEqual(snapshotWeights(resumed), xWeights)).toBe(true);
      ropt.attachModel(resumed).train();
      expect(bitEqual(snapshotWeights(resumed), atY)).toBe(true);
      await resumed.fit(x, y, { ...fitOpts, epochs: 1 });
      expect(ropt.counters.steps).toBe(40);
      expect(bitEqual(snapshotWeights(resumed), snapshotWeights(straight))).toBe(true);
      // And so is x.
      const leave = ropt.enterEvalPoint();
      const sLeave = (straight.optimizer as EvalPointOptimizer).enterEvalPoint();
      expect(bitEqual(snapshotWeights(resumed), snapshotWeights(straight))).toBe(true);
      leave();
      sLeave();
      tf.dispose([x, y]);
      for (const m of [straight, first, resumed]) m.dispose();
    },
  );

  it.each(NAMES)(
    '%s: withEvalPoint puts x in with batch-norm statistics recomputed, and y back exactly',
    async (name) => {
      await useBackend('cpu');
      const model = tinyMlp(6, 8, 3, { bn: true });
      const { x, y } = toyClassification(64, 6, 3, 5);
      const opt = MAKERS[name]();
      const vars = modelVariables(model);
      for (let i = 0; i < 8; i++) {
        opt.minimize(
          () =>
            tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
          false,
          vars,
        );
      }
      const atY = snapshotWeights(model);
      const bnAtY = model.nonTrainableWeights.map((w) => w.read().dataSync().slice() as Float32Array);
      const inside = withEvalPoint(opt, { model, trainX: x, batchSize: 16 }, () => {
        expect(() => opt.minimize(() => tf.scalar(0), false, vars)).toThrow(/eval mode/);
        return {
          w: snapshotWeights(model),
          bn: model.nonTrainableWeights.map((w) => w.read().dataSync().slice() as Float32Array),
        };
      });
      expect(bitEqual(inside.w, atY)).toBe(false);
      expect(bitEqual(inside.bn, bnAtY)).toBe(false);
      // The statistics at x are the mean of the 4 batch statistics of the hidden activations at x.
      const leave = opt.enterEvalPoint();
      const [k1, b1] = model.layers[0].getWeights();
      const act = tf.tanh(tf.add(tf.matMul(x, k1), b1));
      const mean = tf.tidy(() =>
        tf.addN([0, 1, 2, 3].map((i) => tf.moments(act.slice(i * 16, 16), 0).mean)).div(4),
      );
      leave();
      const bnMean = inside.bn[0];
      const want = mean.dataSync();
      expect(Math.max(...Array.from(bnMean, (v, i) => Math.abs(v - want[i])))).toBeLessThan(1e-5);
      expect(bitEqual(snapshotWeights(model), atY)).toBe(true);
      expect(
        bitEqual(
          model.nonTrainableWeights.map((w) => w.read().dataSync().slice() as Float32Array),
          bnAtY,
        ),
      ).toBe(true);
      tf.dispose([x, y, act, mean]);
      opt.dispose();
      model.dispose();
    },
  );
});

describe('no tensor leaks on cpu', () => {
  it.each(NAMES)(
    '%s in a custom loop (300 steps) and inside model.fit with metrics (300 steps)',
    async (name) => {
      await useBackend('cpu');
      const model = tinyMlp(4, 6, 3, { bn: true, dropout: 0.2 });
      const { x, y } = toyClassification(8, 4, 3);
      const opt = MAKERS[name]();
      const vars = modelVariables(model);
      const lossFn = () =>
        tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar;
      let at10 = -1;
      for (let s = 1; s <= 300; s++) {
        opt.minimize(lossFn, true, vars)?.dispose();
        if (s === 10) at10 = tf.memory().numTensors;
        if (s === 150) withEvalPoint(opt, { model, trainX: x }, () => 0);
      }
      expect(tf.memory().numTensors).toBe(at10);
      opt.dispose();
      tf.dispose([x, y]);
      model.dispose();
      // fit's closure keeps one tensor per metric per call, probes included, until the next step: with
      // occasional probes the count at a given batch depends on whether it probed, so auto checks every step.
      const fitOpt = name === 'auto' ? auto({ probeEvery: 1 }) : MAKERS[name]();
      const { atBatch10, atEnd } = await fitTensorCounts(fitOpt, 300);
      expect(fitOpt.counters.steps).toBe(300);
      expect(atEnd).toBe(atBatch10);
    },
  );

  it.each(NAMES)(
    '%s inside model.fitDataset (auto with no argument): every batch a step, lower loss at x, no tensor left',
    async (name) => {
      await useBackend('cpu');
      const model = tinyMlp(4, 8, 3, { bn: true });
      const { x, y } = toyClassification(64, 4, 3);
      const opt = name === 'auto' ? auto() : MAKERS[name]();
      model.compile({ optimizer: opt, loss: 'categoricalCrossentropy' });
      const lossAt = () =>
        withEvalPoint(opt, { model, trainX: x }, () =>
          tf.tidy(() => (model.evaluate(x, y, { batchSize: 64 }) as tf.Scalar).dataSync()[0]),
        );
      const before = lossAt();
      const [xs, ys] = [tf.unstack(x), tf.unstack(y)];
      const dataset = tf.data
        .zip({ xs: tf.data.array(xs), ys: tf.data.array(ys) })
        .batch(8) as tf.data.Dataset<{ xs: tf.Tensor; ys: tf.Tensor }>;
      const counts: number[] = [];
      await model.fitDataset(dataset, {
        epochs: 6,
        verbose: 0,
        callbacks: { onEpochEnd: async () => void counts.push(tf.memory().numTensors) },
      });
      // 64 examples in batches of 8, 6 epochs.
      expect(opt.counters.steps).toBe(48);
      expect(opt.counters.skipped).toBe(0);
      expect(counts[5]).toBe(counts[1]);
      const after = lossAt();
      expect(after).toBeLessThan(0.5 * before);
      opt.dispose();
      tf.dispose([x, y, ...xs, ...ys]);
      model.dispose();
    },
  );
});
