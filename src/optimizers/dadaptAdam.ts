/** D-Adaptation Adam (Defazio & Mishchenko, ICML 2023; ALGORITHMS.md §9.2, traps T18, T24). */

import * as tf from '@tensorflow/tfjs';
import type { LrfreeOptimizer } from '../core/optimizer.js';
import { groupOfVariable } from '../core/params.js';
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

/** Options of {@link dadaptAdamDirection} / {@link dadaptAdam} (reference names in camelCase). */
export interface DadaptAdamOptions extends AdamVocabulary {
  /** Multiplies the estimated step d; leave at 1 and use your usual schedule. Default 1. */
  lr?: number;
  /** [beta1, beta2]. Default [0.9, 0.999]. */
  betas?: [number, number];
  /** Added to sqrt(v). Default 1e-8. */
  eps?: number;
  /**
   * Weight decay (often 2-4x larger than usual, since adapted steps are large), D-Adaptation's own (kept
   * inside the method): decoupled it is scaled by d*lr, coupled it enters the estimator. Default 0.
   */
  weightDecay?: number;
  /** AdamW-style decoupled decay (true) or L2 added to the gradient (false). Default false. */
  decouple?: boolean;
  /** Adam bias correction inside dlr. Default false. */
  useBiasCorrection?: boolean;
  /** Initial d. Default 1e-6. */
  d0?: number;
  /** Largest factor d may grow by per step. Default Infinity. */
  growthRate?: number;
  /**
   * The reference's per-group `layer_scale`: one number for every group, or one per parameter group
   * (layer) in the optimizer's group order. A group's scale multiplies its contribution to the numerator,
   * its first moment (so its step) and its share of sum|s| (ALGORITHMS.md §9.2). Default 1.
   */
  layerScale?: number | number[];
  /** Optional schedule multiplying lr inside the update (and the estimator). Default none. */
  schedule?: Schedule;
  /** Steps per epoch for an epoch-based schedule. */
  stepsPerEpoch?: number;
}

const KEYS = [
  'lr',
  'betas',
  'eps',
  'weightDecay',
  'decouple',
  'useBiasCorrection',
  'd0',
  'growthRate',
  'layerScale',
  'schedule',
  'stepsPerEpoch',
];
/** The preset's keys: the method's, the library's Adam vocabulary and the common ones. */
const PRESET_KEYS = presetKeys('dadaptAdam', [...KEYS, 'beta1', 'beta2', 'epsilon']);

const UNIT = { min: 0, max: 1, maxExclusive: true };

/**
 * D-Adapt Adam as a method (a piece that computes the whole update, step size included; `optimizer({ method })`, as the preset does). With
 * bc = useBiasCorrection ? sqrt(1-b2^k)/(1-b1^k) : 1, dlr = d*lr*bc and q = sqrt(b2):
 *
 * num += l*dlr*<g, s/(sqrt(v_old)+eps)>;  m <- b1*m + l*dlr*(1-b1)*g;  v <- b2*v + (1-b2)*g^2;
 * s <- q*s + dlr*(1-q)*g;  sum|s| weighted by l (l = the variable's group layerScale); if 0: no step;  numWeighted <- q*numWeighted + (1-q)*num;
 * d <- max(d, min(numWeighted/((1-q)*sum|s|), d*growthRate));  x <- x - m/(sqrt(v_new)+eps)
 * (m already carries dlr, T18; minus weightDecay*dlr*x when decoupled).
 *
 * Slots: `s`, `m`, `v`. Scalars: `d`, `numWeighted`, `dHat`, `skL1`. `etaScale` = dlr.
 *
 * @example
 * ```ts
 * const opt = lrfree.optimizer({ method: lrfree.methods.dadaptAdam() });
 * ```
 */
