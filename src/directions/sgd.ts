/** Plain gradient direction: d = g (+ weightDecay * w). */
import { addDecayedWeights } from '../core/decay.js';
import { registerDirection } from '../core/registry.js';
import type { ComponentConfig, Direction } from '../core/types.js';
import { checkKnownKeys, checkNumber } from '../core/validate.js';

/** Options of {@link sgd}. */
export interface SgdOptions {
  /** Decoupled weight decay: d = g + weightDecay * w (for SGD the same as an L2 penalty). Default 0. */
  weightDecay?: number;
}

/**
 * The gradient itself as the direction. Cost: nothing beyond the gradient.
 *
 * @example
 * ```ts
 * const opt = lrfree.optimizer({ direction: lrfree.directions.sgd(), step: lrfree.steps.constant(0.1) });
 * ```
 */
export function sgd(options: SgdOptions = {}): Direction {
  checkKnownKeys('sgd', options, ['weightDecay'], 'directions.sgd');
  const weightDecay = checkNumber('sgd', 'weightDecay', options.weightDecay ?? 0, { min: 0 });
  const config: ComponentConfig = { weightDecay };
  return {
    kind: 'sgd',
    config,
    slotNames: [],
    initSlots: () => [],
    initScalars: () => ({}),
    compute: (ctx) => ({
      update:
        weightDecay === 0
          ? [...ctx.grads]
          : ctx.grads.map((g, i) => addDecayedWeights(g, ctx.params[i], weightDecay)),
      slots: ctx.params.map(() => []),
    }),
  };
}

registerDirection('sgd', (c) => sgd(c as SgdOptions));
