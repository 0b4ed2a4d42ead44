import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LrfreeOptimizer } from '../../src/core/optimizer.js';
import { fileSystem } from '../../src/io/index.js';
import { adamSls, CATALOG, plasls, salsa, sls, sps } from '../../src/optimizers/lineSearch.js';
import {
  bitEqual,
  maxAbsDiff,
  snapshotWeights,
  tinyMlp,
  toyClassification,
  useBackend,
} from '../helpers/tf.js';
import { quadratic, run } from './helpers.js';

const dirs: string[] = [];
beforeAll(async () => {
  await useBackend('cpu');
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const MAKERS: Record<string, () => LrfreeOptimizer> = {
  sls: () => sls({ stepsPerEpoch: 20 }),
  slsGoldstein: () => sls({ lineSearch: 'goldstein', resetOption: 'doubleEvery', nBatchesPerEpoch: 7 }),
  adamSls: () => adamSls({ stepsPerEpoch: 20 }),
  plasls: () => plasls({ stepsPerEpoch: 20, jointSteps: 2 }),
  salsa: () => salsa({ seed: 3 }),
  sps: () => sps({ c: 0.2, stepsPerEpoch: 20 }),
};

describe('presets', () => {
  it('carry the reference defaults', () => {
    const step = (o: LrfreeOptimizer) => (o.getConfig().step as { config: Record<string, unknown> }).config;
    const dir = (o: LrfreeOptimizer) =>
      o.getConfig().direction as { kind: string; config: Record<string, unknown> };
    expect(step(sls())).toEqual({
      c: 0.1,
      betaB: 0.9,
      initStepSize: 1,
      resetOption: 1,
      gamma: 2,
      nBatchesPerEpoch: null,
      etaMax: null,
      maxBacktracks: 100,
      commitAlong: 'update',
    });
    expect(step(sls({ lineSearch: 'goldstein' }))).toMatchObject({ betaF: 2, etaMax: 10 });
    expect(step(adamSls())).toMatchObject({ c: 0.2, initStepSize: 0.1, betaB: 0.9, resetOption: 1 });
    expect(dir(adamSls())).toEqual({
      kind: 'adam',
      config: { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0 },
    });
    expect(step(plasls())).toMatchObject({ strategy: 'cycle', jointSteps: 6, rule: { kind: 'armijo' } });
    expect(step(salsa())).toEqual({
      c: 0.5,
      beta: 0.9,
      growth: 1.1,
      shrink: 0.8,
      speedUp: true,
      initStepSize: 1,
      mode: 'backtrack',
      maxBacktracks: 100,
      useMomentumInSearch: false,
    });
    expect(dir(salsa()).kind).toBe('adam');
    expect(dir(salsa({ direction: 'sgd' })).kind).toBe('sgd');
    expect(step(sps())).toMatchObject({ c: 0.5, fStar: 0, variant: 'smooth', initStepSize: 1, gamma: 2 });
    expect(() => sls({ lineSearch: 'wolfe' as 'armijo' })).toThrow(/lineSearch/);
    expect(() => sls({ betaF: 3 })).toThrow(/betaF/);
    expect(() => salsa({ direction: 'rmsprop' as 'sgd' })).toThrow(/direction/);
    expect(() => salsa({ weightDecay: 1e-4 })).toThrow(/useMomentumInSearch/);
    salsa({ weightDecay: 1e-4, useMomentumInSearch: true }).dispose();
    salsa({ weightDecay: 1e-4, direction: 'sgd' }).dispose();
  });

  it('CATALOG lists sls, adamSls, plasls, salsa, sps, built with the run steps per epoch', () => {
    expect(CATALOG.map((e) => e.name)).toEqual(['sls', 'adamSls', 'plasls', 'salsa', 'sps']);
    for (const e of CATALOG) {
      const o = e.make({ stepsPerEpoch: 37, totalSteps: 100, seed: 5 });
      expect(o.name).toBe(e.name);
      expect(o.stepsPerEpoch).toBe(37);
      expect(o.seed).toBe(5);
      expect(e.family).toBe('line-search');
      o.dispose();
    }
  });

  it('adamSls commits the momentum step P*m-hat at the eta accepted along P*g (float64 Adam)', () => {
    const q = quadratic([3], [0.5], [2]);
    const opt = adamSls();
    const recs = run(opt, q.loss, q.vars, 3);
    // Re-run Adam in float64 with the reported etas.
    let w = 2;
    let m = 0;
    let v = 0;
    recs.forEach((r, i) => {
      const k = i + 1;
      const g = 3 * (w - 0.5);
      m = 0.9 * m + 0.1 * g;
      v = 0.999 * v + 0.001 * g * g;
      const p = 1 / (Math.sqrt(v / (1 - 0.999 ** k)) + 1e-8);
      w -= (r.eta as number) * p * (m / (1 - 0.9 ** k));
      expect(r.forwards).toBeGreaterThanOrEqual(1);
    });
    expect(Math.abs(q.values()[0] - w)).toBeLessThan(1e-5);
    // The momentum step differs from the searched point at step >= 2, so this checks the commit direction.
    expect(recs[1].eta).toBeGreaterThan(0);
    opt.dispose();
    q.dispose();
  });

  it('plasls reports one eta per layer', async () => {
    const { x, y } = toyClassification(64, 4, 3, 2);
    const model = tinyMlp(4, 6, 3, { bn: true });
    const opt = plasls({ model, jointSteps: 1 });
    model.compile({ optimizer: opt, loss: 'categoricalCrossentropy' });
    await model.fit(x, y, { batchSize: 16, epochs: 1, verbose: 0 });
    // dense, batchNormalization, dense.
    expect(opt.lastStep.eta).toHaveLength(3);
    expect((opt.lastStep.eta as number[]).every((e) => e > 0)).toBe(true);
    tf.dispose([x, y]);
    model.dispose();
  });

  it.each(Object.keys(MAKERS))('%s: 20 steps + save + load + 20 steps == 40 steps straight', async (name) => {
    const { x, y } = toyClassification(20 * 8, 5, 3, 9);
    const fitOpts = { batchSize: 8, shuffle: false, verbose: 0 as const };
    const straight = tinyMlp(5, 7, 3, { dropout: 0.2 });
    straight.compile({ optimizer: MAKERS[name](), loss: 'categoricalCrossentropy' });
    await straight.fit(x, y, { ...fitOpts, epochs: 2 });

    const first = tinyMlp(5, 7, 3, { dropout: 0.2 });
    first.compile({ optimizer: MAKERS[name](), loss: 'categoricalCrossentropy' });
    await first.fit(x, y, { ...fitOpts, epochs: 1 });
    const dir = mkdtempSync(join(tmpdir(), 'lrfree-ls-'));
    dirs.push(dir);
    await first.save(fileSystem(dir), { includeOptimizer: true });
    const resumed = await tf.loadLayersModel(fileSystem(dir));
    const opt = resumed.optimizer as LrfreeOptimizer;
    expect(opt.getConfig()).toEqual((first.optimizer as LrfreeOptimizer).getConfig());
    await resumed.fit(x, y, { ...fitOpts, epochs: 1 });
    expect(opt.counters.steps).toBe(40);
    expect(bitEqual(snapshotWeights(straight), snapshotWeights(resumed))).toBe(true);
    expect(opt.lastStep.eta).toEqual((straight.optimizer as LrfreeOptimizer).lastStep.eta);
    // Without the saved optimizer state the run differs, so the comparison can fail.
    const fresh = await tf.loadLayersModel(fileSystem(dir));
    fresh.compile({ optimizer: MAKERS[name](), loss: 'categoricalCrossentropy' });
    await fresh.fit(x, y, { ...fitOpts, epochs: 1 });
    expect(maxAbsDiff(snapshotWeights(straight), snapshotWeights(fresh))).toBeGreaterThan(1e-6);
    tf.dispose([x, y]);
    for (const m of [straight, first, resumed, fresh]) m.dispose();
  });
});

describe('trial purity', () => {
  it('every trial of a step sees the same dropout mask; the next step draws a new one', () => {
    const { x, y } = toyClassification(32, 4, 3, 8);
    const model = tinyMlp(4, 16, 3, { dropout: 0.5, logits: true });
    // A trial step far below float32 resolution leaves the weights bit-identical: its loss must equal the
    // gradient call's exactly, which only holds with the same mask.
    const opt = sls({ initStepSize: 1e-30, resetOption: 0, model, seed: 9 });
    const seen: number[][] = [];
    const f = () => {
      const loss = tf.losses.softmaxCrossEntropy(
        y,
        model.apply(x, { training: true }) as tf.Tensor,
      ) as tf.Scalar;
      seen[seen.length - 1].push(loss.dataSync()[0]);
      return loss;
    };
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    for (let s = 0; s < 3; s++) {
      seen.push([]);
      opt.minimize(f, false, vars);
      expect(opt.lastStep.forwards).toBe(1);
    }
    for (const [first, trial] of seen) expect(trial).toBe(first);
    expect(new Set(seen.map((s) => s[0])).size).toBe(3);
    opt.dispose();
    model.dispose();
    tf.dispose([x, y]);
  });
});