export function dadaptAdamDirection(input: DadaptAdamOptions = {}): Method {
  const W = 'dadaptAdam';
  const options = adamVocabulary(W, input, { beta1: UNIT, beta2: UNIT, epsilon: { min: 0 } });
  checkKnownKeys(W, options, KEYS, `methods.${W}`);
  const lr = checkNumber(W, 'lr', options.lr ?? 1, { min: 0, minExclusive: true });
  const betas = options.betas ?? [0.9, 0.999];
  if (!Array.isArray(betas) || betas.length !== 2) {
    throw new LrfreeConfigError(`${W}: betas = ${showValue(betas)} is not allowed; give [beta1, beta2].`);
  }
  const beta1 = checkNumber(W, 'betas[0]', betas[0], UNIT);
  const beta2 = checkNumber(W, 'betas[1]', betas[1], UNIT);
  const eps = checkNumber(W, 'eps', options.eps ?? 1e-8, { min: 0 });
  const weightDecay = checkNumber(W, 'weightDecay', options.weightDecay ?? 0, { min: 0 });
  const decouple = checkBoolean(W, 'decouple', options.decouple ?? false);
  const useBiasCorrection = checkBoolean(W, 'useBiasCorrection', options.useBiasCorrection ?? false);
  const d0 = checkNumber(W, 'd0', options.d0 ?? 1e-6, { min: 0, minExclusive: true });
  const growthRate = checkNumber(W, 'growthRate', options.growthRate ?? Number.POSITIVE_INFINITY, {
    min: 1,
    allowInfinity: true,
  });
  const sched = lrScheduleSlot(W, options.schedule, options.stepsPerEpoch);
  const rawScale = options.layerScale ?? 1;
  const layerScale = Array.isArray(rawScale)
    ? rawScale.map((v, i) => checkNumber(W, `layerScale[${i}]`, v, { min: 0 }))
    : checkNumber(W, 'layerScale', rawScale, { min: 0 });
  const q = Math.sqrt(beta2);
  return {
    kind: 'dadaptAdam',
    ownsStep: true,
    config: {
      lr,
      betas: [beta1, beta2],
      eps,
      weightDecay,
      decouple,
      useBiasCorrection,
      d0,
      growthRate: growthToJson(growthRate),
      layerScale,
      schedule: sched.spec,
    },
    slotNames: ['s', 'm', 'v'],
    initSlots: (v) => [tf.zerosLike(v), tf.zerosLike(v), tf.zerosLike(v)],
    initScalars: () => ({ d: d0, numWeighted: 0, dHat: 0, skL1: 0 }),
    compute: (ctx) => {
      const k = ctx.step;
      const d = ctx.scalars.d as number;
      const bc = useBiasCorrection ? Math.sqrt(1 - beta2 ** k) / (1 - beta1 ** k) : 1;
      const dlr = d * lr * sched.multiplier(ctx.step) * ctx.lrScale * bc;
      const groupOf = groupOfVariable(ctx.groups, ctx.grads.length);
      if (Array.isArray(layerScale) && layerScale.length !== ctx.groups.length) {
        throw new LrfreeConfigError(
          `${W}: layerScale = ${showValue(layerScale)} is not allowed with this model; layerScale must be one ` +
            `number, or one per parameter group: ${layerScale.length} given, the optimizer has ` +
            `${ctx.groups.length} (${ctx.groups.map((g) => g.name).join(', ')}).`,
        );
      }
      const parts = ctx.grads.map((g0, i) => {
        const l = Array.isArray(layerScale) ? layerScale[groupOf[i]] : layerScale;
        const [s0, m0, v0] = ctx.slots[i];
        const g = weightDecay > 0 && !decouple ? tf.add(g0, tf.mul(ctx.params[i], weightDecay)) : g0;
        // The numerator uses v before this step's update (T18).
        const num = tf.mul(tf.sum(tf.mul(g, tf.div(s0, tf.add(tf.sqrt(v0), eps)))), l * dlr);
        const m = tf.add(tf.mul(m0, beta1), tf.mul(g, l * dlr * (1 - beta1)));
        const v = tf.add(tf.mul(v0, beta2), tf.mul(tf.square(g), 1 - beta2));
        const s = tf.add(tf.mul(s0, q), tf.mul(g, dlr * (1 - q)));
        return { num, m, v, s, l1: tf.mul(tf.sum(tf.abs(s)), l) };
      });
      const n = parts.length;
      const sums = readScalars([...parts.map((p) => p.num), ...parts.map((p) => p.l1)]);
      const numAcc = sums.slice(0, n).reduce((a, b) => a + b, 0);
      const skL1 = sums.slice(n).reduce((a, b) => a + b, 0);
      if (skL1 === 0) {
        return {
          update: ctx.params.map((p) => tf.zerosLike(p)),
          slots: ctx.slots.map((s) => [...s]),
          etaScale: 0,
        };
      }
      const numWeighted = q * (ctx.scalars.numWeighted as number) + (1 - q) * numAcc;
      const dHat = numWeighted / ((1 - q) * skL1);
      const dNew = Math.max(d, Math.min(dHat, d * growthRate));
      const update = parts.map((p, i) => {
        const step = tf.div(p.m, tf.add(tf.sqrt(p.v), eps));
        return weightDecay > 0 && decouple ? tf.add(step, tf.mul(ctx.params[i], weightDecay * dlr)) : step;
      });
      return {
        update,
        slots: parts.map((p) => [p.s, p.m, p.v]),
        scalars: { d: dNew, numWeighted, dHat, skL1 },
        etaScale: dlr,
      };
    },
  };
}

registerRestorable<DadaptAdamOptions>('dadaptAdam', dadaptAdamDirection);

/**
 * D-Adapt Adam preset (`constant(1)`); 1 forward + 1 backward per step. `lastStep.eta` = d*lr.
 *
 * @example
 * ```ts
 * model.compile({ optimizer: lrfree.dadaptAdam(), loss: 'categoricalCrossentropy' });
 * ```
 */
export function dadaptAdam(options: DadaptAdamOptions & MethodCommonOptions = {}): LrfreeOptimizer {
  return constantStepPreset('dadaptAdam', options, dadaptAdamDirection, PRESET_KEYS);
}
