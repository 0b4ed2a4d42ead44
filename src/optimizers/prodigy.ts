/**
 * Prodigy (Mishchenko & Defazio, ICML 2024): Adam whose step size d is estimated on the fly
 * (ALGORITHMS.md §9.1, traps T17, T24).
 */

import * as tf from '@tensorflow/tfjs';
import type { LrfreeOptimizer } from '../core/optimizer.js';
import type { Schedule } from '../core/schedule.js';
import type { Method } from '../core/types.js';
import { checkBoolean, checkKnownKeys, checkNumber, LrfreeConfigError, showValue } from '../core/validate.js';
import { presetKeys } from './baselines.js';
import {
  type AdamVocabulary,
  adamVocabulary,
  constantStepPreset,
  growthToJson,
  lrScheduleSlot,
  type MethodCommonOptions,
  readScalars,
  registerRestorable,
} from './methodCommon.js';

const UNIT = { min: 0, max: 1, maxExclusive: true };

// -------------------------------------------------------------------------------------------------
// Prodigy.

/** Options of {@link prodigyDirection} / {@link prodigy} (reference names in camelCase). */
export interface ProdigyOptions extends AdamVocabulary {
  /** Multiplies the estimated step d (the reference recommends leaving it at 1). Default 1. */
  lr?: number;
  /** [beta1, beta2]: moment decays. Default [0.9, 0.999]. */
  betas?: [number, number];
  /** Decay of the d-estimator sums r and s. Default null = sqrt(beta2). */
  beta3?: number | null;
  /** Added to sqrt(v), scaled by the new d. Default 1e-8. */
  eps?: number;
  /**
   * Weight decay, Prodigy's own (kept inside the method, not `transforms.decoupledWeightDecay`): decoupled
   * it is scaled by d*lr (x -= weightDecay*d*lr*x), coupled it is added to g before the estimator. Default 0.
   */
  weightDecay?: number;
  /** AdamW-style decoupled decay (true) or L2 added to the gradient (false). Default true. */
  decouple?: boolean;
  /** Adam bias correction inside dlr. Default false. */
  useBiasCorrection?: boolean;
  /** Leaves lr out of the s accumulator (for warm-up / restarts). Default false. */
  safeguardWarmup?: boolean;
  /** Initial d. Default 1e-6. Raise to 1e-5..1e-4 when d stays tiny. */
  d0?: number;
  /** Multiplies the estimate d-hat (the preferred tuning knob: 0.5..2, or 10). Default 1. */
  dCoef?: number;
  /** Largest factor d may grow by per step (1.02 acts like a warm-up). Default Infinity. */
  growthRate?: number;
  /** Optional schedule multiplying lr inside the update (and the estimator). Default none. */
  schedule?: Schedule;
  /** Steps per epoch for an epoch-based schedule. */
  stepsPerEpoch?: number;
}

const PRODIGY_KEYS: string[] = [
  'lr',
  'betas',
  'beta3',
  'eps',
  'weightDecay',
  'decouple',
  'useBiasCorrection',
  'safeguardWarmup',
  'd0',
  'dCoef',
  'growthRate',
  'schedule',
  'stepsPerEpoch',
];
/** The preset's keys: the method's, the library's Adam vocabulary and the common ones. */
const PRODIGY_PRESET_KEYS = presetKeys('prodigy', [...PRODIGY_KEYS, 'beta1', 'beta2', 'epsilon']);

/**
 * Prodigy as a method (a piece that computes the whole update, step size included; `optimizer({ method })`, as the preset does).
 * With k = step - 1, bc = useBiasCorrection ? sqrt(1-b2^(k+1))/(1-b1^(k+1)) : 1 and dlr = d*lr*bc:
 *
 * r <- b3*r + (d/d0)*dlr*<g, x0 - x>;  m <- b1*m + (1-b1)*d*g;  v <- b2*v + (1-b2)*d^2*g^2;
 * s <- b3*s + (d/d0)*(safeguardWarmup ? d : dlr)*g;  if sum|s| = 0: no step;
 * d-hat = dCoef*r/sum|s|;  dMax <- max(dMax, d-hat);  d <- min(dMax, d*growthRate) (d never decreases);
 * x <- x - dlr*m/(sqrt(v) + d_new*eps)  (minus weightDecay*dlr*x when decoupled).
 *
 * Slots per variable: `x0`, `s`, `m`, `v`. Scalar state: `d`, `dMax`, `r`, `dHat`, `denom`.
 * `etaScale` is dlr, so `lastStep.eta` shows the effective learning rate d*lr.
 *
 * @example
 * ```ts
 * const opt = lrfree.optimizer({ method: lrfree.methods.prodigy({ dCoef: 0.5 }) });
 * ```
 */
