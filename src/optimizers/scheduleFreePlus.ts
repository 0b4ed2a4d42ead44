/**
 * ScheduleFree+ (Defazio 2026, "ScheduleFree+: Scaling Learning-Rate-Free & Schedule-Free Learning to Large
 * Language Models"; ALGORITHMS.md §15): Schedule-Free AdamW whose learning rate is a Polyak step computed
 * from the loss value, with Adam's first moment inside the z update, an optionally annealed interpolation
 * beta and AdamC weight decay (scaled by the step squared). Follows the authors' reference class
 * `AdamCScheduleFreePlusPaper` (facebookresearch/schedule_free 70785b5), including its quirks (§15 traps).
 */

import * as tf from '@tensorflow/tfjs';
import type { Schedule } from '../core/schedule.js';
import type { DirectionResult } from '../core/types.js';
import { checkKnownKeys, checkNumber, LrfreeConfigError, showValue } from '../core/validate.js';
import { constant } from '../steps/constant.js';
import { presetKeys } from './baselines.js';
import { committedPoint, type EvalPointDirection, EvalPointOptimizer } from './evalPointMethod.js';
import {
  lrScheduleSlot,
  type MethodCommonOptions,
  readScalars,
  registerRestorable,
  splitCommon,
} from './methodCommon.js';

/** Options of {@link scheduleFreePlus} (reference names in camelCase). */
export interface ScheduleFreePlusOptions {
  /** Multiplier on the Polyak step, floored at `eps`; can be scheduled from outside. Default 1. */
  lr?: number;
  /** [beta1, beta2]: the inner Adam's EMA of g and of g^2 (both bias-corrected). Default [0.9, 0.95]. */
  betas?: [number, number];
  /** Schedule-Free interpolation y = beta*x + (1-beta)*z. Default 0.9. */
  sfBeta1?: number;
  /** Adam denominator; floor on lr; initial lrMax. Default 1e-8. */
  eps?: number;
  /** AdamC decay: z <- z - gamma^2 * weightDecay * y. Default 0. */
  weightDecay?: number;
  /** Averaging weights (k+1)^r * lrMax^weightLrPower. Default 0. */
  r?: number;
  /** See `r`. Default 2. */
  weightLrPower?: number;
  /** EMA factor on the gradient's L1 norm (0 = none; the reference's EMA quirk applies, §15 trap 2). Default 0. */
  polyakBeta?: number;
  /** Steps with c = 1 (x = z). Default 0. */
  cWarmup?: number;
  /** Anneal sfBeta1 to sfBeta1Max over this many steps, linearly in log(1-beta); 0 = off. Default 0. */
  sfBeta1AnnealSteps?: number;
  /** Annealing target. Default 0.965. */
  sfBeta1Max?: number;
  /** Optional schedule multiplying lr (the reference's only warm-up). Default none. */
  schedule?: Schedule;
  /** Steps per epoch for an epoch-based schedule. */
  stepsPerEpoch?: number;
}

const KEYS = [
  'lr',
  'betas',
  'sfBeta1',
  'eps',
  'weightDecay',
  'r',
  'weightLrPower',
  'polyakBeta',
  'cWarmup',
  'sfBeta1AnnealSteps',
  'sfBeta1Max',
  'schedule',
  'stepsPerEpoch',
];
/** The preset's keys: the method's and the common ones. */
const PRESET_KEYS = presetKeys('scheduleFreePlus', KEYS);

const OPEN_UNIT = { min: 0, max: 1, minExclusive: true, maxExclusive: true };
const UNIT = { min: 0, max: 1, maxExclusive: true };
const SQRT_HALF_PI = Math.sqrt(Math.PI / 2);

