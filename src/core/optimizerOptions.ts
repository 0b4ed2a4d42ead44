/**
 * The options of `optimizer()` and how they become a composition: a direction and a step rule, or a method
 * that owns its step (run under the internal unit step), with the errors that name a wrong piece. Apart from
 * the optimizer class so that the checks and their messages can be read (and changed) in one place.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Schedule } from './schedule.js';
import type { Direction, GradientTransform, Method, StepRule } from './types.js';
import { LrfreeConfigError, optionKeys } from './validate.js';

/** Options of {@link optimizer}. */
export interface OptimizerOptions {
  /** How the gradient becomes an update direction (`directions.sgd()`, `directions.adam()`, ...). */
  direction?: Direction;
  /** How far to go along it (`steps.constant(0.1)`, `steps.armijo()`, ...). */
  step?: StepRule;
  /**
   * Instead of `direction` + `step`: a method that computes its whole update, step size included
   * (`methods.prodigy()`, `methods.scheduleFreeSgd()`, `methods.dog()`, ...). Cannot be combined with a
   * direction or a step rule.
   */
  method?: Method;
  /** Gradient transforms applied around the direction or method, e.g. `chain(clipByGlobalNorm(1), ...)`. */
  transforms?: GradientTransform;
  /**
   * A multiplier as a function of the step. With a step rule it multiplies the committed step size eta
   * the rule chose; with a method it multiplies the method's own lr (the method sees it as
   * `ctx.lrScale`, so its estimators see it too, as a PyTorch scheduler changing `group['lr']` does).
   */
  schedule?: Schedule;
  /** Seed of every random draw the optimizer makes (dropout masks per step, Alrao rates). Default 0. */
  seed?: number;
  /** Optimizer steps per epoch, for epoch-based schedules and reset rules. */
  stepsPerEpoch?: number;
  /**
   * The model being trained (optional). Gives exact layer groups and classes, and limits the batch-norm
   * snapshot to this model's non-trainable weights. Not saved with the config.
   */
  model?: tf.LayersModel;
  /** Display name (presets set it, e.g. `sls`). */
  name?: string;
}

/** The options {@link LrfreeOptimizer} accepts (one list: the unknown-key check and the fuzz test read it). */
export const OPTIMIZER_KEYS = optionKeys('optimizer', [
  'direction',
  'step',
  'method',
  'transforms',
  'schedule',
  'seed',
  'stepsPerEpoch',
  'model',
  'name',
] as const satisfies readonly (keyof OptimizerOptions)[]);

/** The committed step of a method: w <- w - update (the method owns its step size). */
const METHOD_STEP: StepRule = {
  kind: 'constant',
  config: { eta: 1 },
  slotNames: [],
  needsLoss: false,
  initSlots: () => [],
  initScalars: () => ({}),
  choose: () => ({ eta: 1 }),
};

/** What a function name means at the top level vs in the piece namespaces (for the errors below). */
function pieceHint(x: unknown, slot: 'direction' | 'step' | 'method'): string {
  const name = (x as { name?: string } | undefined)?.name ?? '?';
  const ns = slot === 'step' ? 'steps' : slot === 'method' ? 'methods' : 'directions';
  return (
    `optimizer: options.${slot} got the whole optimizer '${name}' (lrfree.${name}(...) builds an optimizer). ` +
    `Pass a ${slot === 'step' ? 'step rule' : slot}: lrfree.${ns}.${name}(...).`
  );
}

function isOptimizerLike(x: unknown): boolean {
  return typeof (x as { minimize?: unknown } | undefined)?.minimize === 'function';
}

/** Checks the pieces and resolves a method (or a legacy whole-update direction under the unit step). */
export function composition(options: OptimizerOptions): {
  direction: Direction;
  rule: StepRule;
  isMethod: boolean;
} {
  if (!options || typeof options !== 'object') {
    throw new LrfreeConfigError('optimizer: give { direction, step } or { method }.');
  }
  const { direction, step, method } = options;
  if (method !== undefined) {
    if (isOptimizerLike(method)) throw new LrfreeConfigError(pieceHint(method, 'method'));
    if (typeof method?.compute !== 'function' || method.ownsStep !== true) {
      throw new LrfreeConfigError(
        'optimizer: options.method must be a method such as lrfree.methods.prodigy() or lrfree.methods.dog().',
      );
    }
    if (direction !== undefined || step !== undefined) {
      throw new LrfreeConfigError(
        `optimizer: the method '${method.kind}' computes its whole update, step size included, so it takes ` +
          `no ${direction !== undefined ? 'direction' : 'step rule'}; give { method } alone (plus transforms, ` +
          'schedule, seed...), or { direction, step } without a method.',
      );
    }
    return { direction: method, rule: METHOD_STEP, isMethod: true };
  }
  if (isOptimizerLike(direction)) throw new LrfreeConfigError(pieceHint(direction, 'direction'));
  if (typeof direction?.compute !== 'function') {
    throw new LrfreeConfigError(
      'optimizer: options.direction must be a direction such as lrfree.directions.sgd() or ' +
        'lrfree.directions.adam() (or give { method } for Prodigy, D-Adaptation, Schedule-Free, DoG).',
    );
  }
  if (isOptimizerLike(step)) throw new LrfreeConfigError(pieceHint(step, 'step'));
  if (typeof step?.choose !== 'function') {
    throw new LrfreeConfigError(
      typeof (step as { compute?: unknown } | undefined)?.compute === 'function'
        ? `optimizer: options.step got '${(step as unknown as Direction).kind}', which is a direction or a method, not a step rule.`
        : 'optimizer: options.step must be a step rule such as lrfree.steps.constant(0.1) or lrfree.steps.armijo().',
    );
  }
  if ((direction as Partial<Method>).ownsStep === true) {
    // A whole-update piece passed as a direction (the pre-methods spelling): only the unit step keeps
    // its invariants (Schedule-Free's y = beta*x + (1-beta)*z, Prodigy's d estimate); run it as a method.
    if (step.kind === 'constant' && step.config.eta === 1) {
      return { direction, rule: METHOD_STEP, isMethod: true };
    }
    throw new LrfreeConfigError(
      `optimizer: '${direction.kind}' computes its whole update, step size included, so it cannot run under ` +
        `the step rule '${step.kind}' (it would break the method's own step). Use ` +
        `optimizer({ method: lrfree.methods.${direction.kind}() }).`,
    );
  }
  return { direction, rule: step, isMethod: false };
}
