/** D-Adaptation SGD (Defazio & Mishchenko, ICML 2023; ALGORITHMS.md §9.3, trap T19): dual averaging. */

import * as tf from '@tensorflow/tfjs';
import type { LrfreeOptimizer } from '../core/optimizer.js';
import type { Schedule } from '../core/schedule.js';
import type { Method } from '../core/types.js';
import { checkKnownKeys, checkNumber } from '../core/validate.js';
import { presetKeys } from './baselines.js';
import {
  constantStepPreset,
  growthToJson,
  lrScheduleSlot,
  type MethodCommonOptions,
  readScalars,
  registerRestorable,
} from './methodCommon.js';

/** Options of {@link dadaptSgdDirection} / {@link dadaptSgd} (reference names in camelCase). */
export interface DadaptSgdOptions {
  /** Multiplies the estimated step. Default 1. */
  lr?: number;
  /** Primal averaging of the dual-averaging point, in [0, 1) (not heavy ball). Default 0. */
  momentum?: number;
  /** L2 weight decay added to the gradient. Default 0. */
  weightDecay?: number;
  /** Initial d. Default 1e-6. */
  d0?: number;
  /** Largest factor d may grow by per step. Default Infinity. */
  growthRate?: number;
  /** Optional schedule multiplying lr inside the update (and the estimator). Default none. */
  schedule?: Schedule;
  /** Steps per epoch for an epoch-based schedule. */
  stepsPerEpoch?: number;
}

const KEYS = ['lr', 'momentum', 'weightDecay', 'd0', 'growthRate', 'schedule', 'stepsPerEpoch'];
/** The preset's keys: the method's and the common ones. */
const PRESET_KEYS = presetKeys('dadaptSgd', KEYS);

/**
 * D-Adapt SGD as a method (a piece that computes the whole update, step size included; `optimizer({ method })`, as the preset does):
 *
 * g0Norm <- ||g|| at the first step with a non-zero gradient (kept forever, weight decay excluded);
 * g <- g + weightDecay*x;  dlr = d*lr/g0Norm;  num += dlr*<g, s_old>;  s <- s + dlr*g;
 * d <- max(d, min(2*num/||s||, d*growthRate));  z = x0 - s;  x <- (1-c)*x + c*z with c = 1 - momentum
 * (momentum 0: x = x0 - s exactly, dual averaging, T19).
 *
 * Slots: `x0`, `s`. Scalars: `d`, `num`, `g0Norm`, `dHat`. `etaScale` = dlr (the step on the gradient).
 *
 * @example
 * ```ts
 * const opt = lrfree.optimizer({ method: lrfree.methods.dadaptSgd({ momentum: 0.9 }) });
 * ```
 */
export function dadaptSgdDirection(options: DadaptSgdOptions = {}): Method {
  const W = 'dadaptSgd';
  checkKnownKeys(W, options, KEYS, `methods.${W}`);
  const lr = checkNumber(W, 'lr', options.lr ?? 1, { min: 0, minExclusive: true });
  const momentum = checkNumber(W, 'momentum', options.momentum ?? 0, { min: 0, max: 1, maxExclusive: true });
  const weightDecay = checkNumber(W, 'weightDecay', options.weightDecay ?? 0, { min: 0 });
  const d0 = checkNumber(W, 'd0', options.d0 ?? 1e-6, { min: 0, minExclusive: true });
  const growthRate = checkNumber(W, 'growthRate', options.growthRate ?? Number.POSITIVE_INFINITY, {
    min: 1,
    allowInfinity: true,
  });
  const sched = lrScheduleSlot(W, options.schedule, options.stepsPerEpoch);
  const c = 1 - momentum;
  return {
    kind: 'dadaptSgd',
    ownsStep: true,
    config: { lr, momentum, weightDecay, d0, growthRate: growthToJson(growthRate), schedule: sched.spec },
    slotNames: ['x0', 's'],
    initSlots: (v) => [v.clone(), tf.zerosLike(v)],
    initScalars: () => ({ d: d0, num: 0, g0Norm: 0, dHat: 0 }),
    compute: (ctx) => {
      const noStep = () => ({
        update: ctx.params.map((p) => tf.zerosLike(p)),
        slots: ctx.slots.map((s) => [...s]),
        etaScale: 0,
      });
      let g0Norm = ctx.scalars.g0Norm as number;
      if (g0Norm === 0) g0Norm = Math.sqrt(ctx.gradNormSq.reduce((a, b) => a + b, 0));
      // No non-zero gradient seen yet: dlr would divide by zero.
      if (g0Norm === 0) return noStep();
      const d = ctx.scalars.d as number;
      const dlr = (d * lr * sched.multiplier(ctx.step) * ctx.lrScale) / g0Norm;
      const parts = ctx.grads.map((g0, i) => {
        const [, s0] = ctx.slots[i];
        const g = weightDecay > 0 ? tf.add(g0, tf.mul(ctx.params[i], weightDecay)) : g0;
        const s = tf.add(s0, tf.mul(g, dlr));
        return { dot: tf.sum(tf.mul(g, s0)), s, sq: tf.sum(tf.square(s)) };
      });
      const n = parts.length;
      const sums = readScalars([...parts.map((p) => p.dot), ...parts.map((p) => p.sq)]);
      const num = (ctx.scalars.num as number) + dlr * sums.slice(0, n).reduce((a, b) => a + b, 0);
      const sNorm = Math.sqrt(sums.slice(n).reduce((a, b) => a + b, 0));
      if (sNorm === 0) return noStep();
      const dHat = (2 * num) / sNorm;
      const dNew = Math.max(d, Math.min(dHat, d * growthRate));
      // x - x_new = c*(x - z), z = x0 - s.
      const update = parts.map((p, i) => tf.mul(tf.sub(ctx.params[i], tf.sub(ctx.slots[i][0], p.s)), c));
      return {
        update,
        slots: parts.map((p, i) => [ctx.slots[i][0], p.s]),
        scalars: { d: dNew, num, g0Norm, dHat },
        etaScale: dlr,
      };
    },
  };
}

registerRestorable<DadaptSgdOptions>('dadaptSgd', dadaptSgdDirection);

/**
 * D-Adapt SGD preset (`constant(1)`); 1 forward + 1 backward per step. `lastStep.eta` = d*lr/||g0||.
 *
 * @example
 * ```ts
 * model.compile({ optimizer: lrfree.dadaptSgd({ momentum: 0.9 }), loss: 'categoricalCrossentropy' });
 * ```
 */
export function dadaptSgd(options: DadaptSgdOptions & MethodCommonOptions = {}): LrfreeOptimizer {
  return constantStepPreset('dadaptSgd', options, dadaptSgdDirection, PRESET_KEYS);
}
