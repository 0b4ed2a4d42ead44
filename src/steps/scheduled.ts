/** A step size that follows a schedule: eta_k = eta * schedule(k). No probes. */
import { createSchedule, registerStepRule } from '../core/registry.js';
import type { Schedule } from '../core/schedule.js';
import type { StepRule } from '../core/types.js';
import { checkNumber, LrfreeConfigError } from '../core/validate.js';

/**
 * eta_k = lr * schedule.multiplier(k). Cost per step: nothing beyond the gradient. Run-time
 * hyperparameter: `lr` (the base the schedule multiplies).
 *
 * @example
 * ```ts
 * const step = lrfree.steps.scheduled(0.1, lrfree.powerDecay({ plateauEpochs: 10 }));
 * const opt = lrfree.optimizer({ direction: lrfree.directions.sgd(), step, stepsPerEpoch: 469 });
 * ```
 */
export function scheduled(eta: number, schedule: Schedule): StepRule {
  checkNumber('scheduled', 'eta', eta, { min: 0, minExclusive: true });
  if (typeof schedule?.multiplier !== 'function') {
    throw new LrfreeConfigError(
      'scheduled: the second argument must be a schedule such as cosine({ totalSteps }).',
    );
  }
  return {
    kind: 'scheduled',
    config: { eta, schedule: { kind: schedule.kind, config: schedule.config } },
    slotNames: [],
    needsLoss: false,
    initSlots: () => [],
    initScalars: () => ({}),
    hyperparameters: { lr: { value: eta, min: 0, minExclusive: true } },
    choose: (ctx) => ({ eta: (ctx.hyper?.lr ?? eta) * schedule.multiplier(ctx.step, ctx.stepsPerEpoch) }),
  };
}

registerStepRule('scheduled', (c) => scheduled(c.eta as number, createSchedule(c.schedule)));