/**
 * ScheduleFree+ as a direction computing the whole update (use with `constant(1)`; the preset does).
 * With k the number of steps taken before this one and f the mini-batch loss at y:
 *
 * beta_k = T > 0 ? 1 - (1-sfBeta1)^(1-t) (1-sfBeta1Max)^t, t = min(k/T, 1) : sfBeta1;
 * ip = beta_k * sum <g, z - x>;  e <- pb*e + (1-pb)*||g||_1*sqrt(pi/2);  e <- e/(1 - pb^(k+1));
 * eta = max(0, f + ip)/e;  gamma = max(lr, eps)*eta;  lrMax <- max(lrMax, gamma);
 * c = k < cWarmup ? 1 : w/weightSum with w = (k+1)^r lrMax^p added to weightSum;
 * z <- z - gamma^2 wd y;  m <- b1 m + (1-b1) g;  v <- b2 v + (1-b2) g^2;
 * z <- z - gamma (m/(1-b1^(k+1))) / (sqrt(v/(1-b2^(k+1))) + eps);  x <- (1-c) x + c z;  y <- beta_k x + (1-beta_k) z.
 *
 * Slots: `z`, `x`, `y` (the committed weights), `m`, `v`. Scalars: `k`, `e`, `lrMax`, `weightSum`, `gamma`,
 * `eta`, `ip`, `beta`. `etaScale` = gamma. Needs the loss value: minimize (or model.fit), not applyGradients.
 */
export function scheduleFreePlusDirection(options: ScheduleFreePlusOptions = {}): EvalPointDirection {
  const W = 'scheduleFreePlus';
  checkKnownKeys(W, options, KEYS, `methods.${W}`);
  const lr = checkNumber(W, 'lr', options.lr ?? 1, { min: 0 });
  const betas = options.betas ?? [0.9, 0.95];
  if (!Array.isArray(betas) || betas.length !== 2) {
    throw new LrfreeConfigError(`${W}: betas = ${showValue(betas)} is not allowed; give [beta1, beta2].`);
  }
  const beta1 = checkNumber(W, 'betas[0]', betas[0], UNIT);
  const beta2 = checkNumber(W, 'betas[1]', betas[1], UNIT);
  const sfBeta1 = checkNumber(W, 'sfBeta1', options.sfBeta1 ?? 0.9, OPEN_UNIT);
  const eps = checkNumber(W, 'eps', options.eps ?? 1e-8, { min: 0, minExclusive: true });
  const weightDecay = checkNumber(W, 'weightDecay', options.weightDecay ?? 0, { min: 0 });
  const r = checkNumber(W, 'r', options.r ?? 0, { min: 0 });
  const weightLrPower = checkNumber(W, 'weightLrPower', options.weightLrPower ?? 2, { min: 0 });
  const polyakBeta = checkNumber(W, 'polyakBeta', options.polyakBeta ?? 0, UNIT);
  const cWarmup = checkNumber(W, 'cWarmup', options.cWarmup ?? 0, { min: 0, integer: true });
  const annealSteps = checkNumber(W, 'sfBeta1AnnealSteps', options.sfBeta1AnnealSteps ?? 0, {
    min: 0,
    integer: true,
  });
  const sfBeta1Max = checkNumber(W, 'sfBeta1Max', options.sfBeta1Max ?? 0.965, OPEN_UNIT);
  const sched = lrScheduleSlot(W, options.schedule, options.stepsPerEpoch);
  return {
    kind: W,
    config: {
      lr,
      betas: [beta1, beta2],
      sfBeta1,
      eps,
      weightDecay,
      r,
      weightLrPower,
      polyakBeta,
      cWarmup,
      sfBeta1AnnealSteps: annealSteps,
      sfBeta1Max,
      schedule: sched.spec,
    },
    slotNames: ['z', 'x', 'y', 'm', 'v'],
    trainPointSlot: 2,
    evalPointOf: (slots) => slots[1].clone(),
    initSlots: (v) => [v.clone(), v.clone(), v.clone(), tf.zerosLike(v), tf.zerosLike(v)],
    initScalars: () => ({ k: 0, e: 0, lrMax: eps, weightSum: 0, gamma: 0, eta: 0, ip: 0, beta: sfBeta1 }),
    compute: (ctx): DirectionResult => {
      const f = ctx.loss;
      if (Number.isNaN(f)) {
        throw new LrfreeConfigError(
          `${W}: the Polyak step needs the loss value; call minimize(lossFn) (model.fit does) instead of ` +
            'applyGradients().',
        );
      }
      const s = ctx.scalars;
      const k = s.k as number;
      let beta = sfBeta1;
      if (annealSteps > 0) {
        const t = Math.min(k / annealSteps, 1);
        beta = 1 - Math.exp(Math.log(1 - sfBeta1) * (1 - t) + Math.log(1 - sfBeta1Max) * t);
      }
      // Per-tensor partial sums, read once and added in float64 (§15 note 9).
      const n = ctx.grads.length;
      const sums = readScalars([
        ...ctx.grads.map((g) => tf.sum(tf.abs(g))),
        ...ctx.grads.map((g, i) => tf.sum(tf.mul(g, tf.sub(ctx.slots[i][0], ctx.slots[i][1])))),
      ]);
      const l1 = sums.slice(0, n).reduce((a, b) => a + b, 0);
      const ip = beta * sums.slice(n).reduce((a, b) => a + b, 0);
      if (l1 === 0 || !Number.isFinite(ip)) {
        // The reference divides by zero here; lrfree takes no step and changes no state (§15 trap 1).
        return {
          update: ctx.params.map((p) => tf.zerosLike(p)),
          slots: ctx.slots.map((sl) => [...sl]),
          etaScale: 0,
          info: { zeroGradient: 1 },
        };
      }
      // The reference stores the bias-corrected value and decays it again next step (§15 trap 2).
      const eRaw = polyakBeta * (s.e as number) + (1 - polyakBeta) * l1 * SQRT_HALF_PI;
      const e = eRaw / (1 - polyakBeta ** (k + 1));
      const eta = Math.max(0, f + ip) / e;
      const gamma = Math.max(lr * sched.multiplier(k + 1), eps) * eta;
      const lrMax = Math.max(s.lrMax as number, gamma);
      let weightSum = s.weightSum as number;
      let c = 1;
      if (k >= cWarmup) {
        const w = (k + 1) ** r * lrMax ** weightLrPower;
        weightSum += w;
        c = w / weightSum;
      }
      const bc1 = 1 - beta1 ** (k + 1);
      const bc2 = 1 - beta2 ** (k + 1);
      const update: tf.Tensor[] = [];
      const slots: tf.Tensor[][] = [];
      ctx.grads.forEach((g, i) => {
        const y = ctx.params[i];
        const [z0, x0, , m0, v0] = ctx.slots[i];
        let z = weightDecay > 0 && gamma > 0 ? tf.sub(z0, tf.mul(y, gamma * gamma * weightDecay)) : z0;
        const m = tf.add(tf.mul(m0, beta1), tf.mul(g, 1 - beta1));
        const v = tf.add(tf.mul(v0, beta2), tf.mul(tf.square(g), 1 - beta2));
        const denom = tf.add(tf.sqrt(tf.div(v, bc2)), eps);
        z = tf.sub(z, tf.mul(tf.div(tf.div(m, bc1), denom), gamma));
        const x = tf.add(tf.mul(x0, 1 - c), tf.mul(z, c));
        const yNew = tf.add(tf.mul(x, beta), tf.mul(z, 1 - beta));
        const u = tf.sub(y, yNew);
        update.push(u);
        slots.push([z, x, committedPoint(y, u), m, v]);
      });
      return {
        update,
        slots,
        scalars: { k: k + 1, e, lrMax, weightSum, gamma, eta, ip, beta },
        etaScale: gamma,
        info: { polyak: eta, ip, l1: e, beta, c },
      };
    },
  };
}

