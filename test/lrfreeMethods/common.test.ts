import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import type { LrfreeOptimizer } from '../../src/core/optimizer.js';
import { modelVariables } from '../../src/core/params.js';
import { fileSystem } from '../../src/io/index.js';
import { dadaptAdam } from '../../src/optimizers/dadaptAdam.js';
import { dadaptSgd } from '../../src/optimizers/dadaptSgd.js';
import { dog, ldog } from '../../src/optimizers/dog.js';
import { CATALOG, methodState } from '../../src/optimizers/lrfreeMethods.js';
import { prodigy } from '../../src/optimizers/prodigy.js';
import {
  ScheduleFreeOptimizer,
  scheduleFreeAdamW,
  scheduleFreeSgd,
} from '../../src/optimizers/scheduleFree.js';
import { saveAtX } from '../../src/optimizers/scheduleFreeMode.js';
import { cosine } from '../../src/schedules/cosine.js';
import { warmup } from '../../src/schedules/warmup.js';
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

/** Every preset, with non-default knobs where they exercise more state (growthRate, schedules, warmup). */
const MAKERS: Record<string, () => LrfreeOptimizer> = {
  prodigy: () => prodigy({ growthRate: 1.5, schedule: cosine({ totalSteps: 100 }) }),
  dadaptAdam: () => dadaptAdam({ weightDecay: 1e-3, decouple: true }),
  dadaptSgd: () => dadaptSgd({ momentum: 0.9 }),
  scheduleFreeSgd: () => scheduleFreeSgd({ lr: 0.5, warmupSteps: 5 }),
  scheduleFreeAdamW: () => scheduleFreeAdamW({ lr: 0.01, warmupSteps: 5, weightDecay: 1e-3 }),
  dog: () => dog({ repsRel: 1e-4 }),
  ldog: () => ldog({ repsRel: 1e-4, schedule: warmup({ steps: 3 }) }),
};

/** The optimizer's state tensors and scalars, at x for Schedule-Free (which refuses to save at y). */
async function stateOf(opt: LrfreeOptimizer): Promise<{ slots: Float32Array[]; scalars: number[] }> {
  const sf = opt instanceof ScheduleFreeOptimizer && opt.trainMode ? opt : undefined;
  sf?.eval();
  const ws = await opt.getWeights();
  sf?.train();
  const slots = ws.slice(1, -1).map((w) => w.tensor.dataSync().slice() as Float32Array);
  const scalars = Object.values(methodState(opt)).flatMap((v) => (Array.isArray(v) ? v : [v]));
  return { slots, scalars };
}

