/** Heavy-ball / Nesterov momentum direction, as tf.train.momentum computes it. */
import * as tf from '@tensorflow/tfjs';
import { addDecayedWeights } from '../core/decay.js';
import { registerDirection } from '../core/registry.js';
import type { Direction } from '../core/types.js';
import { checkBoolean, checkKnownKeys, checkNumber, LrfreeConfigError, showValue } from '../core/validate.js';

/** Options of {@link momentum}. */
export interface MomentumOptions {
  /** Momentum coefficient, in [0, 1). Default 0.9. */
  momentum?: number;
  /** @deprecated the old name of `momentum` (same meaning); still accepted. */
  beta?: number;
  /** Nesterov look-ahead: d = g + beta * a instead of d = a. Default false. */
  nesterov?: boolean;
  /** Decoupled weight decay added to the direction. Default 0. */
  weightDecay?: number;
}

/**
 * Momentum: a <- beta*a + g; d = a (or g + beta*a with Nesterov), beta = `momentum`. Slot per variable:
 * `accum`. Matches `tf.train.momentum(lr, momentum, nesterov)` step for step under `constant(lr)`.
 * Run-time hyperparameter: `momentum` (`opt.hyperparams.set('momentum', 0.95)`).
 *
 * @example
 * ```ts
 * const opt = lrfree.optimizer({
 *   direction: lrfree.directions.momentum({ momentum: 0.9 }),
 *   step: lrfree.steps.constant(0.05),
 * });
 * ```
 */
export function momentum(options: MomentumOptions = {}): Direction {
  checkKnownKeys('momentum', options, ['momentum', 'beta', 'nesterov', 'weightDecay'], 'directions.momentum');
  if (options.momentum !== undefined && options.beta !== undefined) {
    throw new LrfreeConfigError(
      `momentum: momentum = ${showValue(options.momentum)} and beta = ${showValue(options.beta)} are both given; ` +
        'give momentum (beta is its deprecated old name), not both.',
    );
  }
  const bound = { min: 0, max: 1, maxExclusive: true };
  const beta = checkNumber(
    'momentum',
    options.beta !== undefined ? 'beta' : 'momentum',
    options.momentum ?? options.beta ?? 0.9,
    bound,
  );
  const nesterov = checkBoolean('momentum', 'nesterov', options.nesterov ?? false);
  const weightDecay = checkNumber('momentum', 'weightDecay', options.weightDecay ?? 0, { min: 0 });
  return {
    kind: 'momentum',
    config: { beta, nesterov, weightDecay },
    slotNames: ['accum'],
    initSlots: (v) => [tf.zerosLike(v)],
    initScalars: () => ({}),
    hyperparameters: { momentum: { value: beta, ...bound } },
    compute: (ctx) => {
      const b = ctx.hyper?.momentum ?? beta;
      const accums = ctx.grads.map((g, i) => tf.add(tf.mul(ctx.slots[i][0], b), g));
      const update = accums.map((a, i) => {
        const d = nesterov ? tf.add(ctx.grads[i], tf.mul(a, b)) : a;
        return addDecayedWeights(d, ctx.params[i], weightDecay);
      });
      return { update, slots: accums.map((a) => [a]) };
    },
  };
}

registerDirection('momentum', (c) => momentum(c as MomentumOptions));