registerRestorable<ScheduleFreePlusOptions>('scheduleFreePlus', scheduleFreePlusDirection);

/**
 * ScheduleFree+ preset: no learning rate, no schedule, no warm-up. 1 forward + 1 backward per step.
 * `lastStep.eta` is the Polyak step gamma. Evaluate at x: `opt.eval()` / `withEvalPoint`.
 *
 * @example
 * ```ts
 * const opt = lrfree.scheduleFreePlus();
 * model.compile({ optimizer: opt, loss: 'categoricalCrossentropy' });
 * await model.fit(x, y, { epochs: 5 });
 * await lrfree.withEvalPointAsync(opt, { model, trainX: x }, () => model.evaluate(xTest, yTest));
 * ```
 */
export function scheduleFreePlus(
  options: ScheduleFreePlusOptions & MethodCommonOptions = {},
): EvalPointOptimizer {
  const { own, common, schedule, stepsPerEpoch } = splitCommon<ScheduleFreePlusOptions>(
    options,
    'scheduleFreePlus',
    PRESET_KEYS,
  );
  return new EvalPointOptimizer({
    ...common,
    direction: scheduleFreePlusDirection({ ...own, schedule, stepsPerEpoch }),
    step: constant(1),
    name: 'scheduleFreePlus',
  });
}
