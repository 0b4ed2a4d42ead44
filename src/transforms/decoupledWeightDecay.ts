/** Decoupled weight decay with a mask: optax's `add_decayed_weights(weight_decay, mask)`. */
import type * as tf from '@tensorflow/tfjs';
import { addDecayedWeights } from '../core/decay.js';
import { registerTransform } from '../core/registry.js';
import type { GradientTransform } from '../core/types.js';
import { checkKnownKeys, checkNumber, LrfreeConfigError } from '../core/validate.js';

/** Which variables decay: a predicate, or a named rule. */
export type DecayMask = 'default' | 'all' | ((variable: tf.Variable, index: number) => boolean);

/** Options of {@link decoupledWeightDecay}. */
export interface DecoupledWeightDecayOptions {
  /** The decay coefficient (AdamW's weight decay), >= 0. */
  rate: number;
  /**
   * Which variables decay. `'default'`: every variable of rank >= 2 (kernels, embeddings), none of rank
   * <= 1 (biases, batch-norm and layer-norm gamma/beta), the usual rule. `'all'`: every variable. A
   * function `(variable, index) => boolean` for anything else (not saved with the config: give the same
   * mask again when restoring).
   */
  mask?: DecayMask;
}

/** The default mask: variables of rank >= 2 decay; biases and normalisation parameters (rank <= 1) do not. */
export function defaultDecayMask(variable: tf.Variable): boolean {
  return variable.shape.length >= 2;
}

/**
 * d <- d + rate * w on the committed update, for the variables the mask selects. The step size then
 * scales it with the rest, w <- w - eta*(d + rate*w), as AdamW (Loshchilov & Hutter 2019) decays: the
 * decay does not pass through Adam's preconditioner, unlike an L2 term added to the gradient. With a
 * method (eta = 1) the decay per step is `rate * w` itself. Stateless. Run-time hyperparameter: `rate`.
 *
 * This is the one implementation of decoupled decay: the `weightDecay` option of the sgd, momentum and
 * adam directions and of the `sgd`, `momentum`, `adam` presets computes the same `d + rate*w` (with
 * mask `'all'`). Methods keep their own published decay (see `lrfree.methods`).
 *
 * @example
 * ```ts
 * const opt = lrfree.optimizer({
 *   transforms: lrfree.transforms.decoupledWeightDecay({ rate: 1e-4 }), // biases and BN excluded
 *   direction: lrfree.directions.adam(),
 *   step: lrfree.steps.constant(1e-3),
 * });
 * ```
 */
export function decoupledWeightDecay(options: DecoupledWeightDecayOptions): GradientTransform {
  const W = 'decoupledWeightDecay';
  if (!options || typeof options !== 'object') {
    throw new LrfreeConfigError(`${W}: give { rate, mask? }, e.g. decoupledWeightDecay({ rate: 1e-4 }).`);
  }
  checkKnownKeys(W, options, ['rate', 'mask']);
  const rate = checkNumber(W, 'rate', options.rate, { min: 0 });
  const mask = options.mask ?? 'default';
  if (mask !== 'default' && mask !== 'all' && typeof mask !== 'function') {
    throw new LrfreeConfigError(
      `${W}: mask = ${JSON.stringify(mask)} is not allowed; use 'default', 'all' or a function (variable, index) => boolean.`,
    );
  }
  const selects = (v: tf.Variable, i: number): boolean =>
    mask === 'all' ? true : mask === 'default' ? defaultDecayMask(v) : mask(v, i);
  return {
    kind: W,
    config: { rate, mask: typeof mask === 'function' ? 'custom' : mask },
    initScalars: () => ({}),
    hyperparameters: { rate: { value: rate, min: 0 } },
    update: (ctx, update) => {
      const r = ctx.hyper.rate ?? rate;
      return update.map((d, i) => (selects(ctx.params[i], i) ? addDecayedWeights(d, ctx.params[i], r) : d));
    },
  };
}

registerTransform('decoupledWeightDecay', (c) => {
  if (c.mask === 'custom') {
    throw new LrfreeConfigError(
      'decoupledWeightDecay: this optimizer was saved with a custom mask function, which a config cannot ' +
        'hold; rebuild the optimizer in code with the same mask and restore its weights with setWeights().',
    );
  }
  return decoupledWeightDecay({ rate: c.rate as number, mask: c.mask as 'default' | 'all' });
});
