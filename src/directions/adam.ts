/** Adam / AdamW direction, with the preconditioned gradient as the line-search direction. */
import * as tf from '@tensorflow/tfjs';
import { addDecayedWeights } from '../core/decay.js';
import { registerDirection } from '../core/registry.js';
import type { Direction } from '../core/types.js';
import { checkKnownKeys, checkNumber } from '../core/validate.js';
import { adamMoments } from './adamMoments.js';

/** Options of {@link adam}. */
export interface AdamOptions {
  /** First-moment decay, in [0, 1). Default 0.9. */
  beta1?: number;
  /** Second-moment decay, in [0, 1). Default 0.999. */
  beta2?: number;
  /** Added to sqrt(v-hat). Default 1e-7, TF.js's own default, so that lrfree.adam matches tf.train.adam. */
  epsilon?: number;
  /** AdamW decoupled weight decay: d += weightDecay * w (scaled by eta with the rest). Default 0. */
  weightDecay?: number;
}

/**
 * Adam: m <- b1*m + (1-b1)g; v <- b2*v + (1-b2)g^2; P = 1/(sqrt(v/(1-b2^k)) + eps);
 * update d = P * m/(1-b1^k) (+ weightDecay*w). Line searches probe along P*g (no momentum) with
 * slope <g, P*g>, then commit along d (ALGORITHMS.md §2.1, trap T5). Slots per variable: `m`, `v`.
 * On patched wasm the per-variable update is one fused SIMD kernel (src/directions/adamMoments.ts).
 *
 * @example
 * ```ts
 * const opt = lrfree.optimizer({ direction: lrfree.directions.adam(), step: lrfree.steps.constant(1e-3) });
 * ```
 */
export function adam(options: AdamOptions = {}): Direction {
  checkKnownKeys('adam', options, ['beta1', 'beta2', 'epsilon', 'weightDecay'], 'directions.adam');
  const unit = { min: 0, max: 1, maxExclusive: true };
  const beta1 = checkNumber('adam', 'beta1', options.beta1 ?? 0.9, unit);
  const beta2 = checkNumber('adam', 'beta2', options.beta2 ?? 0.999, unit);
  const epsilon = checkNumber('adam', 'epsilon', options.epsilon ?? 1e-7, { min: 0, minExclusive: true });
  const weightDecay = checkNumber('adam', 'weightDecay', options.weightDecay ?? 0, { min: 0 });
  return {
    kind: 'adam',
    config: { beta1, beta2, epsilon, weightDecay },
    slotNames: ['m', 'v'],
    initSlots: (v) => [tf.zerosLike(v), tf.zerosLike(v)],
    initScalars: () => ({}),
    hyperparameters: {
      beta1: { value: beta1, ...unit },
      beta2: { value: beta2, ...unit },
      epsilon: { value: epsilon, min: 0, minExclusive: true },
    },
    compute: (ctx) => {
      const update: tf.Tensor[] = [];
      const search: tf.Tensor[] = [];
      const slots: tf.Tensor[][] = [];
      const h = ctx.hyper ?? {};
      const constants = {
        beta1: h.beta1 ?? beta1,
        beta2: h.beta2 ?? beta2,
        epsilon: h.epsilon ?? epsilon,
        step: ctx.step,
      };
      ctx.grads.forEach((g, i) => {
        const [m0, v0] = ctx.slots[i];
        const { m, v, d, s } = adamMoments(g, m0, v0, constants, ctx.wantsSearch);
        update.push(addDecayedWeights(d, ctx.params[i], weightDecay));
        if (s) search.push(s);
        slots.push([m, v]);
      });
      return { update, search: ctx.wantsSearch ? search : undefined, slots };
    },
  };
}

registerDirection('adam', (c) => adam(c as AdamOptions));
