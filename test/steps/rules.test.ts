/**
 * Step rules on one-variable problems with answers in closed form. Each test names the wrong
 * implementation it catches (found by scripts/mutate.ts, docs/mutation.md): defaults, bounds of
 * run-time hyperparameters, guards and formulas that the larger tests never reached.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LrfreeOptimizer } from '../../src/core/optimizer.js';
import type { Schedule } from '../../src/core/schedule.js';
import type { StepRule } from '../../src/core/types.js';
import { sgd } from '../../src/directions/sgd.js';
import { constant } from '../../src/steps/constant.js';
import { goldstein } from '../../src/steps/goldstein.js';
import { keepStepping } from '../../src/steps/keepStepping.js';
import { parabolic } from '../../src/steps/parabolic.js';
import { scheduled } from '../../src/steps/scheduled.js';
import { vault } from '../../src/steps/vault.js';
import { parabolaVertexLog, walk } from '../../src/steps/walk.js';
import { useBackend } from '../helpers/tf.js';

beforeAll(async () => {
  await useBackend('cpu');
});

const live: { dispose(): void }[] = [];
afterEach(() => {
  for (const x of live.splice(0)) x.dispose();
});

/** One scalar variable w and an SGD optimizer with the rule; `loss` maps w to a scalar loss. */
function setup(rule: StepRule, w0: number, loss: (w: tf.Tensor) => tf.Tensor) {
  const w = tf.variable(tf.scalar(w0), true, `rules${Math.random()}/w`);
  const opt = new LrfreeOptimizer({ direction: sgd(), step: rule });
  live.push(w, opt);
  return {
    opt,
    step: () => {
      opt.minimize(() => tf.tidy(() => loss(w).sum() as tf.Scalar), false, [w]);
      return { ...opt.lastStep, w: w.dataSync()[0] };
    },
  };
}

/** f(w) = 3w: phi(eta) = f(w0) - 9 eta decreases without end (every test of a line search passes A). */
const linear = (w: tf.Tensor) => tf.mul(3, w);

describe('constant and scheduled', () => {
  it('constant: lr set at run time below 1 is used (catches a lower bound of 1 on the lr hyperparameter)', () => {
    const s = setup(constant(0.1), 1, (w) => tf.mul(0.5, tf.square(w)));
    s.opt.hyperparams.set('lr', 0.5);
    expect(s.step().w).toBeCloseTo(1 - 0.5 * 1, 6);
  });

  it('scheduled: eta_k = lr * multiplier(k), lr settable below 1 (catches lr / multiplier and wrong bounds)', () => {
    const quarterAfterOne: Schedule = { kind: 'test', config: {}, multiplier: (k) => (k === 1 ? 1 : 0.25) };
    const s = setup(scheduled(0.5, quarterAfterOne), 2, linear);
    const r1 = s.step();
    expect(r1.eta).toBeCloseTo(0.5, 12);
    expect(r1.w).toBeCloseTo(2 - 0.5 * 3, 6);
    const r2 = s.step();
    expect(r2.eta).toBeCloseTo(0.125, 12);
    s.opt.hyperparams.set('lr', 0.4);
    expect(s.step().eta).toBeCloseTo(0.1, 12);
  });

  it('scheduled: a schedule is accepted and anything else refused (catches the typeof test inverted)', () => {
    expect(() => scheduled(0.1, { kind: 'x', config: {}, multiplier: () => 1 })).not.toThrow();
    expect(() => scheduled(0.1, {} as Schedule)).toThrow(/must be a schedule/);
  });
});

describe('goldstein, keepStepping, parabolic defaults', () => {
  it('goldstein: default etaMax is 10 (catches another cap): a linear loss grows eta 1, 2, 4, 8, then 10', () => {
    const s = setup(goldstein({ resetOption: 0 }), 0, linear);
    const r = s.step();
    expect(r.eta).toBe(10);
    expect(r.forwards).toBe(5);
  });

  it('keepStepping: default lr 1e-3 and 21 mini-steps on a linear loss (catches another default lr)', () => {
    const r = setup(keepStepping(), 0, linear).step();
    expect(r.info.miniSteps).toBe(21);
    expect(r.eta).toBeCloseTo(21e-3, 9);
  });

  it('keepStepping originalBugs: at most maxSteps + 1 mini-steps (catches i <= maxSteps in the loop)', () => {
    const r = setup(keepStepping({ originalBugs: true, maxSteps: 3, lr: 0.01 }), 0, linear).step();
    expect(r.info.miniSteps).toBe(4);
    expect(r.eta).toBeCloseTo(0.04, 9);
    expect(r.forwards).toBe(4);
  });

  it('keepStepping originalBugs: stops when the loss stops falling, a tie included (catches lossNew <= lossOld)', () => {
    // f(w) = 3 relu(w) from w = 0.025: the first mini-step lands at 0 loss, the second ties it.
    const r = setup(keepStepping({ originalBugs: true, maxSteps: 3, lr: 0.01 }), 0.025, (w) =>
      tf.mul(3, tf.relu(w)),
    ).step();
    expect(r.info.miniSteps).toBe(2);
    expect(r.eta).toBeCloseTo(0.02, 9);
  });

  it('parabolic: a concave line falls back to the default mu = 1 (catches another default mu)', () => {
    // f(w) = 3w - w^2 from w = 0: g = 3, phi(s) = -3s - s^2 along the unit direction, a = -1 < 0.
    const r = setup(parabolic(), 0, (w) => tf.sub(tf.mul(3, w), tf.square(w))).step();
    expect(r.info.fallback).toBe(1);
    expect(r.info.s).toBe(1);
    expect(r.w).toBeCloseTo(-1, 6);
  });
});

