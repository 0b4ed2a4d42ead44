/**
 * auto()'s deterministic regime on conjugate gradients: exact line steps on a quadratic, the backtrack when
 * a step raised the loss, save/restore in the middle of it, no leak.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { withEvalPointAsync } from '../../src/core/evalPoint.js';
import { fileSystem } from '../../src/io/index.js';
import { mayPolish, POLISH_MAX_PARAMS } from '../../src/optimizers/auto/polish.js';
import { AUTO_REASONS, AUTO_REGIMES, auto, autoWith } from '../../src/optimizers/auto.js';
import type { EvalPointOptimizer } from '../../src/optimizers/evalPointMethod.js';
import { bitEqual, snapshotWeights, tinyMlp, toyClassification, useBackend } from '../helpers/tf.js';

beforeAll(async () => {
  await useBackend('cpu');
});

/** 0.5 (w - w*)' A (w - w*) with A = Q diag(1..1000 log-spaced) Q', d = 20, Q a fixed rotation. */
function quadratic() {
  const d = 20;
  let seed = 7;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648 - 0.5;
  };
  const [A, wStar] = tf.tidy(() => {
    const q = tf.linalg.qr(tf.tensor2d(Float32Array.from({ length: d * d }, rand), [d, d]))[0];
    const lambdas = tf.tensor1d(Float32Array.from({ length: d }, (_, i) => 1000 ** (i / (d - 1))));
    return [
      tf.keep(tf.matMul(tf.mul(q, lambdas), q, false, true)),
      tf.keep(tf.tensor2d(Float32Array.from({ length: d }, rand), [d, 1])),
    ];
  });
  const w = tf.variable(tf.zeros([d, 1]));
  const f = () =>
    tf.tidy(() => {
      const e = tf.sub(w, wStar);
      return tf.mul(0.5, tf.sum(tf.mul(e, tf.matMul(A, e)))) as tf.Scalar;
    });
  return { w, f, dispose: () => tf.dispose([w, A, wStar]) };
}

const lossAfter = (steps: number, deterministicDirection: 'cg' | 'sf') => {
  const q = quadratic();
  const opt = autoWith({}, { deterministicDirection });
  const f0 = q.f().dataSync()[0];
  for (let s = 0; s < steps; s++) opt.minimize(q.f, false, [q.w]);
  opt.eval();
  const loss = q.f().dataSync()[0];
  opt.train();
  opt.dispose();
  q.dispose();
  return loss / f0;
};

