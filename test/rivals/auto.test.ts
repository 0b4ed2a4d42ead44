/** auto() prototype: calibration, the scale it reports and why it changes, invariance to the loss scale. */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { modelVariables } from '../../src/core/params.js';
import {
  AUTO_GAIN,
  AUTO_REASONS,
  AUTO_REGIMES,
  AUTO_WEIGHT_DECAY,
  type AutoIngredients,
  AutoOptimizer,
  type AutoOptions,
  auto,
  autoWith,
  DETERMINISTIC_C_FLOOR,
} from '../../src/optimizers/auto.js';
import { snapshotWeights, tinyMlp, toyClassification, useBackend } from '../helpers/tf.js';

beforeAll(async () => {
  await useBackend('cpu');
});

/**
 * Trains a tiny MLP with a loss multiplied by `scale`, on `batches` mini-batches in turn (1: full batch, a
 * deterministic loss); returns the per-step records and the full-batch loss at x.
 */
function trainRun(scale: number, steps: number, batches = 4) {
  return trainRunWith(scale, steps, batches, {});
}

function trainRunWith(
  scale: number,
  steps: number,
  batches: number,
  ingredients: AutoIngredients,
  options: AutoOptions = {},
) {
  const model = tinyMlp(5, 12, 3);
  const { x, y } = toyClassification(64, 5, 3, 11);
  const opt = autoWith(options, ingredients);
  const vars = modelVariables(model);
  const rows = 64 / batches;
  let batch = -1;
  const lossOn = (b: number | undefined) => () =>
    tf.tidy(() => {
      const xb = b === undefined ? x : x.slice(b * rows, rows);
      const yb = b === undefined ? y : y.slice(b * rows, rows);
      return tf.mul(
        tf.losses.softmaxCrossEntropy(yb, model.apply(xb, { training: true }) as tf.Tensor),
        scale,
      ) as tf.Scalar;
    });
  const lossFn = lossOn(undefined);
  const records = [];
  const w0 = snapshotWeights(model);
  let afterFirst: Float32Array[] = [];
  for (let s = 0; s < steps; s++) {
    batch = (batch + 1) % batches;
    opt.minimize(lossOn(batch), false, vars);
    if (s === 0) afterFirst = snapshotWeights(model);
    records.push(opt.lastStep);
  }
  opt.eval();
  const final = tf.tidy(() => lossFn().dataSync()[0]) / scale;
  const atX = snapshotWeights(model);
  opt.train();
  tf.dispose([x, y]);
  model.dispose();
  opt.dispose();
  return { records, final, w0, afterFirst, atX };
}

