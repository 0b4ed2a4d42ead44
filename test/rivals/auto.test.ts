/** auto() prototype: calibration, the scale it reports and why it changes, invariance to the loss scale. */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { modelVariables } from '../../src/core/params.js';
import { AUTO_GAIN, AUTO_REASONS, AutoOptimizer, auto, autoWith } from '../../src/optimizers/auto.js';
import { snapshotWeights, tinyMlp, toyClassification, useBackend } from '../helpers/tf.js';

beforeAll(async () => {
  await useBackend('cpu');
});

/** Trains a tiny MLP with a loss multiplied by `scale`; returns the per-step records and the loss at x. */
function trainRun(scale: number, steps: number) {
  const model = tinyMlp(5, 12, 3);
  const { x, y } = toyClassification(64, 5, 3, 11);
  const opt = auto();
  const vars = modelVariables(model);
  const lossFn = () =>
    tf.tidy(
      () =>
        tf.mul(
          tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor),
          scale,
        ) as tf.Scalar,
    );
  const records = [];
  const w0 = snapshotWeights(model);
  let afterFirst: Float32Array[] = [];
  for (let s = 0; s < steps; s++) {
    opt.minimize(lossFn, false, vars);
    if (s === 0) afterFirst = snapshotWeights(model);
    records.push(opt.lastStep);
  }
  opt.eval();
  const final = tf.tidy(() => lossFn().dataSync()[0]) / scale;
  opt.train();
  tf.dispose([x, y]);
  model.dispose();
  opt.dispose();
  return { records, final, w0, afterFirst };
}

describe('auto() prototype', () => {
  it('needs no argument: the first step calibrates the scale by probes and moves (almost) nothing', () => {
    const { records, w0, afterFirst } = trainRun(1, 30);
    expect(records[0].info.reason).toBe(AUTO_REASONS.calibrated);
    expect(records[0].forwards).toBe(6);
    expect(records[0].eta).toBe(0);
    const moved = w0.reduce((m, a, i) => Math.max(m, ...a.map((v, j) => Math.abs(v - afterFirst[i][j]))), 0);
    expect(moved).toBeLessThan(1e-6);
    // From step 2 on the reported eta is the scale the calibration (or a later check) decided.
    expect(records[1].eta).toBe(records[0].info.next);
    for (let s = 1; s < records.length; s++) {
      expect(records[s].eta).toBe(records[s - 1].info.next);
      expect(records[s].eta as number).toBeGreaterThan(0);
      expect(Object.values(AUTO_REASONS)).toContain(records[s].info.reason);
    }
    // Checks are occasional: most steps have no probe.
    const probed = records.slice(1).filter((r) => r.forwards > 0).length;
    expect(probed).toBeLessThan(records.length / 2);
    expect(records.at(-1)!.loss).toBeLessThan(records[0].loss);
  });

  it('is invariant to the scale of the loss (x 1e-3 and x 1e3): same scale decisions, final loss within 10%', () => {
    const base = trainRun(1, 40);
    for (const scale of [1e-3, 1e3]) {
      const run = trainRun(scale, 40);
      expect(Math.abs(run.final / base.final - 1)).toBeLessThan(0.1);
      const etas = run.records.map((r) => r.eta as number);
      const baseEtas = base.records.map((r) => r.eta as number);
      etas.forEach((e, i) => {
        expect(Math.abs(e - baseEtas[i])).toBeLessThanOrEqual(1e-3 * Math.max(baseEtas[i], 1e-12));
      });
    }
  });

  it('refuses applyGradients (its checks evaluate the loss) and restores as an AutoOptimizer', async () => {
    const w = tf.variable(tf.tensor1d([1, 2]));
    const opt = auto();
    const g = tf.tensor1d([0.1, 0.2]);
    expect(() => opt.applyGradients([{ name: w.name, tensor: g }])).toThrow(/minimize/);
    const copy = tf.serialization.SerializationMap.getMap().classNameMap.AutoOptimizer;
    expect(copy).toBeDefined();
    expect(opt).toBeInstanceOf(AutoOptimizer);
    opt.dispose();
    tf.dispose([w, g]);
  });

  it('checks the move its ingredient names: the line step scale/gain, or the share of it y takes', () => {
    // 1-D f(w) = 0.5*a*w^2 with g = a*y: u = g/sqrt(v-hat) clipped to |u| <= 1 (replayed here), and a check
    // at t along -u reports ratio = 1 - t*|u|/(2|y|), from which t is recovered and compared with the move
    // the check should test.
    const a = 3;
    for (const checkMove of ['line', 'y'] as const) {
      const w = tf.variable(tf.scalar(2));
      const opt = autoWith({ probeEvery: 1 }, { checkMove });
      let v = 0;
      let checked = 0;
      for (let s = 0; s < 12; s++) {
        const y = w.dataSync()[0];
        const g = a * y;
        v = 0.999 * v + 0.001 * g * g;
        const u = Math.min(Math.abs(g) / Math.sqrt(v / (1 - 0.999 ** (s + 1))), 1);
        opt.minimize(() => tf.tidy(() => tf.mul(tf.square(w), 0.5 * a) as tf.Scalar), false, [w]);
        const { info, eta } = opt.lastStep;
        if (info.reason === AUTO_REASONS.none || info.reason === AUTO_REASONS.calibrated) continue;
        const t = (2 * Math.abs(y) * (1 - (info.ratio as number))) / u;
        const share = checkMove === 'line' ? 1 / AUTO_GAIN : 0.1 + 0.9 * (info.c as number);
        expect(t / ((eta as number) * share)).toBeCloseTo(1, 3);
        checked++;
      }
      expect(checked).toBeGreaterThan(5);
      opt.dispose();
      w.dispose();
    }
  });
});
