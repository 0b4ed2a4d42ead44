/**
 * Prodigy + Schedule-Free, as the practitioners' "prodigy-plus-schedule-free" defines it
 * (LoganBooker/prodigy-plus-schedule-free v2.0.1, 338cf40, class `ProdigyPlusScheduleFree`; ALGORITHMS.md
 * §16): Schedule-Free with no first moment, step d*lr from a Prodigy-style estimate of d with a growth
 * limiter, per-tensor RMS scaling (StableAdamW) and an Adafactor-style factored second moment.
 * One d for all variables (the reference's behaviour with a single parameter group).
 */

import * as tf from '@tensorflow/tfjs';
import type { Schedule } from '../core/schedule.js';
import type { ComponentConfig } from '../core/types.js';
import { checkKnownKeys, checkNumber, checkOneOf, LrfreeConfigError, showValue } from '../core/validate.js';
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

/** Options of {@link prodigyScheduleFree} (reference names in camelCase). */
export interface ProdigyScheduleFreeOptions {
  /** Multiplier on d (leave it at 1). Default 1. */
  lr?: number;
  /** [beta1, beta2]: beta1 is the Schedule-Free interpolation, beta2 the second-moment decay. Default [0.9, 0.99]. */
  betas?: [number, number];
  /** Decay of s and of the numerator. Default null = sqrt(beta2). */
  beta3?: number | null;
  /** Decoupled weight decay at y. Default 0. */
  weightDecay?: number;
  /** Multiply the decay by d*lr (AdamW style). Default true. */
  weightDecayByLr?: boolean;
  /** Initial d. Default 1e-6. */
  d0?: number;
  /** Scale on the estimate d-hat. Default 1. */
  dCoef?: number;
  /** Cap d-hat at 2^(1/4)*d per step. Default true. */
  dLimiter?: boolean;
  /** P > 0: from step P on, d is frozen. Default 0 (never). */
  prodigySteps?: number;
  /** C > 0: c <- min(1, c*(1-beta1)*C) ("Refined SF"). Default 0 (off). */
  schedulefreeC?: number;
  /** Added to sqrt(v), scaled by d; null selects the Adam-atan2 update and turns StableAdamW off. Default 1e-8. */
  eps?: number | null;
  /** Factored second moment for tensors of rank >= 2 with a dimension >= 32. Default true. */
  factored?: boolean;
  /** RAdam-style rectified step (automatic warm-up). Default false. */
  useBiasCorrection?: boolean;
  /** Per-tensor RMS scaling of the update. Default true. */
  useStableAdamW?: boolean;
  /** Optional schedule multiplying lr. Default none. */
  schedule?: Schedule;
  /** Steps per epoch for an epoch-based schedule. */
  stepsPerEpoch?: number;
}

const KEYS = [
  'lr',
  'betas',
  'beta3',
  'weightDecay',
  'weightDecayByLr',
  'd0',
  'dCoef',
  'dLimiter',
  'prodigySteps',
  'schedulefreeC',
  'eps',
  'factored',
  'useBiasCorrection',
  'useStableAdamW',
  'schedule',
  'stepsPerEpoch',
];
/** The preset's keys: the method's and the common ones. */
const PRESET_KEYS = presetKeys('prodigyScheduleFree', KEYS);

const UNIT = { min: 0, max: 1, maxExclusive: true };
/** The reference's subsampling stride of the d estimator (`slice_p = 11`). */
const SLICE = 11;
const LIMIT = 2 ** 0.25;
const ATAN2_SCALE = 1.2732395;

/**
 * The PyTorch axis order of a TF.js weight: torch axis i is TF axis perm[i]. Dense kernels [in, out] and
 * convolution kernels [..., in, out] become [out, in, ...]; vectors stay. The reference's subsampling and
 * factoring are defined on the PyTorch layout.
 */
export function torchAxes(rank: number): number[] {
  if (rank < 2) return rank === 1 ? [0] : [];
  return [rank - 1, rank - 2, ...Array.from({ length: rank - 2 }, (_, i) => i)];
}

/** Flat TF.js indices of every 11th element of the PyTorch-order flattening (the reference's p0 slice). */
export function sliceIndices(shape: readonly number[]): Int32Array {
  const perm = torchAxes(shape.length);
  const tshape = perm.map((a) => shape[a]);
  const n = shape.reduce((a, b) => a * b, 1);
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const out = new Int32Array(Math.ceil(n / SLICE));
  for (let j = 0, o = 0; j < n; j += SLICE, o++) {
    let rest = j;
    let flat = 0;
    for (let i = tshape.length - 1; i >= 0; i--) {
      const idx = rest % tshape[i];
      rest = Math.floor(rest / tshape[i]);
      flat += idx * strides[perm[i]];
    }
    out[o] = flat;
  }
  return out;
}

