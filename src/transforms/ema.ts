/** An exponential moving average of the updates: optax's `ema`, the first transform with per-variable state. */
import * as tf from '@tensorflow/tfjs';
import { registerTransform } from '../core/registry.js';
import type { GradientTransform } from '../core/types.js';
import { checkBoolean, checkKnownKeys, checkNumber } from '../core/validate.js';

/** Options of {@link ema}. */
export interface EmaOptions {
  /** Weight of the past, in [0, 1). Default 0.9. */
  decay?: number;
  /** Divide by 1 - decay^t (t: steps this variable has taken) so early updates are not shrunk. Default true. */
  debias?: boolean;
}

/**
 * Replaces the committed update d by an exponential moving average of the updates so far (optax's `ema`):
 *
 *     m <- decay * m + (1 - decay) * d;   t <- t + 1;   d' = m / (1 - decay^t)   (debias; else d' = m)
 *
 * Per-variable state (slots `ema` = m and `count` = t, a scalar tensor), created at a variable's first
 * step, saved and restored with the optimizer, left as it was by a skipped non-finite step. It acts on the
 * update (after the direction, before the step size), so it smooths what any direction or method commits;
 * the step rule still sees the true gradient.
 *
 * @example
 * ```ts
 * const opt = lrfree.optimizer({
 *   transforms: lrfree.transforms.ema({ decay: 0.9 }),
 *   direction: lrfree.directions.sgd(),
 *   step: lrfree.steps.constant(0.1),
 * });
 * ```
 */
export function ema(options: EmaOptions = {}): GradientTransform {
  checkKnownKeys('ema', options, ['decay', 'debias']);
  const decay = checkNumber('ema', 'decay', options.decay ?? 0.9, { min: 0, max: 1, maxExclusive: true });
  const debias = checkBoolean('ema', 'debias', options.debias ?? true);
  return {
    kind: 'ema',
    config: { decay, debias },
    initScalars: () => ({}),
    slotNames: ['ema', 'count'],
    initSlots: (v) => [tf.zerosLike(v), tf.scalar(0)],
    update: (ctx, update) => {
      const slots: tf.Tensor[][] = [];
      const out = update.map((d, i) => {
        const [m0, t0] = ctx.slots[i];
        const m = tf.add(tf.mul(m0, decay), tf.mul(d, 1 - decay));
        const t = tf.add(t0, 1);
        slots.push([m, t]);
        return debias ? tf.div(m, tf.sub(1, tf.pow(tf.scalar(decay), t))) : m;
      });
      return { update: out, slots };
    },
  };
}

registerTransform('ema', (c) => ema(c as EmaOptions));
