/**
 * Bit-exact save/restore on cpu for every optimizer in the catalog, the polynomial-decay averager and the
 * Alrao model: 20 steps + save + load + 20 steps must equal 40 steps straight bit for bit (catches any state
 * that is saved rounded, re-derived, saved at the wrong point, or not saved at all).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlraoModel, wrap } from '../src/alrao/model.js';
import type { LrfreeOptimizer } from '../src/core/optimizer.js';
import { adam } from '../src/directions/adam.js';
import { fileSystem } from '../src/io/index.js';
import { averager } from '../src/optimizers/averager.js';
import { catalog } from '../src/optimizers/catalog.js';
import { EvalPointOptimizer } from '../src/optimizers/evalPointMethod.js';
import { ScheduleFreeOptimizer } from '../src/optimizers/scheduleFree.js';

/** Optimizers that train at y and save at x, with train()/eval() modes. */
function trainsAtOtherPoint(o: unknown): o is ScheduleFreeOptimizer | EvalPointOptimizer {
  return o instanceof ScheduleFreeOptimizer || o instanceof EvalPointOptimizer;
}

import { saveAtX } from '../src/optimizers/scheduleFreeMode.js';
import {
  bitEqual,
  snapshotWeights,
  tinyMlp,
  toyClassification,
  uniformArray,
  useBackend,
} from './helpers/tf.js';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'lrfree-bit-'));
  dirs.push(d);
  return d;
};
beforeAll(async () => {
  await useBackend('cpu');
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const CTX = { seed: 1, stepsPerEpoch: 20, totalSteps: 40 };
/** Newton builds a dense Hessian: it gets a model with few parameters. */
const shape = (name: string) => (name === 'newton' ? ([3, 2, 3] as const) : ([5, 7, 3] as const));

describe('catalog: 20 steps + save + load + 20 steps == 40 steps straight, bit for bit (cpu)', () => {
  it('the catalog is not empty and covers every family', () => {
    const fams = new Set(catalog().map((e) => e.family));
    for (const f of ['baseline', 'line-search', 'more-descent', 'alrao', 'lr-free'])
      expect(fams).toContain(f);
  });

  it.each(catalog().map((e) => e.name))('%s', async (name) => {
    const entry = catalog().find((e) => e.name === name)!;
    const [d, h, k] = shape(name);
    const { x, y } = toyClassification(20 * 8, d, k, 9);
    const fitOpts = { batchSize: 8, shuffle: false, verbose: 0 as const };
    const compile = (m: tf.LayersModel, o: LrfreeOptimizer) => {
      // Methods with an evaluation point (Schedule-Free, the rivals, auto) need their model to save at x.
      if (trainsAtOtherPoint(o)) o.attachModel(m);
      m.compile({ optimizer: o, loss: 'categoricalCrossentropy' });
    };
    const straight = tinyMlp(d, h, k, { dropout: 0.2 });
    compile(straight, entry.make(CTX));
    await straight.fit(x, y, { ...fitOpts, epochs: 2 });

    const first = tinyMlp(d, h, k, { dropout: 0.2 });
    const opt = entry.make(CTX);
    compile(first, opt);
    await first.fit(x, y, { ...fitOpts, epochs: 1 });
    const dir = tmp();
    if (trainsAtOtherPoint(opt)) await saveAtX(first, opt, fileSystem(dir));
    else await first.save(fileSystem(dir), { includeOptimizer: true });
    const resumed = await tf.loadLayersModel(fileSystem(dir));
    const ropt = resumed.optimizer as LrfreeOptimizer;
    expect(ropt.getConfig()).toEqual(opt.getConfig());
    if (trainsAtOtherPoint(ropt)) ropt.attachModel(resumed).train();
    await resumed.fit(x, y, { ...fitOpts, epochs: 1 });
    expect(ropt.counters.steps).toBe(40);
    const a = snapshotWeights(straight);
    const b = snapshotWeights(resumed);
    expect(bitEqual(a, b)).toBe(true);
    expect(ropt.lastStep.eta).toEqual((straight.optimizer as LrfreeOptimizer).lastStep.eta);
    tf.dispose([x, y]);
    for (const m of [straight, first, resumed]) m.dispose();
  });
});

describe('averager and Alrao: 20 + save + load + 20 == 40, bit for bit (cpu)', () => {
  it('polynomial-decay averager: getState/setState across a fresh averager', () => {
    const w = tf.variable(tf.tensor1d(uniformArray(6, 1)));
    const target = tf.tensor1d(uniformArray(6, 2));
    const sgd = tf.train.sgd(0.1);
    const f = () => tf.sum(tf.square(tf.sub(w, target))) as tf.Scalar;
    const run = (avg: ReturnType<typeof averager>, n: number) => {
      for (let s = 0; s < n; s++) {
        sgd.minimize(f, false, [w]);
        avg.step();
      }
    };
    const w0 = w.clone();
    const straight = averager([w], { gamma: 8 });
    run(straight, 40);
    const want = straight.averaged().map((t) => t.dataSync().slice() as Float32Array);
    w.assign(w0);
    const first = averager([w], { gamma: 8 });
    run(first, 20);
    const st = first.getState();
    const saved = { t: st.t, averaged: st.averaged.map((t) => tf.tensor(t.dataSync().slice(), t.shape)) };
    first.dispose();
    const resumed = averager([w], { gamma: 8 });
    resumed.setState(saved);
    run(resumed, 20);
    expect(resumed.steps).toBe(40);
    const got = resumed.averaged().map((t) => t.dataSync().slice() as Float32Array);
    expect(bitEqual(got, want)).toBe(true);
    tf.dispose([w, w0, target, ...saved.averaged]);
    straight.dispose();
    resumed.dispose();
    sgd.dispose();
  });

  it('Alrao-Adam model (BatchNorm, dropout): trainOnBatch, save, AlraoModel.load', async () => {
    const { x, y } = toyClassification(64, 4, 3, 8);
    const labels = tf.argMax(y, 1).toInt();
    const build = () => {
      const input = tf.input({ shape: [4] });
      let hdn = tf.layers
        .dense({ units: 8, kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) })
        .apply(input) as tf.SymbolicTensor;
      hdn = tf.layers.batchNormalization().apply(hdn) as tf.SymbolicTensor;
      hdn = tf.layers.activation({ activation: 'tanh' }).apply(hdn) as tf.SymbolicTensor;
      hdn = tf.layers.dropout({ rate: 0.2 }).apply(hdn) as tf.SymbolicTensor;
      return wrap(tf.model({ inputs: input, outputs: hdn }), {
        classes: 3,
        copies: 4,
        seed: 9,
        direction: adam(),
        minLr: 1e-4,
        maxLr: 1e-1,
      });
    };
    const straight = build();
    for (let s = 0; s < 40; s++) straight.trainOnBatch(x, labels);
    const a = build();
    for (let s = 0; s < 20; s++) a.trainOnBatch(x, labels);
    const dir = tmp();
    await a.save(dir);
    a.dispose();
    const b = await AlraoModel.load(dir);
    for (let s = 0; s < 20; s++) b.trainOnBatch(x, labels);
    expect(b.steps).toBe(40);
    expect(bitEqual(snapshotWeights(b.preClassifier), snapshotWeights(straight.preClassifier))).toBe(true);
    expect(
      bitEqual(
        [b.heads.kernel.dataSync() as Float32Array, b.heads.bias.dataSync() as Float32Array],
        [straight.heads.kernel.dataSync() as Float32Array, straight.heads.bias.dataSync() as Float32Array],
      ),
    ).toBe(true);
    expect(b.logPosterior()).toEqual(straight.logPosterior());
    tf.dispose([x, y, labels]);
    straight.dispose();
    b.dispose();
  });
});