describe('auto() prototype', () => {
  it('needs no argument: the first step calibrates the scale by probes and moves (almost) nothing', () => {
    const { records, w0, afterFirst } = trainRun(1, 30);
    expect(records.slice(1).every((r) => r.info.regime === AUTO_REGIMES.noisy)).toBe(true);
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
    // On a noisy loss the calibrated scale is kept: no probe after step 1, and the guard stays quiet.
    expect(records.slice(1).every((r) => r.forwards === 0)).toBe(true);
    expect(records.some((r) => r.info.reason === AUTO_REASONS.lossRose)).toBe(false);
    expect(records.at(-1)!.loss).toBeLessThan(records[0].loss);
  });

  it('is invariant to the scale of the loss (x 1e-3 and x 1e3): same scale decisions, final loss within 10%', () => {
    for (const batches of [1, 4]) {
      const base = trainRun(1, 40, batches);
      for (const scale of [1e-3, 1e3]) {
        const run = trainRun(scale, 40, batches);
        expect(Math.abs(run.final / base.final - 1)).toBeLessThan(0.1);
        // The decisions are invariant in exact arithmetic; in float32 a check near its threshold can go
        // either way (the parabola's curvature is a difference of nearly equal losses, and at convergence
        // the checked decrease is at round-off), so: the same decisions while the loss falls, the same
        // decision at most steps, and the same scales on average.
        const reasons = run.records.map((r) => r.info.reason);
        const baseReasons = base.records.map((r) => r.info.reason);
        const same = reasons.filter((r, i) => r === baseReasons[i]).length;
        expect(same).toBeGreaterThanOrEqual(32);
        // Identical while the loss still falls well above round-off (the full-batch run has converged by
        // step ~30, where the checked decreases are differences of equal losses).
        expect(reasons.slice(0, 25)).toEqual(baseReasons.slice(0, 25));
        // The full batch's conjugate-gradient steps are secants of gradient differences on a nonconvex loss:
        // equal to 1e-3 for the first 7 steps here, then float32 differences grow from step to step (as
        // any conjugate-gradient run's do; the final loss above stays within 10%).
        const etas = run.records.map((r) => r.eta as number);
        const baseEtas = base.records.map((r) => r.eta as number);
        const falling = batches === 1 ? 7 : 25;
        for (let i = 1; i < falling; i++) expect(Math.abs(etas[i] / baseEtas[i] - 1)).toBeLessThan(0.03);
      }
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
      // The regime is pinned to noisy: this is the check of mini-batch training (a 1-D loss is deterministic).
      const opt = autoWith({ probeEvery: 1 }, { checkMove, regimes: false, noisyChecks: 'armijo' });
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

  it('tells a deterministic loss from a noisy one at step 2, and on a deterministic one checks every step', () => {
    const full = trainRun(1, 30, 1).records;
    expect(full[0].info.regime).toBe(AUTO_REGIMES.unknown);
    for (const r of full.slice(1)) {
      expect(r.info.regime).toBe(AUTO_REGIMES.deterministic);
      // One probe per step: the committed move, whose loss is also the next step's determinism test.
      expect(r.forwards).toBe(1);
      // No averaging without noise (conjugate gradients: x = y = z).
      expect(r.info.c as number).toBeGreaterThanOrEqual(DETERMINISTIC_C_FLOOR);
    }
    // From step 3 on, conjugate gradients: a second gradient per step for the secant (not when backtracking).
    for (const r of full.slice(2)) {
      expect([0, 1]).toContain(r.info.cgBacktrack);
      if (!r.info.cgBacktrack) expect(r.info.cgBeta).toBeGreaterThanOrEqual(0);
      expect(r.backwards).toBe(r.info.cgBacktrack ? 1 : 2);
    }
    // The Schedule-Free direction instead: the average forgets with the floor, one gradient per step.
    const sf = trainRunWith(1, 30, 1, { deterministicDirection: 'sf' }).records;
    for (const r of sf.slice(2)) {
      expect(r.info.c as number).toBeGreaterThanOrEqual(DETERMINISTIC_C_FLOOR);
      expect(r.info.c as number).toBeLessThan(1);
      expect(r.backwards).toBe(1);
    }
    const noisy = trainRun(1, 30, 4).records;
    expect(noisy.slice(1).every((r) => r.info.regime === AUTO_REGIMES.noisy)).toBe(true);
    // Schedule-Free's own weights: c falls to about 1/k.
    expect(noisy.at(-1)!.info.c as number).toBeLessThan(DETERMINISTIC_C_FLOOR / 2);
    // Without the regimes a full batch is treated as noisy.
    const w = tf.variable(tf.tensor1d([1, -1]));
    const opt = autoWith({}, { regimes: false });
    for (let s = 0; s < 3; s++)
      opt.minimize(() => tf.tidy(() => tf.sum(tf.square(w)) as tf.Scalar), false, [w]);
    expect(opt.lastStep.info.regime).toBe(AUTO_REGIMES.noisy);
    opt.dispose();
    w.dispose();
  });

  it('decays the weights by default on a noisy loss only; an explicit weightDecay applies in both regimes', () => {
    const norm = (ws: Float32Array[]) =>
      Math.sqrt(ws.reduce((a, w) => a + w.reduce((b, v) => b + v * v, 0), 0));
    // Noisy (4 mini-batches): the default decays (smaller weights at x) where weightDecay 0 does not.
    const noisyDefault = trainRunWith(1, 60, 4, {});
    const noisyNone = trainRunWith(1, 60, 4, {}, { weightDecay: 0 });
    expect(AUTO_WEIGHT_DECAY).toBeGreaterThan(0);
    expect(norm(noisyDefault.atX)).toBeLessThan(norm(noisyNone.atX));
    // Step 1 calibrates and step 2 moves before the regime is known: those match bit for bit.
    expect(noisyDefault.records[1].eta).toBe(noisyNone.records[1].eta);
    // Deterministic (full batch): the default is no decay, bit for bit; an explicit one does decay.
    const fullDefault = trainRunWith(1, 30, 1, {});
    const fullNone = trainRunWith(1, 30, 1, {}, { weightDecay: 0 });
    const fullDecay = trainRunWith(1, 30, 1, {}, { weightDecay: AUTO_WEIGHT_DECAY });
    expect(fullDefault.atX).toEqual(fullNone.atX);
    expect(fullDecay.atX).not.toEqual(fullNone.atX);
  });

  it('falls back to the noisy regime when the next batch gives the same weights another loss', () => {
    // Full batch for 10 steps, then the loss changes under the weights (as a new mini-batch would).
    const w = tf.variable(tf.tensor1d([1, -2, 0.5]));
    const opt = auto();
    const regimes: number[] = [];
    for (let s = 0; s < 14; s++) {
      const shift = s < 10 ? 0 : s;
      opt.minimize(() => tf.tidy(() => tf.add(tf.sum(tf.square(w)), shift) as tf.Scalar), false, [w]);
      regimes.push(opt.lastStep.info.regime as number);
    }
    expect(regimes.slice(1, 10).every((r) => r === AUTO_REGIMES.deterministic)).toBe(true);
    expect(regimes.slice(10).every((r) => r === AUTO_REGIMES.noisy)).toBe(true);
    opt.dispose();
    w.dispose();
  });

  it('converges much further on an ill-conditioned deterministic quadratic than treated as noisy', () => {
    // f(w) = 0.5 * sum(a_i w_i^2) rotated by 45 degrees in pairs, condition number 100, 300 steps.
    const run = (ingredients: AutoIngredients) => {
      const w = tf.variable(tf.tensor1d([1, 1, -1, 2]));
      const a = tf.tensor1d([1, 100, 10, 0.5]);
      const f = () =>
        tf.tidy(() => {
          const [w0, w1, w2, w3] = tf.unstack(w);
          const r = tf.stack([tf.add(w0, w1), tf.sub(w0, w1), tf.add(w2, w3), tf.sub(w2, w3)]);
          return tf.mul(tf.sum(tf.mul(a, tf.square(r))), 0.25) as tf.Scalar;
        });
      const opt = autoWith({}, ingredients);
      for (let s = 0; s < 300; s++) opt.minimize(f, false, [w]);
      opt.eval();
      const loss = f().dataSync()[0];
      opt.train();
      opt.dispose();
      tf.dispose([w, a]);
      return loss;
    };
    const deterministic = run({});
    // Treated as noisy: the calibrated scale kept (the default there), or checked by Armijo every 10 steps.
    for (const noisyChecks of ['none', 'armijo'] as const) {
      expect(deterministic).toBeLessThan(run({ regimes: false, noisyChecks }) / 10);
    }
  });

  it('noisy regime: halves the scale when the smoothed loss rises to twice its value at calibration', () => {
    // Two alternating batches (a noisy loss) whose level drifts up with the step count, whatever the weights.
    const w = tf.variable(tf.tensor1d([1, -1]));
    const opt = auto();
    let s = 0;
    const records = [];
    for (; s < 40; s++) {
      const target = s % 2 ? 0.3 : -0.3;
      opt.minimize(
        () => tf.tidy(() => tf.add(tf.sum(tf.square(tf.sub(w, target))), 0.2 * s) as tf.Scalar),
        false,
        [w],
      );
      records.push(opt.lastStep);
    }
    expect(records[1].info.regime).toBe(AUTO_REGIMES.noisy);
    const halvings = records.filter((r) => r.info.reason === AUTO_REASONS.lossRose);
    expect(halvings.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < records.length; i++) {
      const r = records[i];
      if (r.info.reason === AUTO_REASONS.lossRose) expect(r.info.next).toBeCloseTo((r.eta as number) / 2, 12);
      else expect(r.info.next).toBe(r.eta);
    }
    opt.dispose();
    w.dispose();
  });

  it("noisyChecks 'plateau' (the default): halves the scale when the smoothed loss stops falling, not before", () => {
    // A noisy loss (two alternating batches) that drifts down by `fall` per step whatever the weights; the
    // weights settle within a few steps, so the loss is flat when fall = 0.
    const run = (noisyChecks: 'plateau' | 'none' | 'default', fall: number) => {
      const w = tf.variable(tf.tensor1d([1, -1]));
      const opt = noisyChecks === 'default' ? auto() : autoWith({}, { noisyChecks });
      const records = [];
      for (let s = 0; s < 420; s++) {
        const target = s % 2 ? 0.3 : -0.3;
        opt.minimize(
          () => tf.tidy(() => tf.add(tf.sum(tf.square(tf.sub(w, target))), 10 - fall * s) as tf.Scalar),
          false,
          [w],
        );
        records.push(opt.lastStep);
      }
      opt.dispose();
      w.dispose();
      return records;
    };
    const flat = run('plateau', 0);
    const halvings = flat.flatMap((r, i) => (r.info.reason === AUTO_REASONS.plateau ? [i] : []));
    // The guard runs from the third step (index 2: step 1 calibrates, step 2 tells the regime): the windows
    // end at guarded steps 100, 200 and 400; the first one (guarded step 50) only sets the reference.
    expect(halvings).toEqual([101, 201, 401]);
    for (const i of halvings) expect(flat[i].info.next).toBeCloseTo((flat[i].eta as number) / 2, 12);
    expect(flat[419].eta).toBeCloseTo((flat[halvings[0]].eta as number) / 8, 12);
    // auto() with no argument runs the same rule, step for step.
    const byDefault = run('default', 0);
    expect(byDefault.map((r) => [r.eta, r.info.reason])).toEqual(flat.map((r) => [r.eta, r.info.reason]));
    // A loss falling by more than 1% per window (0.02 per step from ~10) keeps the scale; so does 'none'.
    expect(run('plateau', 0.02).some((r) => r.info.reason === AUTO_REASONS.plateau)).toBe(false);
    const plain = run('none', 0);
    expect(plain.some((r) => r.info.reason === AUTO_REASONS.plateau)).toBe(false);
    expect(plain[419].eta).toBe(plain[halvings[0]].eta);
  });

  it('the plateau state is saved: 120 steps + getWeights + a fresh auto() + setWeights + 300 == 420 straight', async () => {
    // The plateau test's noisy, flat loss: halvings at steps 101, 201 and 401, so the save (after step 120)
    // falls between windows and the restored optimizer must carry the window's reference and position.
    const loss = (w: tf.Variable, s: number) => () =>
      tf.tidy(() => tf.add(tf.sum(tf.square(tf.sub(w, s % 2 ? 0.3 : -0.3))), 10) as tf.Scalar);
    const trace = (opt: AutoOptimizer, w: tf.Variable, from: number, to: number) => {
      const out: [number, number][] = [];
      for (let s = from; s < to; s++) {
        opt.minimize(loss(w, s), false, [w]);
        out.push([opt.lastStep.eta as number, opt.lastStep.info.reason as number]);
      }
      return out;
    };
    const w1 = tf.variable(tf.tensor1d([1, -1]));
    const straight = auto();
    const want = trace(straight, w1, 0, 420);
    expect(want.filter(([, r]) => r === AUTO_REASONS.plateau)).toHaveLength(3);

    const w2 = tf.variable(tf.tensor1d([1, -1]));
    const first = auto();
    const got = trace(first, w2, 0, 120);
    // A checkpoint holds x (the evaluation point); a restored optimizer starts there and train() puts y back.
    first.eval();
    const saved = (await first.getWeights()).map((t) => ({ name: t.name, tensor: t.tensor.clone() }));
    const config = first.getConfig();
    first.dispose();
    const resumed = AutoOptimizer.fromConfig(AutoOptimizer, config) as AutoOptimizer;
    await resumed.setWeights(saved);
    resumed.train();
    got.push(...trace(resumed, w2, 120, 420));
    expect(got).toEqual(want);
    expect(Array.from(w2.dataSync())).toEqual(Array.from(w1.dataSync()));
    tf.dispose([w1, w2, ...saved.map((t) => t.tensor)]);
    straight.dispose();
    resumed.dispose();
  });

  it('an explicit probeEvery turns the Armijo checks on for a noisy loss', () => {
    const w = tf.variable(tf.tensor1d([1, -1, 2]));
    const opt = auto({ probeEvery: 5 });
    const probed: number[] = [];
    for (let s = 0; s < 30; s++) {
      const target = s % 2 ? 0.2 : -0.2;
      opt.minimize(() => tf.tidy(() => tf.sum(tf.square(tf.sub(w, target))) as tf.Scalar), false, [w]);
      if (s > 0 && opt.lastStep.forwards > 0) probed.push(s);
    }
    expect(opt.lastStep.info.regime).toBe(AUTO_REGIMES.noisy);
    // Checks every 5 steps (sooner after a change), not at every step.
    expect(probed.length).toBeGreaterThanOrEqual(5);
    expect(probed.length).toBeLessThan(20);
    opt.dispose();
    w.dispose();
  });
});
