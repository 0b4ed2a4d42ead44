/** Heavy-ball / Nesterov momentum direction, as tf.train.momentum computes it. */
import * as tf from '@tensorflow/tfjs';
import { registerDirection } from '../core/registry.js';
import type { Direction } from '../core/types.js';
import { checkBoolean, checkKnownKeys, checkNumber } from '../core/validate.js';

/** Options of {@link momentum}. */
export interface MomentumOptions {
  /** Momentum coefficient, in [0, 1). Default 0.9. */
  beta?: number;
  /** Nesterov look-ahead: d = g + beta * a instead of d = a. Default false. */
  nesterov?: boolean;
  /** Decoupled weight decay added to the direction. Default 0. */
  weightDecay?: number;
}

/**
 * Momentum: a <- beta*a + g; d = a (or g + beta*a with Nesterov). Slot per variable: `accum`.
 * Matches `tf.train.momentum(lr, beta, nesterov)` step for step under `constant(lr)`.
 *
 * @example
 * ```ts
 * const opt = lrfree.optimizer({ direction: lrfree.momentum({ beta: 0.9 }), step: lrfree.constant(0.05) });
 * ```
 */
export function momentum(options: MomentumOptions = {}): Direction {
  checkKnownKeys('momentum', options, ['beta', 'nesterov', 'weightDecay']);
  const beta = checkNumber('momentum', 'beta', options.beta ?? 0.9, { min: 0, max: 1, maxExclusive: true });
  const nesterov = checkBoolean('momentum', 'nesterov', options.nesterov ?? false);
  const weightDecay = checkNumber('momentum', 'weightDecay', options.weightDecay ?? 0, { min: 0 });
  return {
    kind: 'momentum',
    config: { beta, nesterov, weightDecay },
    slotNames: ['accum'],
    initSlots: (v) => [tf.zerosLike(v)],
    initScalars: () => ({}),
    compute: (ctx) => {
      const accums = ctx.grads.map((g, i) => tf.add(tf.mul(ctx.slots[i][0], beta), g));
      const update = accums.map((a, i) => {
        const d = nesterov ? tf.add(ctx.grads[i], tf.mul(a, beta)) : a;
        return weightDecay === 0 ? d : tf.add(d, tf.mul(ctx.params[i], weightDecay));
      });
      return { update, slots: accums.map((a) => [a]) };
    },
  };
}

registerDirection('momentum', (c) => momentum(c as MomentumOptions));
