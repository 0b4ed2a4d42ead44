/** Clipping by global norm: the gradient transform of optax's `clip_by_global_norm`. */
import * as tf from '@tensorflow/tfjs';
import { registerTransform } from '../core/registry.js';
import type { GradientTransform } from '../core/types.js';
import { checkNumber } from '../core/validate.js';

/**
 * g <- g * min(1, maxNorm / ||g||), with ||g|| the norm of all gradients together. The norm is free: the
 * optimizer has already read every ||g_i||^2 back for its finiteness check. Stateless. Run-time
 * hyperparameter: `maxNorm`. `lastStep.info` gets `gradNorm` (before clipping) and `clipped` (0 or 1).
 *
 * Step rules still see the true gradient (phi'(0) stays exact); the direction sees the clipped one.
 *
 * @param maxNorm the largest global norm let through, > 0.
 * @example
 * ```ts
 * const opt = lrfree.optimizer({
 *   transforms: lrfree.transforms.clipByGlobalNorm(1),
 *   direction: lrfree.directions.sgd(),
 *   step: lrfree.steps.constant(0.1),
 * });
 * ```
 */
export function clipByGlobalNorm(maxNorm: number): GradientTransform {
  checkNumber('clipByGlobalNorm', 'maxNorm', maxNorm, { min: 0, minExclusive: true });
  return {
    kind: 'clipByGlobalNorm',
    config: { maxNorm },
    initScalars: () => ({}),
    hyperparameters: { maxNorm: { value: maxNorm, min: 0, minExclusive: true } },
    gradient: (ctx, grads, gradNormSq) => {
      const max = ctx.hyper.maxNorm ?? maxNorm;
      const norm = Math.sqrt(gradNormSq.reduce((a, b) => a + b, 0));
      if (!(norm > max)) {
        return { grads: [...grads], gradNormSq: [...gradNormSq], info: { gradNorm: norm, clipped: 0 } };
      }
      const factor = max / norm;
      return {
        grads: grads.map((g) => tf.mul(g, factor)),
        gradNormSq: gradNormSq.map((q) => q * factor * factor),
        info: { gradNorm: norm, clipped: 1 },
      };
    },
  };
}

registerTransform('clipByGlobalNorm', (c) => clipByGlobalNorm(c.maxNorm as number));
