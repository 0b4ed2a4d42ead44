/**
 * Baseline presets in the composed shape. Each matches its tf.train counterpart step for step
 * (test/baselines.test.ts), so a benchmark compares like with like.
 */
import { LrfreeOptimizer, type OptimizerOptions } from '../core/optimizer.js';
import { checkKnownKeys, checkNumber, LrfreeConfigError, optionKeys, showValue } from '../core/validate.js';
import { type AdamOptions, adam as adamDirection } from '../directions/adam.js';
import { momentum as momentumDirection } from '../directions/momentum.js';
import { sgd as sgdDirection } from '../directions/sgd.js';
import { constant } from '../steps/constant.js';
import { decoupledWeightDecay } from '../transforms/decoupledWeightDecay.js';

/** Options every preset accepts besides its own: seed, schedule, stepsPerEpoch, model, transforms. */
export type CommonOptions = Omit<OptimizerOptions, 'direction' | 'step' | 'method' | 'name'>;

/** The keys of {@link CommonOptions}. */
export const COMMON_KEYS = [
  'transforms',
  'schedule',
  'seed',
  'stepsPerEpoch',
  'model',
] as const satisfies readonly (keyof CommonOptions)[];

/**
 * Declares the option keys of the preset `name`: its own and the common ones, exactly the keys of its
 * options type (test/presetKeys.test.ts). The one list its unknown-key check (`checkKnownKeys`),
 * `knownOptionKeys(name)` and the fuzz tests read; a key the preset decides itself (the direction of
 * `adam`, the step of `sls`) is not in it, so it is refused rather than silently overridden.
 */
export function presetKeys(name: string, own: readonly string[]): readonly string[] {
  return optionKeys(name, [...new Set([...own, ...COMMON_KEYS])]);
}

const SGD_KEYS = presetKeys('sgd', ['weightDecay']);
const MOMENTUM_KEYS = presetKeys('momentum', ['nesterov', 'weightDecay']);
const ADAM_KEYS = presetKeys('adam', ['beta1', 'beta2', 'epsilon', 'weightDecay']);

/**
 * A preset's `weightDecay` as the one decoupled-decay transform (every variable decays, as the preset
 * always did; d + weightDecay*w is the same arithmetic the direction option ran). Chained after any
 * transforms the caller gave.
 */
export function withDecay<T extends CommonOptions>(
  who: string,
  common: T,
  weightDecay: number | undefined,
): T {
  if (weightDecay === undefined) return common;
  // Named as the user wrote it (the transform would say `rate`).
  checkNumber(who, 'weightDecay', weightDecay, { min: 0 });
  if (weightDecay === 0) return common;
  const decay = decoupledWeightDecay({ rate: weightDecay, mask: 'all' });
  if (!common.transforms) return { ...common, transforms: decay };
  throw new LrfreeConfigError(
    `${who}: weightDecay = ${showValue(weightDecay)} is given together with transforms; give weightDecay ` +
      'either as the preset option or inside transforms (decoupledWeightDecay), not both.',
  );
}

/**
 * Plain SGD with a fixed learning rate: w <- w - eta*g. Same as `tf.train.sgd(eta)`.
 *
 * @example
 * ```ts
 * model.compile({ optimizer: lrfree.sgd(0.1), loss: 'categoricalCrossentropy' });
 * ```
 */
export function sgd(eta: number, options: CommonOptions & { weightDecay?: number } = {}): LrfreeOptimizer {
  checkKnownKeys('sgd', options, SGD_KEYS);
  const { weightDecay, ...common } = options;
  return new LrfreeOptimizer({
    ...withDecay('sgd', common, weightDecay),
    direction: sgdDirection(),
    step: constant(eta),
    name: 'sgd',
  });
}

/**
 * SGD with momentum: a <- beta*a + g; w <- w - eta*a (Nesterov optional). Same as
 * `tf.train.momentum(eta, beta, nesterov)`.
 *
 * @example
 * ```ts
 * const opt = lrfree.momentum(0.05, 0.9);
 * ```
 */
export function momentum(
  eta: number,
  beta = 0.9,
  options: CommonOptions & { nesterov?: boolean; weightDecay?: number } = {},
): LrfreeOptimizer {
  checkKnownKeys('momentum', options, MOMENTUM_KEYS);
  const { nesterov, weightDecay, ...common } = options;
  return new LrfreeOptimizer({
    ...withDecay('momentum', common, weightDecay),
    direction: momentumDirection({ beta, nesterov }),
    step: constant(eta),
    name: 'momentum',
  });
}

/**
 * Adam (AdamW with `weightDecay`) at a fixed learning rate. Same as `tf.train.adam(eta, beta1, beta2, epsilon)`.
 *
 * @example
 * ```ts
 * const opt = lrfree.adam(1e-3);
 * ```
 */
export function adam(eta = 0.001, options: CommonOptions & AdamOptions = {}): LrfreeOptimizer {
  checkKnownKeys('adam', options, ADAM_KEYS);
  const { beta1, beta2, epsilon, weightDecay, ...common } = options;
  return new LrfreeOptimizer({
    ...withDecay('adam', common, weightDecay),
    direction: adamDirection({ beta1, beta2, epsilon }),
    step: constant(eta),
    name: 'adam',
  });
}
