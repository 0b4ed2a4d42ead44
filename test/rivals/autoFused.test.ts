/**
 * auto() on wasm with its fused kernel (LrfreeFusedAuto, src/backend/wasm/fusedAuto.ts): the same run as the
 * TF.js ops path to float32 round-off, and the promises of test/rivals/promises.test.ts kept on that path
 * (bit-exact save/restore, a non-finite step skipped without touching state, no leaks).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUSED_AUTO, fusedAutoAvailable } from '../../src/backend/wasm/fusedAuto.js';
import { withEvalPoint, withEvalPointAsync } from '../../src/core/evalPoint.js';
import { modelVariables } from '../../src/core/params.js';
import type { StepRecord } from '../../src/core/types.js';
import { fileSystem } from '../../src/io/index.js';
import { type AutoOptimizer, auto, autoWith } from '../../src/optimizers/auto.js';
import type { EvalPointOptimizer } from '../../src/optimizers/evalPointMethod.js';
import { methodState } from '../../src/optimizers/lrfreeMethods.js';
import { bitEqual, snapshotWeights, tinyMlp, toyClassification, useBackend } from '../helpers/tf.js';

const dirs: string[] = [];
beforeAll(async () => {
  await useBackend('wasm');
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/**
 * `steps` steps of `opt` on a tiny MLP, on `batches` mini-batches in turn (1: full batch, auto's
 * deterministic regime); the records, the weights at y and at x, and the kernels of a step.
 */
async function trainRun(opt: AutoOptimizer, steps: number, batches = 4) {
  const model = tinyMlp(6, 33, 3);
  const { x, y } = toyClassification(64, 6, 3, 4);
  const vars = modelVariables(model);
  const rows = 64 / batches;
  let batch = 0;
  const lossFn = () =>
    tf.tidy(
      () =>
        tf.losses.softmaxCrossEntropy(
          y.slice(batch * rows, rows),
          model.apply(x.slice(batch * rows, rows), { training: true }) as tf.Tensor,
        ) as tf.Scalar,
    );
  const records: StepRecord[] = [];
  let kernels: string[] = [];
  for (let s = 0; s < steps; s++) {
    batch = s % batches;
    if (s === 5)
      kernels = (
        await tf.profile(() => {
          opt.minimize(lossFn, false, vars);
        })
      ).kernels.map((k) => k.name);
    else opt.minimize(lossFn, false, vars);
    records.push(opt.lastStep);
  }
  const atY = snapshotWeights(model);
  const atX = withEvalPoint(opt, { model }, () => snapshotWeights(model));
  tf.dispose([x, y]);
  model.dispose();
  opt.dispose();
  return { records, atY, atX, kernels };
}

const relDiff = (a: Float32Array[], b: Float32Array[]) => {
  let d = 0;
  let m = 0;
  a.forEach((w, i) => {
    for (let j = 0; j < w.length; j++) {
      d = Math.max(d, Math.abs(w[j] - b[i][j]));
      m = Math.max(m, Math.abs(b[i][j]));
    }
  });
  return d / m;
};