describe('every §9 method', () => {
  it('has one catalog entry per preset, named as the issue names them', () => {
    expect(CATALOG.map((e) => e.name).sort()).toEqual(Object.keys(MAKERS).sort());
    for (const e of CATALOG) {
      const opt = e.make({ seed: 1, stepsPerEpoch: 10, totalSteps: 100 });
      expect(opt.name).toBe(e.name);
      opt.dispose();
    }
  });

  it.each(Object.keys(MAKERS))(
    '%s: a NaN gradient is skipped and leaves every accumulator finite and unchanged',
    async (name) => {
      await useBackend('cpu');
      const w = tf.variable(tf.tensor1d(uniformArray(6, 5)));
      const target = tf.tensor1d(uniformArray(6, 6));
      let poison = false;
      const lossFn = () =>
        tf.tidy(() => {
          const base = tf.sum(tf.square(tf.sub(w, target)));
          // NaN gradient with a finite loss: sqrt'(0) * 0.
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
      expect(Number.isFinite(opt.lastStep.eta as number) && (opt.lastStep.eta as number) > 0).toBe(true);
      opt.dispose();
      tf.dispose([w, target]);
    },
  );

  it.each(Object.keys(MAKERS))(
    '%s: 20 fit steps + save + load + 20 == 40 straight (config and state round trip)',
    async (name) => {
      await useBackend('cpu');
      const { x, y } = toyClassification(20 * 8, 5, 3, 9);
      const fitOpts = { batchSize: 8, shuffle: false, verbose: 0 as const };
      const straight = tinyMlp(5, 7, 3);
      straight.compile({ optimizer: MAKERS[name](), loss: 'categoricalCrossentropy' });
      await straight.fit(x, y, { ...fitOpts, epochs: 2 });

      const first = tinyMlp(5, 7, 3);
      const opt = MAKERS[name]();
      first.compile({ optimizer: opt, loss: 'categoricalCrossentropy' });
      await first.fit(x, y, { ...fitOpts, epochs: 1 });
      const dir = mkdtempSync(join(tmpdir(), 'lrfree-m-'));
      dirs.push(dir);
      if (opt instanceof ScheduleFreeOptimizer) await saveAtX(first, opt, fileSystem(dir));
      else await first.save(fileSystem(dir), { includeOptimizer: true });
      const resumed = await tf.loadLayersModel(fileSystem(dir));
      const ropt = resumed.optimizer as LrfreeOptimizer;
      expect(ropt.constructor).toBe(opt.constructor);
      expect(ropt.getConfig()).toEqual(opt.getConfig());
      expect(methodState(ropt)).toEqual(methodState(opt));
      if (ropt instanceof ScheduleFreeOptimizer) ropt.attachModel(resumed).train();
      await resumed.fit(x, y, { ...fitOpts, epochs: 1 });
      expect(ropt.counters.steps).toBe(40);
      expect(bitEqual(snapshotWeights(straight), snapshotWeights(resumed))).toBe(true); // cpu: bit for bit
      tf.dispose([x, y]);
      for (const m of [straight, first, resumed]) m.dispose();
    },
  );

  it('rejects bad hyperparameters, naming the parameter, its value and the range', () => {
    expect(() => prodigy({ d0: -1 })).toThrow(/prodigy: d0 = -1 .* must be \(0, inf\)/);
    expect(() => prodigy({ betas: [0.9, 1] })).toThrow(/betas\[1\] = 1/);
    expect(() => prodigy({ growthRate: 0.5 })).toThrow(/growthRate = 0.5/);
    expect(() => dadaptAdam({ eps: -1 })).toThrow(/dadaptAdam: eps = -1/);
    expect(() => dadaptSgd({ momentum: 1 })).toThrow(/dadaptSgd: momentum = 1 .* \[0, 1\)/);
    expect(() => scheduleFreeSgd({ momentum: 1 })).toThrow(/scheduleFreeSgd: momentum = 1 .* \(0, 1\)/);
    expect(() => scheduleFreeAdamW({ warmupSteps: 1.5 })).toThrow(/warmupSteps = 1.5/);
    expect(() => dog({ repsRel: 0 })).toThrow(/dog: repsRel = 0/);
    expect(() => ldog({ initEta: -1 })).toThrow(/ldog: initEta = -1/);
    expect(() => prodigy({ dcoef: 2 } as never)).toThrow(/unknown option 'dcoef'/);
  });
});

// cpu only: wasm takes twice as long here, and the core's own leak tests already cover both backends.
describe.each(['cpu'] as const)('no tensor leaks over 1000 steps on %s', (backend) => {
  it.each(Object.keys(MAKERS))('%s in a custom loop', async (name) => {
    await useBackend(backend);
    const model = tinyMlp(4, 6, 3, { bn: true, dropout: 0.2, logits: true });
    const { x, y } = toyClassification(8, 4, 3);
    const opt = MAKERS[name]();
    const vars = modelVariables(model);
    const lossFn = () =>
      tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar;
    let at10 = -1;
    for (let s = 1; s <= 1000; s++) {
      opt.minimize(lossFn, true, vars)?.dispose();
      if (s === 10) at10 = tf.memory().numTensors;
    }
    expect(opt.counters.steps).toBe(1000);
    expect(tf.memory().numTensors).toBe(at10);
    opt.dispose();
    tf.dispose([x, y]);
    model.dispose();
  });

  it.each(Object.keys(MAKERS))('%s inside model.fit with compiled metrics', async (name) => {
    await useBackend(backend);
    const opt = MAKERS[name]();
    const { atBatch10, atEnd } = await fitTensorCounts(opt, 1000);
    expect(opt.counters.steps).toBe(1000);
    expect(atEnd).toBe(atBatch10);
  });
});