describe('auto() deterministic regime: conjugate gradients', () => {
  it('converges on an ill-conditioned quadratic in a few times d steps, far beyond the Schedule-Free direction', () => {
    // Conjugate gradients with exact line steps end in at most d = 20 steps in exact arithmetic and a fixed
    // metric; here Adam's per-weight metric changes under them (and the quadratic is rotated, so it does not
    // help) and float32 costs conjugacy: they converge linearly instead (5e-8 after 100 steps, where the
    // Schedule-Free direction is at 5e-4).
    const cg = lossAfter(100, 'cg');
    const sf = lossAfter(100, 'sf');
    expect(cg).toBeLessThan(1e-6);
    expect(sf).toBeGreaterThan(1e3 * cg);
  });

  it('at the float32 floor keeps trying new lines: at most 3 backtracks in a row, and the step never collapses', () => {
    // At the floor a backtrack does not return bit for bit to the line's start, and a move can leave the
    // loss bit for bit unchanged. Before the fix both stalled it for good: on the benchmark's quadratic
    // (d = 100) from step 263 of 500, every step a backtrack 10x shorter than the last (to 1e-189).
    const q = quadratic();
    // Without the Newton polish, which would end the run at the floor by landing on the minimiser (below).
    const opt = autoWith({}, { polish: false });
    let run = 0;
    let longestRun = 0;
    let restarts = 0;
    const late: number[] = [];
    for (let s = 0; s < 600; s++) {
      opt.minimize(q.f, false, [q.w]);
      const info = opt.lastStep.info;
      run = info.cgBacktrack === 1 ? run + 1 : 0;
      longestRun = Math.max(longestRun, run);
      if (info.cgRestart === 1) restarts++;
      if (s >= 500) late.push(opt.lastStep.eta as number);
    }
    expect(opt.lastStep.info.regime).toBe(AUTO_REGIMES.deterministic);
    expect(longestRun).toBeLessThanOrEqual(3);
    expect(Math.min(...late)).toBeGreaterThan(1e-6 * Math.max(...late));
    // The floor was reached (new lines were started there) and the run went on stepping.
    expect(restarts).toBeGreaterThan(0);
    opt.dispose();
    q.dispose();
  });

  it('the Newton polish: once conjugate gradients stall at the floor, one Newton step lands on the minimiser', () => {
    const run = (polish: boolean) => {
      const q = quadratic();
      const opt = autoWith({}, { polish });
      const polishedAt: number[] = [];
      let spentBefore = 0;
      for (let s = 0; s < 400; s++) {
        const backwards = opt.counters.backwards;
        opt.minimize(q.f, false, [q.w]);
        if (opt.lastStep.info.cgPolish === 1) {
          polishedAt.push(s + 1);
          spentBefore = backwards;
          // The dense Hessian of d = 20 weights: 2 gradients per column, and the step's own.
          expect(opt.counters.backwards - backwards).toBe(2 * 20 + 1);
        }
      }
      opt.eval();
      const loss = q.f().dataSync()[0];
      opt.train();
      opt.dispose();
      q.dispose();
      return { loss, polishedAt, spentBefore };
    };
    const off = run(false);
    const on = run(true);
    expect(off.polishedAt).toEqual([]);
    // Conjugate gradients alone stop at the float32 resolution of their moves...
    expect(off.loss).toBeGreaterThan(0);
    // ...the polish came only after a stall, with at least its own cost (2d gradients) spent before it...
    expect(on.polishedAt.length).toBeGreaterThanOrEqual(1);
    expect(on.spentBefore).toBeGreaterThanOrEqual(2 * 20);
    // ...and ends far below (here on the minimiser's float32 point).
    expect(on.loss).toBeLessThan(1e-3 * off.loss);
  });

  it('the Newton polish is bounded: at most POLISH_MAX_PARAMS weights, its own cost spent first, no weight decay', () => {
    expect(mayPolish(20, 40, 0, 0)).toBe(true);
    expect(mayPolish(20, 39, 0, 0)).toBe(false);
    // A second polish needs as many gradients again outside the polishes.
    expect(mayPolish(20, 79, 40, 0)).toBe(false);
    expect(mayPolish(20, 80, 40, 0)).toBe(true);
    expect(mayPolish(POLISH_MAX_PARAMS, 2 * POLISH_MAX_PARAMS, 0, 0)).toBe(true);
    expect(mayPolish(POLISH_MAX_PARAMS + 1, 1e9, 0, 0)).toBe(false);
    expect(mayPolish(20, 1e9, 0, 1e-3)).toBe(false);
    // And the optimizer obeys it: the same stalled quadratic with a weight decay never polishes.
    const q = quadratic();
    const decayed = auto({ weightDecay: 1e-3 });
    let restarts = 0;
    for (let s = 0; s < 400; s++) {
      decayed.minimize(q.f, false, [q.w]);
      expect(decayed.lastStep.info.cgPolish).toBeUndefined();
      if (decayed.lastStep.info.cgRestart === 1) restarts++;
    }
    expect(restarts).toBeGreaterThan(0); // it did stall: without the decay rule it would have polished
    decayed.dispose();
    q.dispose();
  });

  it('compensate (an ingredient): carries what float32 rounding dropped from each move, under one float32 step', async () => {
    const slotsOf = async (opt: EvalPointOptimizer) => {
      opt.eval(); // saving is refused in train mode (the model would hold y, not x)
      const saved = await opt.getWeights();
      opt.train();
      const names = saved.map((t) => t.name.split('/').at(-1));
      const carry = saved.find((t) => t.name.endsWith('/c'))?.tensor.dataSync();
      tf.dispose(saved.map((t) => t.tensor));
      return { names, carry };
    };
    const q = quadratic();
    const opt = autoWith({}, { compensate: true }) as EvalPointOptimizer;
    for (let s = 0; s < 300; s++) opt.minimize(q.f, false, [q.w]);
    const w = q.w.dataSync(); // the training point, which the carry belongs to
    const { carry } = await slotsOf(opt);
    expect(carry).toHaveLength(w.length);
    // Near the minimum the moves are a few float32 steps, so rounding drops something from most of them...
    expect(Array.from(carry!).filter((c) => c !== 0).length).toBeGreaterThan(w.length / 2);
    // ...and what is carried is less than one float32 step of its weight (2^-23 relative, 2^-22 with ties).
    carry!.forEach((c, i) => {
      expect(Math.abs(c)).toBeLessThanOrEqual(Math.abs(w[i]) * 2 ** -22 + 1e-30);
    });
    opt.dispose();
    q.dispose();
    // Off by default: the six slots of states saved before it.
    const plain = auto() as EvalPointOptimizer;
    const q2 = quadratic();
    plain.minimize(q2.f, false, [q2.w]);
    const { names, carry: none } = await slotsOf(plain);
    expect(none).toBeUndefined();
    expect(names).toContain('gPrev');
    plain.dispose();
    q2.dispose();
  });

  it('moves back along the last direction when a step raised the loss, to below where it started', () => {
    // A valley whose minimum (w = -1) lies past a wall at w < 0: the secant step, from a trial step that
    // stays in the smooth part, lands beyond the wall and raises the loss; the next step backtracks.
    const w = tf.variable(tf.tensor1d([1]));
    const f = () =>
      tf.tidy(
        () =>
          tf.sum(tf.add(tf.square(tf.add(w, 1)), tf.mul(400, tf.square(tf.relu(tf.neg(w)))))) as tf.Scalar,
      );
    const opt = auto();
    const records = [];
    const losses: number[] = [];
    for (let s = 0; s < 12; s++) {
      opt.minimize(f, false, [w]);
      records.push(opt.lastStep);
      losses.push(f().dataSync()[0]);
    }
    expect(records[2].info.regime).toBe(AUTO_REGIMES.deterministic);
    const back = records.findIndex((r) => r.info.cgBacktrack === 1);
    expect(back).toBeGreaterThan(1);
    // The step before it raised the loss; the backtrack brought it below the loss before that step.
    expect(losses[back - 1]).toBeGreaterThan(losses[back - 2]);
    expect(losses[back]).toBeLessThan(losses[back - 2]);
    // A backtrack costs no second gradient; it shrinks the step to at most half.
    expect(records[back].backwards).toBe(1);
    expect(records[back].eta as number).toBeLessThanOrEqual(0.5 * (records[back - 1].eta as number));
    // And it ends below where the rise started, near the constrained minimum w ~ -1/401 (loss ~ 0.9975).
    expect(losses.at(-1)!).toBeLessThan(losses[back - 2]);
    expect(losses.at(-1)!).toBeLessThan(1.2);
    opt.dispose();
    w.dispose();
  });

  it('does not take a move that lands where the loss is not finite: a fraction of it, no step skipped', () => {
    // sum((w + 3)^2 + sqrt(w)): the whole move towards w = -3 lands where sqrt is NaN. A step there would
    // be skipped for good (no step runs at such weights); the rule takes a tenth or a hundredth instead.
    const w = tf.variable(tf.tensor1d([4, 3]));
    const f = () => tf.tidy(() => tf.add(tf.sum(tf.square(tf.add(w, 3))), tf.sum(tf.sqrt(w))) as tf.Scalar);
    const start = f().dataSync()[0];
    const opt = auto();
    const records = [];
    for (let s = 0; s < 30; s++) {
      opt.minimize(f, false, [w]);
      records.push(opt.lastStep);
      // Where the model trains is where the optimizer says it trains: eval and back leaves it bit for bit.
      const before = w.dataSync().slice();
      opt.eval();
      opt.train();
      expect(Array.from(w.dataSync())).toEqual(Array.from(before));
    }
    expect(records.filter((r) => r.skipped)).toHaveLength(0);
    const shortened = records.filter((r) => r.info.reason === AUTO_REASONS.shortened);
    expect(shortened.length).toBeGreaterThan(0);
    expect(Number.isFinite(f().dataSync()[0])).toBe(true);
    expect(f().dataSync()[0]).toBeLessThan(start / 2);
    expect(Math.min(...w.dataSync())).toBeGreaterThanOrEqual(0);
    opt.dispose();
    w.dispose();
  });

  it('saves and restores in the middle of it: 10 + save + load + 10 == 20 straight, bit for bit (cpu)', async () => {
    const straight = quadratic();
    const a = auto();
    for (let s = 0; s < 20; s++) a.minimize(straight.f, false, [straight.w]);
    const expected = straight.w.dataSync().slice();

    const q = quadratic();
    const b = auto();
    for (let s = 0; s < 10; s++) b.minimize(q.f, false, [q.w]);
    expect(b.lastStep.info.cgBeta).toBeDefined();
    b.eval();
    const saved = await b.getWeights();
    b.train();
    const c = auto();
    await c.setWeights(saved);
    c.train();
    for (let s = 0; s < 10; s++) c.minimize(q.f, false, [q.w]);
    expect(Array.from(q.w.dataSync())).toEqual(Array.from(expected));
    tf.dispose(saved.map((t) => t.tensor));
    for (const o of [a, b, c]) o.dispose();
    straight.dispose();
    q.dispose();
  });

  it('runs inside model.fit on a full batch; fit + save (at x) + load + fit == fit straight, bit for bit (cpu)', async () => {
    const { x, y } = toyClassification(48, 5, 3, 4);
    const fitOpts = { batchSize: 48, shuffle: false, verbose: 0 as const };
    const straight = tinyMlp(5, 12, 3);
    const sOpt = auto();
    straight.compile({ optimizer: sOpt, loss: 'categoricalCrossentropy' });
    await straight.fit(x, y, { ...fitOpts, epochs: 16 });
    expect(sOpt.lastStep.info.regime).toBe(AUTO_REGIMES.deterministic);
    expect(sOpt.lastStep.info.cgBacktrack).toBeDefined();

    const first = tinyMlp(5, 12, 3);
    const opt = auto();
    first.compile({ optimizer: opt, loss: 'categoricalCrossentropy' });
    await first.fit(x, y, { ...fitOpts, epochs: 8 });
    const dir = mkdtempSync(join(tmpdir(), 'lrfree-cg-'));
    try {
      await withEvalPointAsync(opt, { model: first }, () =>
        first.save(fileSystem(dir), { includeOptimizer: true }),
      );
      const resumed = await tf.loadLayersModel(fileSystem(dir));
      (resumed.optimizer as EvalPointOptimizer).attachModel(resumed).train();
      await resumed.fit(x, y, { ...fitOpts, epochs: 8 });
      expect(bitEqual(snapshotWeights(resumed), snapshotWeights(straight))).toBe(true);
      resumed.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    tf.dispose([x, y]);
    first.dispose();
    straight.dispose();
  });

  it('fit + save + load + fit == fit straight across Newton polishes, bit for bit (cpu)', async () => {
    // Least squares with 4 weights: conjugate gradients stall at the floor, and the polish (8 gradients)
    // runs after the save (epoch 14 of the straight run).
    const x = tf.tensor2d(
      Float32Array.from({ length: 96 }, (_, i) => Math.sin(1.3 * i)),
      [32, 3],
    );
    const y = tf.tidy(() =>
      tf.add(
        tf.matMul(x, tf.tensor2d([[0.5], [-1.2], [2]])),
        tf.mul(0.1, tf.cos(tf.range(0, 32).reshape([32, 1]))),
      ),
    );
    const linear = () =>
      tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [3], kernelInitializer: 'zeros' })] });
    const fitOpts = { batchSize: 32, shuffle: false, verbose: 0 as const };
    const polishes = (opt: () => tf.Optimizer, at: number[], offset = 0) =>
      new tf.CustomCallback({
        onBatchEnd: async (batch) => {
          if ((opt() as EvalPointOptimizer).lastStep.info.cgPolish === 1) at.push(offset + batch);
        },
      });
    const straight = linear();
    const sOpt = auto();
    straight.compile({ optimizer: sOpt, loss: 'meanSquaredError' });
    const straightAt: number[] = [];
    for (let e = 0; e < 60; e++)
      await straight.fit(x, y, { ...fitOpts, epochs: 1, callbacks: [polishes(() => sOpt, straightAt, e)] });

    const first = linear();
    const opt = auto();
    first.compile({ optimizer: opt, loss: 'meanSquaredError' });
    await first.fit(x, y, { ...fitOpts, epochs: 10 });
    const dir = mkdtempSync(join(tmpdir(), 'lrfree-polish-'));
    try {
      await withEvalPointAsync(opt, { model: first }, () =>
        first.save(fileSystem(dir), { includeOptimizer: true }),
      );
      const resumed = await tf.loadLayersModel(fileSystem(dir));
      (resumed.optimizer as EvalPointOptimizer).attachModel(resumed).train();
      await resumed.fit(x, y, { ...fitOpts, epochs: 50 });
      expect(bitEqual(snapshotWeights(resumed), snapshotWeights(straight))).toBe(true);
      resumed.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // The polish ran after the save: its cost bound (gradients spent) came through the restore.
    expect(straightAt.length).toBeGreaterThan(0);
    expect(straightAt.every((e) => e >= 10)).toBe(true);
    tf.dispose([x, y]);
    first.dispose();
    straight.dispose();
  });

  it('leaks no tensor over its steps', () => {
    const q = quadratic();
    const opt = auto();
    for (let s = 0; s < 5; s++) opt.minimize(q.f, false, [q.w]);
    const before = tf.memory().numTensors;
    for (let s = 0; s < 20; s++) opt.minimize(q.f, false, [q.w]);
    expect(tf.memory().numTensors).toBe(before);
    opt.dispose();
    q.dispose();
  });
});