describe('auto() with the fused wasm kernel', () => {
  it('takes the same decisions as the TF.js ops path in the deterministic regime (full batch)', async () => {
    const steps = 15;
    // The Schedule-Free direction in the deterministic regime (the fused kernel's path; the default
    // conjugate gradients run TF.js ops on both paths).
    const fused = await trainRun(autoWith({ weightDecay: 0.01 }, { deterministicDirection: 'sf' }), steps, 1);
    const ops = await trainRun(
      autoWith({ weightDecay: 0.01 }, { fused: false, deterministicDirection: 'sf' }),
      steps,
      1,
    );
    fused.records.forEach((r, s) => {
      const o = ops.records[s];
      expect([r.info.regime, r.info.reason, r.forwards]).toEqual([o.info.regime, o.info.reason, o.forwards]);
      expect(Math.abs((r.eta as number) - (o.eta as number))).toBeLessThanOrEqual(1e-3 * (o.eta as number));
    });
    expect(fused.records.at(-1)!.info.regime).toBe(1);
    expect(relDiff(fused.atX, ops.atX)).toBeLessThan(1e-4);
  });

  it('takes the same decisions as the TF.js ops path and ends at the same weights to float32 round-off', async () => {
    expect(fusedAutoAvailable()).toBe(true);
    // Armijo checks on the noisy loss too (not the default), so the comparison covers probe steps.
    const fused = await trainRun(autoWith({ weightDecay: 0.01 }, { noisyChecks: 'armijo' }), 40);
    const ops = await trainRun(autoWith({ weightDecay: 0.01 }, { fused: false, noisyChecks: 'armijo' }), 40);
    // One fused kernel per variable (4) on the fused path, none on the ops path.
    expect(fused.kernels.filter((k) => k === FUSED_AUTO)).toHaveLength(4);
    expect(ops.kernels).not.toContain(FUSED_AUTO);
    expect(ops.kernels.length).toBeGreaterThan(fused.kernels.length + 4 * 20);
    fused.records.forEach((r, s) => {
      const o = ops.records[s];
      expect(r.skipped).toBe(false);
      expect([r.info.reason, r.forwards]).toEqual([o.info.reason, o.forwards]);
      // The parabola's re-centre amplifies the round-off of the probed losses (a difference of close values).
      expect(Math.abs((r.eta as number) - (o.eta as number))).toBeLessThanOrEqual(1e-3 * (o.eta as number));
      expect(Math.abs(r.loss - o.loss)).toBeLessThanOrEqual(1e-4 * o.loss);
    });
    // Several checks and a moving scale: the comparison covers the probe steps too.
    expect(new Set(fused.records.map((r) => r.eta)).size).toBeGreaterThan(2);
    // Measured: 2.5e-5 of the largest weight (y and x) after 40 steps; the scales within 4e-4.
    expect(relDiff(fused.atY, ops.atY)).toBeLessThan(1e-4);
    expect(relDiff(fused.atX, ops.atX)).toBeLessThan(1e-4);
    expect(bitEqual(fused.atY, ops.atY)).toBe(false);
  });

  it('20 fit steps + save (at x) + load + 20 == 40 straight, bit for bit on wasm', async () => {
    const make = () => auto({ weightDecay: 1e-3, probeEvery: 3 });
    const { x, y } = toyClassification(20 * 8, 5, 3, 9);
    const fitOpts = { batchSize: 8, shuffle: false, verbose: 0 as const };
    const straight = tinyMlp(5, 40, 3);
    straight.compile({ optimizer: make(), loss: 'categoricalCrossentropy' });
    await straight.fit(x, y, { ...fitOpts, epochs: 2 });

    const first = tinyMlp(5, 40, 3);
    const opt = make();
    first.compile({ optimizer: opt, loss: 'categoricalCrossentropy' });
    await first.fit(x, y, { ...fitOpts, epochs: 1 });
    const dir = mkdtempSync(join(tmpdir(), 'lrfree-autofused-'));
    dirs.push(dir);
    await withEvalPointAsync(opt, { model: first }, () =>
      first.save(fileSystem(dir), { includeOptimizer: true }),
    );
    const resumed = await tf.loadLayersModel(fileSystem(dir));
    const ropt = resumed.optimizer as EvalPointOptimizer;
    expect(methodState(ropt)).toEqual(methodState(opt));
    ropt.attachModel(resumed).train();
    await resumed.fit(x, y, { ...fitOpts, epochs: 1 });
    expect(ropt.counters.steps).toBe(40);
    expect(bitEqual(snapshotWeights(resumed), snapshotWeights(straight))).toBe(true);
    tf.dispose([x, y]);
    for (const m of [straight, first, resumed]) m.dispose();
  });

  it.each([
    ['fused', true],
    ['ops', false],
  ])(
    'skips a step whose update overflows float32 (%s path) and leaves weights and state as they were',
    async (_, fused) => {
      // Weights of 1e38 and a decay of 10: the first moving step's z = z0 - eta*10*y overflows to -Inf.
      const w = tf.variable(tf.fill([41], 1e38));
      const lossFn = () => tf.tidy(() => tf.sum(tf.mul(w, 1e-30)) as tf.Scalar);
      const opt = autoWith({ weightDecay: 10 }, { fused });
      const stateOf = async () => {
        const leave = opt.enterEvalPoint();
        const ws = await opt.getWeights();
        const slots = ws.slice(1, -1).map((t) => t.tensor.dataSync().slice() as Float32Array);
        leave();
        return { slots, scalars: methodState(opt) };
      };
      opt.minimize(lossFn, false, [w]);
      expect(opt.lastStep.skipped).toBe(false);
      expect(opt.scale).toBeGreaterThan(0.1);
      const before = await stateOf();
      const weights = [w.dataSync().slice() as Float32Array];
      opt.minimize(lossFn, false, [w]);
      expect(opt.lastStep.skipped).toBe(true);
      expect(opt.lastStep.skipReason).toBe('update');
      const after = await stateOf();
      expect(bitEqual(after.slots, before.slots)).toBe(true);
      expect(after.scalars).toEqual(before.scalars);
      expect(bitEqual([w.dataSync().slice() as Float32Array], weights)).toBe(true);
      expect(after.slots.every((a) => a.every(Number.isFinite))).toBe(true);
      expect([opt.counters.steps, opt.counters.skipped]).toEqual([1, 1]);
      opt.dispose();
      w.dispose();
    },
  );

  it('leaks no tensor in a custom loop (300 steps, an evaluation point on the way)', () => {
    const model = tinyMlp(4, 6, 3, { bn: true, dropout: 0.2 });
    const { x, y } = toyClassification(8, 4, 3);
    const opt = auto();
    const vars = modelVariables(model);
    const lossFn = () =>
      tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar;
    let at10 = -1;
    for (let s = 1; s <= 300; s++) {
      opt.minimize(lossFn, true, vars)?.dispose();
      if (s === 10) at10 = tf.memory().numTensors;
      if (s === 150) withEvalPoint(opt, { model, trainX: x }, () => 0);
    }
    expect(opt.counters.skipped).toBe(0);
    expect(tf.memory().numTensors).toBe(at10);
    opt.dispose();
    tf.dispose([x, y]);
    model.dispose();
  });
});
