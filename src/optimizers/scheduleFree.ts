/**
 * Schedule-Free SGD and AdamW (Defazio et al. 2024, "The Road Less Scheduled"; ALGORITHMS.md §9.4, traps
 * T20, T21). Three sequences: z (the base iterate), x (its weighted average: evaluate and save here) and
 * y = beta*x + (1-beta)*z (where gradients are taken: the model holds y while training).
 */

import * as tf from '@tensorflow/tfjs';
import { LrfreeOptimizer } from '../core/optimizer.js';
import { registerDirection } from '../core/registry.js';
import type { Schedule } from '../core/schedule.js';
import type { Method } from '../core/types.js';
import { checkBoolean, checkKnownKeys, checkNumber, LrfreeConfigError, showValue } from '../core/validate.js';
import { presetKeys } from './baselines.js';
import {
  type AdamVocabulary,
  adamVocabulary,
  lrScheduleSlot,
  type MethodCommonOptions,
  savedSchedule,
  splitCommon,
} from './methodCommon.js';
import { TrainEvalOptimizer } from './trainEvalMode.js';

export type { EvalOptions } from './trainEvalMode.js';

/** Options shared by both Schedule-Free variants (reference names in camelCase). */
export interface ScheduleFreeCommonOptions {
  /** A real learning rate (Schedule-Free removes the schedule, not the lr). Default 1 (SGD), 0.0025 (AdamW). */
  lr?: number;
  /**
   * Weight decay, Schedule-Free's own (kept inside the method: it decays at y, not at the stored weights):
   * SGD adds weightDecay*y to g; AdamW decays z by lr*weightDecay*y. Default 0.
   */
  weightDecay?: number;
  /** Linear warm-up over this many steps (recommended). Default 0. */
  warmupSteps?: number;
  /** Polynomial weighting (k+1)^r of the average. Default 0. */
  r?: number;
  /** Average weights are lrMax^weightLrPower (early warm-up iterates barely count). Default 2. */
  weightLrPower?: number;
  /** Optional extra schedule multiplying lr (the reference allows one; rarely needed). Default none. */
  schedule?: Schedule;
  /** Steps per epoch for an epoch-based schedule. */
  stepsPerEpoch?: number;
}

/** Options of {@link scheduleFreeSgd}. */
export interface ScheduleFreeSgdOptions extends ScheduleFreeCommonOptions {
  /** The interpolation beta, in (0, 1); 0.95-0.98 for very long runs. Default 0.9. */
  momentum?: number;
}

/** Options of {@link scheduleFreeAdamW}. */
export interface ScheduleFreeAdamWOptions extends ScheduleFreeCommonOptions, AdamVocabulary {
  /** [beta1, beta2]: beta1 is the interpolation beta, beta2 the second-moment decay. Default [0.9, 0.999]. */
  betas?: [number, number];
  /** Added to the bias-corrected sqrt(v). Default 1e-8. */
  eps?: number;
  /** Decay computed at z instead of y. Default false. */
  decayAtZ?: boolean;
}

type Variant = 'sgd' | 'adamw';
const COMMON_KEYS = ['lr', 'weightDecay', 'warmupSteps', 'r', 'weightLrPower', 'schedule', 'stepsPerEpoch'];
/** The presets' keys: the method's, the library's Adam vocabulary (AdamW) and the common ones. */
const SGD_PRESET_KEYS = presetKeys('scheduleFreeSgd', [...COMMON_KEYS, 'momentum']);
const ADAMW_PRESET_KEYS = presetKeys('scheduleFreeAdamW', [
  ...COMMON_KEYS,
  'betas',
  'eps',
  'decayAtZ',
  'beta1',
  'beta2',
  'epsilon',
]);

/**
 * Schedule-Free as a method (a piece that computes the whole update, step size included; `optimizer({ method })`, as the preset does). With k = step - 1:
 *
 * lr_k = lr * (k < warmupSteps ? (k+1)/warmupSteps : 1);  lrMax <- max(lrMax, lr_k);
 * weight = (k+1)^r * lrMax^weightLrPower;  weightSum += weight;  c = weight/weightSum (T21);
 * SGD:   z <- z - lr_k*(g + weightDecay*y);
 * AdamW: z <- z - lr_k*weightDecay*y;  v <- b2*v + (1-b2)*g^2;  z <- z - lr_k*g/(sqrt(v/(1-b2^(k+1))) + eps);
 * x <- (1-c)*x + c*z;  y <- beta*x + (1-beta)*z (the new model weights).
 *
 * Slots: `z`, `x` (and `v` for AdamW). Scalars: `lrMax`, `weightSum`, `lr`. `etaScale` = lr_k. Used
 * through {@link ScheduleFreeOptimizer}, which adds train()/eval().
 *
 * @example
 * ```ts
 * const opt = lrfree.optimizer({ method: lrfree.methods.scheduleFreeAdamW({ lr: 0.0025, warmupSteps: 100 }) });
 * ```
 */
