/** The constant step: eta never changes. No probes. */
import { registerStepRule } from '../core/registry.js';
import type { StepRule } from '../core/types.js';
import { checkNumber } from '../core/validate.js';

/**
 * A fixed step size. Cost per step: nothing beyond the gradient. Its run-time hyperparameter is `lr`
 * (`opt.hyperparams.set('lr', 0.01)` changes it between steps).
 *
 * @param eta the step size (learning rate), > 0.
 * @example
 * ```ts
 * const opt = lrfree.optimizer({ direction: lrfree.directions.sgd(), step: lrfree.steps.constant(0.1) });
 * ```
 */
export function constant(eta: number): StepRule {
  checkNumber('constant', 'eta', eta, { min: 0, minExclusive: true });
  return {
    kind: 'constant',
    config: { eta },
    slotNames: [],
    needsLoss: false,
    initSlots: () => [],
    initScalars: () => ({}),
    hyperparameters: { lr: { value: eta, min: 0, minExclusive: true } },
    choose: (ctx) => ({ eta: ctx.hyper?.lr ?? eta }),
  };
}

registerStepRule('constant', (c) => constant(c.eta as number));