/**
 * The reference's factoring of a weight (`factored_dims` on the PyTorch shape), as TF axes: the row
 * statistic is the mean of g^2 over `row`, the column one over `col`, and the denominator normalises the
 * row statistic by its mean over `norm`. Undefined when the weight is not factored.
 */
export function factoredAxes(
  shape: readonly number[],
): { row: number; col: number; norm: number } | undefined {
  if (shape.length < 2) return undefined;
  const perm = torchAxes(shape.length);
  const tshape = perm.map((a) => shape[a]);
  if (tshape.every((d) => d < 32)) return undefined;
  const sorted = tshape.map((d, i) => [d, i] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const dc = sorted[sorted.length - 2][1];
  const dr = sorted[sorted.length - 1][1];
  const a = dc > dr ? dc - 1 : dc;
  return { row: perm[dr], col: perm[dc], norm: perm[a] };
}

function flatGather(t: tf.Tensor, idx: Int32Array): tf.Tensor {
  return tf.gather(tf.reshape(t, [-1]), tf.tensor1d(idx, 'int32'));
}

/**
 * Prodigy + Schedule-Free as a direction computing the whole update (use with `constant(1)`). Per step,
 * with d the estimate before the step (the reference's one-step lag, §16 trap 1), dlr = d*lr and k from 1:
 *
 * w = dlr^2;  c = w/(weightSum + w);  xy = 1 - beta1*(1-c);  v <- b2 v + (1-b2) d^2 g^2 (or factored);
 * u = d g/(sqrt(v) + d eps) (eps null: 1.2732395 atan2(d g, sqrt v));  u <- u/sqrt(max(1, rms(u)));
 * numerator += d^2/sqrt(d0) <g^, p0 - z^>;  s <- b3 s + d^2/sqrt(d0) g^ (g^, z^: every 11th element);
 * y <- y + c(z - y);  z <- z - dlr u;  y <- y - dlr xy u (decay at y added to u);
 * then dNum <- b3 dNum (+ numerator when d > d0 or numerator > 0), d-hat = dNum/sum|s|,
 * d <- max(d, dCoef*min(d-hat, 2^(1/4) d)).
 *
 * Slots: `z`, `y` (the committed weights), `v` (or the row statistic), `vCol`, `p0`, `s`. Scalars: `k`,
 * `d`, `dNumerator`, `dDenom`, `weightSum`, `dlr`. `etaScale` = dlr. x = y + (1 - 1/beta1)(z - y).
 */
export function prodigyScheduleFreeDirection(options: ProdigyScheduleFreeOptions = {}): EvalPointDirection {
  const W = 'prodigyScheduleFree';
  checkKnownKeys(W, options, KEYS, `methods.${W}`);
  const lr = checkNumber(W, 'lr', options.lr ?? 1, { min: 0, minExclusive: true });
  const betas = options.betas ?? [0.9, 0.99];
  if (!Array.isArray(betas) || betas.length !== 2) {
    throw new LrfreeConfigError(`${W}: betas = ${showValue(betas)} is not allowed; give [beta1, beta2].`);
  }
  // beta1 = 0 would make x undefined (the eval lerp divides by beta1).
  const beta1 = checkNumber(W, 'betas[0]', betas[0], {
    min: 0,
    max: 1,
    minExclusive: true,
    maxExclusive: true,
  });
  const beta2 = checkNumber(W, 'betas[1]', betas[1], UNIT);
  const beta3Opt = options.beta3 ?? null;
  const beta3 = beta3Opt === null ? Math.sqrt(beta2) : checkNumber(W, 'beta3', beta3Opt, UNIT);
  const weightDecay = checkNumber(W, 'weightDecay', options.weightDecay ?? 0, { min: 0 });
  const weightDecayByLr = checkOneOf(W, 'weightDecayByLr', options.weightDecayByLr ?? true, [true, false]);
  const d0 = checkNumber(W, 'd0', options.d0 ?? 1e-6, { min: 0, minExclusive: true });
  const dCoef = checkNumber(W, 'dCoef', options.dCoef ?? 1, { min: 0, minExclusive: true });
  const dLimiter = checkOneOf(W, 'dLimiter', options.dLimiter ?? true, [true, false]);
  const prodigySteps = checkNumber(W, 'prodigySteps', options.prodigySteps ?? 0, { min: 0, integer: true });
  const schedulefreeC = checkNumber(W, 'schedulefreeC', options.schedulefreeC ?? 0, { min: 0 });
  const epsOpt = options.eps === undefined ? 1e-8 : options.eps;
  const eps = epsOpt === null ? null : checkNumber(W, 'eps', epsOpt, { min: 0, minExclusive: true });
  const factored = checkOneOf(W, 'factored', options.factored ?? true, [true, false]);
  const useBiasCorrection = checkOneOf(W, 'useBiasCorrection', options.useBiasCorrection ?? false, [
    true,
    false,
  ]);
  // As the reference: Adam-atan2 (eps null) turns StableAdamW off.
  const useStableAdamW =
    checkOneOf(W, 'useStableAdamW', options.useStableAdamW ?? true, [true, false]) && eps !== null;
  const sched = lrScheduleSlot(W, options.schedule, options.stepsPerEpoch);
  const config: ComponentConfig = {
    lr,
    betas: [beta1, beta2],
    beta3: beta3Opt,
    weightDecay,
    weightDecayByLr,
    d0,
    dCoef,
    dLimiter,
    prodigySteps,
    schedulefreeC,
    eps,
    factored,
    useBiasCorrection,
    useStableAdamW: options.useStableAdamW ?? true,
    schedule: sched.spec,
  };
  const sliceCache = new Map<string, Int32Array>();
  const sliceOf = (shape: readonly number[]) => {
    const key = shape.join(',');
    let idx = sliceCache.get(key);
    if (!idx) {
      idx = sliceIndices(shape);
      sliceCache.set(key, idx);
    }
    return idx;
  };
  const axesOf = (shape: readonly number[]) => (factored ? factoredAxes(shape) : undefined);
  return {
    kind: W,
    config,
    slotNames: ['z', 'y', 'v', 'vCol', 'p0', 's'],
    trainPointSlot: 1,
    evalPointOf: (slots) => {
      const [z, y] = slots;
      return tf.add(y, tf.mul(tf.sub(z, y), 1 - 1 / beta1));
    },
    initSlots: (v) => {
      const ax = axesOf(v.shape);
      const rowShape = v.shape.map((d, i) => (ax && i === ax.row ? 1 : d));
      const colShape = v.shape.map((d, i) => (ax && i === ax.col ? 1 : d));
      const idx = sliceOf(v.shape);
      // An all-zero weight's p0 is the reference's scalar 0: zeros give the same numbers.
      const p0 = flatGather(v, idx);
      return [
        v.clone(),
        v.clone(),
        ax ? tf.zeros(rowShape) : tf.zerosLike(v),
        ax ? tf.zeros(colShape) : tf.zeros([]),
        p0,
        tf.zeros([idx.length]),
      ];
    },
    initScalars: () => ({ k: 1, d: d0, dNumerator: 0, dDenom: 0, weightSum: 0, dlr: 0 }),
    compute: (ctx) => {
      const s = ctx.scalars;
      const k = s.k as number;
      const d = s.d as number;
      let dlr = d * lr * sched.multiplier(ctx.step);
      let b2 = beta2;
      let rawUpdate = false;
      if (useBiasCorrection) {
        const b2t = beta2 ** k;
        const bc2 = 1 - b2t;
        const rhoInf = 2 / (1 - beta2) - 1;
        const rhoT = rhoInf - (2 * k * b2t) / bc2;
        const rect =
          rhoT > 4 ? Math.sqrt(((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT)) : 0;
        dlr *= rect;
        b2 = 1 - (1 - beta2) / bc2;
        rawUpdate = rhoT <= 4;
      }
      const estimating = prodigySteps <= 0 || k < prodigySteps;
      const dUpdate = (d * d) / Math.sqrt(d0);
      const w = dlr * dlr;
      const weightSum = (s.weightSum as number) + w;
      let c = weightSum !== 0 ? w / weightSum : 0;
      if (schedulefreeC > 0) c = Math.min(1, c * (1 - beta1) * schedulefreeC);
      const xy = 1 - beta1 * (1 - c);

      const update: tf.Tensor[] = [];
      const slots: tf.Tensor[][] = [];
      const numParts: tf.Tensor[] = [];
      const denParts: tf.Tensor[] = [];
      ctx.grads.forEach((g, i) => {
        const y = ctx.params[i];
        const [z0, , v0, vc0, p0, s0] = ctx.slots[i];
        const ax = axesOf(g.shape);
        // Second moment with the old d (trap 1).
        let v = v0;
        let vc = vc0;
        let denom: tf.Tensor;
        const g2 = tf.square(g);
        if (ax) {
          v = tf.add(tf.mul(v0, b2), tf.mul(tf.mean(g2, ax.row, true), (1 - b2) * d * d));
          vc = tf.add(tf.mul(vc0, b2), tf.mul(tf.mean(g2, ax.col, true), (1 - b2) * d * d));
          const rowMean = tf.add(tf.mean(v, ax.norm, true), 1e-30);
          denom = tf.sqrt(tf.mul(tf.div(v, rowMean), vc));
        } else {
          v = tf.add(tf.mul(v0, b2), tf.mul(g2, (1 - b2) * d * d));
          denom = tf.sqrt(v);
        }
        let u: tf.Tensor;
        if (rawUpdate) u = g;
        else if (eps === null)
          u = tf.mul(tf.atan2(tf.mul(g, d), tf.broadcastTo(denom, g.shape)), ATAN2_SCALE);
        else u = tf.div(tf.mul(g, d), tf.add(denom, d * eps));
        if (useStableAdamW) {
          const rms = tf.maximum(tf.div(tf.sqrt(tf.sum(tf.square(u))), Math.sqrt(g.size)), 1);
          u = tf.mul(u, tf.rsqrt(rms));
        }
        let sNew = s0;
        if (estimating) {
          const idx = sliceOf(g.shape);
          const gh = flatGather(g, idx);
          const zh = flatGather(z0, idx);
          numParts.push(tf.mul(tf.sum(tf.mul(gh, tf.sub(p0, zh))), dUpdate));
          sNew = tf.add(tf.mul(s0, beta3), tf.mul(gh, dUpdate));
          denParts.push(tf.sum(tf.abs(sNew)));
        }
        if (weightDecay !== 0 && weightDecayByLr) u = tf.add(u, tf.mul(y, weightDecay));
        let yNew = c === 0 ? y : tf.add(y, tf.mul(tf.sub(z0, y), c));
        let z = tf.sub(z0, tf.mul(u, dlr));
        yNew = tf.sub(yNew, tf.mul(u, dlr * xy));
        if (weightDecay !== 0 && !weightDecayByLr) {
          z = tf.sub(z, tf.mul(y, weightDecay));
          yNew = tf.sub(yNew, tf.mul(y, weightDecay * xy));
        }
        const step = tf.sub(y, yNew);
        update.push(step);
        slots.push([z, committedPoint(y, step), v, vc, p0, sNew]);
      });

      let { d: dNew, dNumerator, dDenom } = s as { d: number; dNumerator: number; dDenom: number };
      if (estimating) {
        const sums = readScalars([...numParts, ...denParts]);
        const n = numParts.length;
        const num = sums.slice(0, n).reduce((a, b) => a + b, 0);
        const den = sums.slice(n).reduce((a, b) => a + b, 0);
        dNumerator *= beta3;
        if (d > d0 || num > 0) dNumerator += num;
        dDenom = den;
        if (dDenom > 0) {
          let dHat = dNumerator / dDenom;
          if (dLimiter) dHat = Math.min(d * LIMIT, dHat);
          dNew = Math.max(d, dHat * dCoef);
        }
      }
      return {
        update,
        slots,
        scalars: { k: k + 1, d: dNew, dNumerator, dDenom, weightSum, dlr },
        etaScale: dlr,
        info: { d: dNew, c },
      };
    },
  };
}

registerRestorable<ProdigyScheduleFreeOptions>('prodigyScheduleFree', prodigyScheduleFreeDirection);

/**
 * Prodigy + Schedule-Free preset (`constant(1)`). 1 forward + 1 backward per step; `lastStep.eta` is the
 * step dlr = d*lr. Evaluate at x: `opt.eval()` / `withEvalPoint`.
 *
 * @example
 * ```ts
 * const opt = lrfree.prodigyScheduleFree();
 * model.compile({ optimizer: opt, loss: 'categoricalCrossentropy' });
 * await model.fit(x, y, { epochs: 5 });
 * await lrfree.withEvalPointAsync(opt, { model, trainX: x }, () => model.evaluate(xTest, yTest));
 * ```
 */
export function prodigyScheduleFree(
  options: ProdigyScheduleFreeOptions & MethodCommonOptions = {},
): EvalPointOptimizer {
  const { own, common, schedule, stepsPerEpoch } = splitCommon<ProdigyScheduleFreeOptions>(
    options,
    'prodigyScheduleFree',
    PRESET_KEYS,
  );
  return new EvalPointOptimizer({
    ...common,
    direction: prodigyScheduleFreeDirection({ ...own, schedule, stepsPerEpoch }),
    step: constant(1),
    name: 'prodigyScheduleFree',
  });
}