export function scheduleFreeDirection(
  variant: Variant,
  input: ScheduleFreeSgdOptions & ScheduleFreeAdamWOptions = {},
): Method {
  const W = variant === 'sgd' ? 'scheduleFreeSgd' : 'scheduleFreeAdamW';
  const options =
    variant === 'sgd'
      ? input
      : adamVocabulary(W, input, {
          beta1: { min: 0, max: 1, minExclusive: true, maxExclusive: true },
          beta2: { min: 0, max: 1, maxExclusive: true },
          epsilon: { min: 0 },
        });
  checkKnownKeys(
    W,
    options,
    variant === 'sgd' ? [...COMMON_KEYS, 'momentum'] : [...COMMON_KEYS, 'betas', 'eps', 'decayAtZ'],
    `methods.${W}`,
  );
  const lr = checkNumber(W, 'lr', options.lr ?? (variant === 'sgd' ? 1 : 0.0025), { min: 0 });
  const weightDecay = checkNumber(W, 'weightDecay', options.weightDecay ?? 0, { min: 0 });
  const warmupSteps = checkNumber(W, 'warmupSteps', options.warmupSteps ?? 0, { min: 0, integer: true });
  const r = checkNumber(W, 'r', options.r ?? 0, { min: 0 });
  const weightLrPower = checkNumber(W, 'weightLrPower', options.weightLrPower ?? 2, { min: 0 });
  const sched = lrScheduleSlot(W, options.schedule, options.stepsPerEpoch);
  let beta: number;
  let beta2 = 0;
  let eps = 0;
  let decayAtZ = false;
  let config: Record<string, number | boolean | number[]>;
  if (variant === 'sgd') {
    beta = checkNumber(W, 'momentum', options.momentum ?? 0.9, {
      min: 0,
      max: 1,
      minExclusive: true,
      maxExclusive: true,
    });
    config = { momentum: beta };
  } else {
    const betas = options.betas ?? [0.9, 0.999];
    if (!Array.isArray(betas) || betas.length !== 2) {
      throw new LrfreeConfigError(`${W}: betas = ${showValue(betas)} is not allowed; give [beta1, beta2].`);
    }
    beta = checkNumber(W, 'betas[0]', betas[0], { min: 0, max: 1, minExclusive: true, maxExclusive: true });
    beta2 = checkNumber(W, 'betas[1]', betas[1], { min: 0, max: 1, maxExclusive: true });
    eps = checkNumber(W, 'eps', options.eps ?? 1e-8, { min: 0 });
    decayAtZ = checkBoolean(W, 'decayAtZ', options.decayAtZ ?? false);
    config = { betas: [beta, beta2], eps, decayAtZ };
  }
  const lrInit = lr;
  const betaInit = beta;
  return {
    kind: W,
    ownsStep: true,
    optimizerClass: ScheduleFreeOptimizer,
    config: { lr, weightDecay, warmupSteps, r, weightLrPower, ...config, schedule: sched.spec },
    slotNames: variant === 'sgd' ? ['z', 'x'] : ['z', 'x', 'v'],
    initSlots: (v) => (variant === 'sgd' ? [v.clone(), v.clone()] : [v.clone(), v.clone(), tf.zerosLike(v)]),
    initScalars: () => ({ lrMax: -1, weightSum: 0, lr: 0 }),
    // Run-time knobs (opt.hyperparams.set('beta', 0.95)): read at every step, saved with the state. A new
    // beta also moves the train point y = beta*x + (1-beta)*z that train() puts back after eval().
    hyperparameters: {
      lr: { value: lr, min: 0 },
      beta: { value: beta, min: 0, max: 1, minExclusive: true, maxExclusive: true },
    },
    compute: (ctx) => {
      const lr = ctx.hyper?.lr ?? lrInit;
      const beta = ctx.hyper?.beta ?? betaInit;
      const k = ctx.step - 1;
      const warm = k < warmupSteps ? (k + 1) / warmupSteps : 1;
      const lrK = lr * warm * sched.multiplier(ctx.step) * ctx.lrScale;
      const lrMax = Math.max(ctx.scalars.lrMax as number, lrK);
      const weight = (k + 1) ** r * lrMax ** weightLrPower;
      const weightSum = (ctx.scalars.weightSum as number) + weight;
      const c = weightSum > 0 ? weight / weightSum : 0;
      const bc2 = 1 - beta2 ** (k + 1);
      const update: tf.Tensor[] = [];
      const slots: tf.Tensor[][] = [];
      ctx.grads.forEach((g, i) => {
        const y = ctx.params[i];
        const [z0, x0, v0] = ctx.slots[i];
        let z: tf.Tensor;
        let v: tf.Tensor | undefined;
        if (variant === 'sgd') {
          z = tf.sub(z0, tf.mul(weightDecay > 0 ? tf.add(g, tf.mul(y, weightDecay)) : g, lrK));
        } else {
          z = weightDecay > 0 ? tf.sub(z0, tf.mul(decayAtZ ? z0 : y, lrK * weightDecay)) : z0;
          v = tf.add(tf.mul(v0, beta2), tf.mul(tf.square(g), 1 - beta2));
          z = tf.sub(z, tf.mul(tf.div(g, tf.add(tf.sqrt(tf.div(v, bc2)), eps)), lrK));
        }
        const x = tf.add(tf.mul(x0, 1 - c), tf.mul(z, c));
        const yNew = tf.add(tf.mul(x, beta), tf.mul(z, 1 - beta));
        update.push(tf.sub(y, yNew));
        slots.push(v ? [z, x, v] : [z, x]);
      });
      return { update, slots, scalars: { lrMax, weightSum, lr: lrK }, etaScale: lrK };
    },
  };
}