export function prodigyDirection(input: ProdigyOptions = {}): Method {
  const W = 'prodigy';
  const options = adamVocabulary(W, input, {
    beta1: UNIT,
    beta2: UNIT,
    epsilon: { min: 0, minExclusive: true },
  });
  checkKnownKeys(W, options, PRODIGY_KEYS, `methods.${W}`);
  const lr = checkNumber(W, 'lr', options.lr ?? 1, { min: 0, minExclusive: true });
  const lrInit = lr;
  const betas = options.betas ?? [0.9, 0.999];
  if (!Array.isArray(betas) || betas.length !== 2) {
    throw new LrfreeConfigError(`${W}: betas = ${showValue(betas)} is not allowed; give [beta1, beta2].`);
  }
  const beta1 = checkNumber(W, 'betas[0]', betas[0], UNIT);
  const beta2 = checkNumber(W, 'betas[1]', betas[1], UNIT);
  const beta3Opt = options.beta3 ?? null;
  const beta3 = beta3Opt === null ? Math.sqrt(beta2) : checkNumber(W, 'beta3', beta3Opt, UNIT);
  const eps = checkNumber(W, 'eps', options.eps ?? 1e-8, { min: 0, minExclusive: true });
  const weightDecay = checkNumber(W, 'weightDecay', options.weightDecay ?? 0, { min: 0 });
  const decouple = checkBoolean(W, 'decouple', options.decouple ?? true);
  const useBiasCorrection = checkBoolean(W, 'useBiasCorrection', options.useBiasCorrection ?? false);
  const safeguardWarmup = checkBoolean(W, 'safeguardWarmup', options.safeguardWarmup ?? false);
  const d0 = checkNumber(W, 'd0', options.d0 ?? 1e-6, { min: 0, minExclusive: true });
  const dCoef = checkNumber(W, 'dCoef', options.dCoef ?? 1, { min: 0, minExclusive: true });
  const dCoefInit = dCoef;
  const growthRate = checkNumber(W, 'growthRate', options.growthRate ?? Number.POSITIVE_INFINITY, {
    min: 1,
    allowInfinity: true,
  });
  const sched = lrScheduleSlot(W, options.schedule, options.stepsPerEpoch);
  return {
    kind: 'prodigy',
    ownsStep: true,
    config: {
      lr,
      betas: [beta1, beta2],
      beta3: beta3Opt,
      eps,
      weightDecay,
      decouple,
      useBiasCorrection,
      safeguardWarmup,
      d0,
      dCoef,
      growthRate: growthToJson(growthRate),
      schedule: sched.spec,
    },
    slotNames: ['x0', 's', 'm', 'v'],
    initSlots: (v) => [v.clone(), tf.zerosLike(v), tf.zerosLike(v), tf.zerosLike(v)],
    initScalars: () => ({ d: d0, dMax: d0, r: 0, dHat: 0, denom: 0 }),
    // Run-time knobs (opt.hyperparams.set('dCoef', 0.5)): read at every step, saved with the state.
    hyperparameters: {
      lr: { value: lr, min: 0, minExclusive: true },
      dCoef: { value: dCoef, min: 0, minExclusive: true },
    },
    compute: (ctx) => {
      const lr = ctx.hyper?.lr ?? lrInit;
      const dCoef = ctx.hyper?.dCoef ?? dCoefInit;
      const k = ctx.step - 1;
      const d = ctx.scalars.d as number;
      let dMax = ctx.scalars.dMax as number;
      const bc = useBiasCorrection ? Math.sqrt(1 - beta2 ** (k + 1)) / (1 - beta1 ** (k + 1)) : 1;
      const dlr = d * lr * sched.multiplier(ctx.step) * ctx.lrScale * bc;
      const sScale = (d / d0) * (safeguardWarmup ? d : dlr);
      const grads = ctx.grads.map((g, i) =>
        weightDecay > 0 && !decouple ? tf.add(g, tf.mul(ctx.params[i], weightDecay)) : g,
      );
      const news = grads.map((g, i) => {
        const [, s0, m0, v0] = ctx.slots[i];
        return {
          s: tf.add(tf.mul(s0, beta3), tf.mul(g, sScale)),
          m: tf.add(tf.mul(m0, beta1), tf.mul(g, (1 - beta1) * d)),
          v: tf.add(tf.mul(v0, beta2), tf.mul(tf.square(g), (1 - beta2) * d * d)),
        };
      });
      // Per-tensor partial sums read once, then added in float64 (ALGORITHMS.md §9.6).
      const sums = readScalars([
        ...grads.map((g, i) => tf.sum(tf.mul(g, tf.sub(ctx.slots[i][0], ctx.params[i])))),
        ...news.map((n) => tf.sum(tf.abs(n.s))),
      ]);
      const n = grads.length;
      const dot = sums.slice(0, n).reduce((a, b) => a + b, 0);
      const denom = sums.slice(n).reduce((a, b) => a + b, 0);
      const r = beta3 * (ctx.scalars.r as number) + (d / d0) * dlr * dot;
      if (denom === 0) {
        // No gradient seen yet: no step, state as it was (T17).
        return {
          update: ctx.params.map((p) => tf.zerosLike(p)),
          slots: ctx.slots.map((s) => [...s]),
          etaScale: 0,
        };
      }
      const dHat = (dCoef * r) / denom;
      let dNew = d;
      if (d === d0) dNew = Math.max(d, dHat);
      dMax = Math.max(dMax, dHat);
      dNew = Math.min(dMax, dNew * growthRate);
      const update = news.map((nw, i) => {
        // The step uses the old d in dlr but the new d in the eps term (T17).
        const step = tf.mul(tf.div(nw.m, tf.add(tf.sqrt(nw.v), dNew * eps)), dlr);
        return weightDecay > 0 && decouple ? tf.add(step, tf.mul(ctx.params[i], weightDecay * dlr)) : step;
      });
      return {
        update,
        slots: news.map((nw, i) => [ctx.slots[i][0], nw.s, nw.m, nw.v]),
        scalars: { d: dNew, dMax, r, dHat, denom },
        etaScale: dlr,
      };
    },
  };
}

registerRestorable<ProdigyOptions>('prodigy', prodigyDirection);

/**
 * Prodigy preset: `prodigyDirection(options)` with `constant(1)`. Cost per step: 1 forward + 1 backward.
 * `lastStep.eta` is the effective learning rate d*lr (times the bias correction when on).
 *
 * @example
 * ```ts
 * model.compile({ optimizer: lrfree.prodigy(), loss: 'categoricalCrossentropy' });
 * ```
 */
export function prodigy(options: ProdigyOptions & MethodCommonOptions = {}): LrfreeOptimizer {
  return constantStepPreset('prodigy', options, prodigyDirection, PRODIGY_PRESET_KEYS);
}