describe('vault', () => {
  it('a non-finite first trial does not move (catches a step of 1 taken into a NaN region)', () => {
    // f(w) = -w + 0*sqrt(1.5 - w) from w = 1: g = -1; the trial w = 1 + lr = 2 gives NaN.
    const s = setup(vault({ lr: 1 }), 1, (w) => tf.add(tf.neg(w), tf.mul(0, tf.sqrt(tf.sub(1.5, w)))));
    const r = s.step();
    expect(r.eta).toBe(0);
    expect(r.w).toBe(1);
    expect(r.forwards).toBe(1);
  });

  it('curvature in (0, 1) takes the Newton jump, not the doubling (catches a > 1 for a > 0)', () => {
    // f = 0.25 w^2 from w = 1: phi(t) = 0.25 (1 - 0.5 t)^2, a = 0.125, s0 = 0.25: Newton t = 2 (exact).
    // Doubling from t1 = 1.5 would probe 3, which is worse, and stop at 1.5.
    const r = setup(vault({ lr: 1.5 }), 1, (w) => tf.mul(0.25, tf.square(w))).step();
    expect(r.eta).toBeCloseTo(2, 5);
    expect(Math.abs(r.w)).toBeLessThan(1e-6);
  });

  it('originalFormula: f1 = (L1 - L0)/lr, f2 = (L1 - f1)/lr, t = lr - (f2/f1) lr, clamped to [lr/2, 4 lr] (catches L1 + L0)', () => {
    const lam = 0.5;
    const lr = 0.5;
    const phi = (t: number) => 0.5 * lam * (1 - lam * t) ** 2;
    const f1 = (phi(lr) - phi(0)) / lr;
    const f2 = (phi(lr) - f1) / lr;
    const expected = Math.min(4 * lr, Math.max(0.5 * lr, lr + (-f2 / f1) * lr));
    expect(expected).toBe(2); // unclamped 2.14; the mutant's formula gives 1.32
    const r = setup(vault({ lr, maxSteps: 1, originalFormula: true }), 1, (w) =>
      tf.mul(0.5 * lam, tf.square(w)),
    ).step();
    expect(r.eta).toBeCloseTo(expected, 5);
    expect(r.forwards).toBe(2);
  });
});

describe('walk', () => {
  it('default eta0 is 1e-2: the first grid is 1e-2 * 2^j, j = -2..2 (catches another default)', () => {
    // f(w) = 0.5 w^2 from w = 1: phi(eta) = 0.5 (1 - eta)^2 decreases over the grid; the winner is 0.04.
    const r = setup(walk(), 1, (w) => tf.mul(0.5, tf.square(w))).step();
    expect(r.eta).toBeCloseTo(0.04, 12);
    expect(r.info.index).toBe(2);
  });

  it('refine: no extra probe when the vertex is the winner itself (catches || for && in the probe guard)', () => {
    // A scripted batch: the gradient call sees f = 3w (g = 3 from w = 10); each probe returns a chosen
    // loss by candidate j = log2(eta / 0.01). Symmetric neighbours put the log-parabola's vertex on the
    // winner (no probe); lopsided ones put it elsewhere (one probe).
    for (const [neighbours, forwards] of [
      [[3, 3], 5],
      [[3, 4], 6],
    ] as const) {
      const w = tf.variable(tf.scalar(10), true, `walkRefine${Math.random()}/w`);
      const opt = new LrfreeOptimizer({ direction: sgd(), step: walk({ refine: true }) });
      let calls = 0;
      const losses = [5, neighbours[0], 2, neighbours[1], 5];
      const f = () => {
        calls += 1;
        if (calls === 1) return tf.tidy(() => tf.mul(3, w).sum() as tf.Scalar);
        const j = Math.round(Math.log2((10 - w.dataSync()[0]) / 3 / 0.01));
        return tf.scalar(losses[j + 2] ?? 100);
      };
      opt.minimize(f, false, [w]);
      expect(opt.lastStep.forwards).toBe(forwards);
      expect(opt.lastStep.info.index).toBe(0);
      opt.dispose();
      w.dispose();
    }
  });

  it('parabolaVertexLog: the vertex of a parabola in log eta, exactly (catches x1 + x0 in the first slope)', () => {
    const xv = 0.3 * Math.log(4);
    const l = [1, 2, 4].map((e) => (Math.log(e) - xv) ** 2 + 5);
    expect(parabolaVertexLog(1, 2, 4, l)).toBeCloseTo(Math.exp(xv), 12);
    // Off-centre grid too: candidates 0.5, 1, 2 with the vertex at log 0.7.
    const l2 = [0.5, 1, 2].map((e) => 2 * (Math.log(e) - Math.log(0.7)) ** 2);
    expect(parabolaVertexLog(0.5, 1, 2, l2)).toBeCloseTo(0.7, 12);
  });
});