registerDirection('scheduleFreeSgd', (c) =>
  scheduleFreeDirection('sgd', { ...(c as ScheduleFreeSgdOptions), ...savedSchedule(c.schedule) }),
);
registerDirection('scheduleFreeAdamW', (c) =>
  scheduleFreeDirection('adamw', { ...(c as ScheduleFreeAdamWOptions), ...savedSchedule(c.schedule) }),
);

/**
 * The Schedule-Free optimizer: an {@link LrfreeOptimizer} with the reference's `train()` / `eval()`
 * (trainEvalMode.ts). In train mode the model holds y; `eval()` puts x into the model (evaluate, predict and
 * save there), `train()` puts y back. Stepping in eval mode throws. Saving (getWeights, i.e. model.save with
 * includeOptimizer) in train mode after training throws, so a checkpoint never silently holds y; the
 * helpers in scheduleFreeMode.ts save, evaluate and predict at x automatically.
 */
export class ScheduleFreeOptimizer extends TrainEvalOptimizer {
  /** @nocollapse */
  static override className = 'ScheduleFreeOptimizer';

  /** A real prototype check (tf.Optimizer's duck-typed one would call every optimizer a Schedule-Free one). */
  static override [Symbol.hasInstance](instance: unknown): boolean {
    return Function.prototype[Symbol.hasInstance].call(ScheduleFreeOptimizer, instance);
  }

  /** The interpolation beta in effect (momentum for SGD, betas[0] for AdamW; run-time hyperparameter `beta`). */
  get beta(): number {
    return this.hyperparams.get('method.beta');
  }

  /** x is the direction's slot 1. */
  protected putEvalPoint(): void {
    for (const { variable: v, slots } of this.directionSlots()) v.assign(slots[1]);
  }

  /** y = beta*x + (1-beta)*z. */
  protected putTrainPoint(): void {
    const beta = this.beta;
    for (const { variable: v, slots } of this.directionSlots()) {
      tf.tidy(() => v.assign(tf.add(tf.mul(slots[1], beta), tf.mul(slots[0], 1 - beta))));
    }
  }

  protected get saveAdvice(): string {
    return 'Call opt.eval() before model.save(...) (and opt.train() after), or use saveAtX(model, opt, handler).';
  }
}

tf.serialization.registerClass(ScheduleFreeOptimizer);

/**
 * Schedule-Free SGD preset (`constant(1)`); 1 forward + 1 backward per step; `lastStep.eta` is the
 * warmed-up lr. Call `opt.eval()` before evaluating or saving and `opt.train()` before training again.
 *
 * @example
 * ```ts
 * const opt = lrfree.scheduleFreeSgd({ lr: 1, warmupSteps: 100 });
 * model.compile({ optimizer: opt, loss: 'categoricalCrossentropy' });
 * await model.fit(x, y, { epochs: 5 });
 * opt.eval();
 * model.evaluate(xTest, yTest);
 * ```
 */
export function scheduleFreeSgd(
  options: ScheduleFreeSgdOptions & MethodCommonOptions = {},
): ScheduleFreeOptimizer {
  const { own, common, schedule, stepsPerEpoch } = splitCommon<ScheduleFreeSgdOptions>(
    options,
    'scheduleFreeSgd',
    SGD_PRESET_KEYS,
  );
  return new ScheduleFreeOptimizer({
    ...common,
    method: scheduleFreeDirection('sgd', { ...own, schedule, stepsPerEpoch }),
    name: 'scheduleFreeSgd',
  });
}

/**
 * Schedule-Free AdamW preset (`constant(1)`), the core of the AlgoPerf 2024 self-tuning winner.
 *
 * @example
 * ```ts
 * const opt = lrfree.scheduleFreeAdamW({ lr: 0.0025, warmupSteps: 200, weightDecay: 1e-4 });
 * ```
 */
export function scheduleFreeAdamW(
  options: ScheduleFreeAdamWOptions & MethodCommonOptions = {},
): ScheduleFreeOptimizer {
  const { own, common, schedule, stepsPerEpoch } = splitCommon<ScheduleFreeAdamWOptions>(
    options,
    'scheduleFreeAdamW',
    ADAMW_PRESET_KEYS,
  );
  return new ScheduleFreeOptimizer({
    ...common,
    method: scheduleFreeDirection('adamw', { ...own, schedule, stepsPerEpoch }),
    name: 'scheduleFreeAdamW',
  });
}
