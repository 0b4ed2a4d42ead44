/**
 * "More descent, less gradient" presets: walk, keepStepping, keepVaulting, pal and newton, each a one-line
 * composition of a direction and a step rule (DESIGN.md). They spend forwards (or extra gradients, for
 * Newton) to get more out of each gradient.
 */
import { LrfreeOptimizer } from '../core/optimizer.js';
import { checkKnownKeys, checkOneOf, LrfreeConfigError, showValue } from '../core/validate.js';
import { type AdamOptions, adam } from '../directions/adam.js';
import { momentum } from '../directions/momentum.js';
import {
  NEWTON_DIRECTION_KEYS,
  type NewtonOptions,
  newton as newtonDirection,
} from '../directions/newton.js';
import { sgd } from '../directions/sgd.js';
import { constant } from '../steps/constant.js';
import {
  KEEP_STEPPING_RULE_KEYS,
  type KeepSteppingOptions,
  keepStepping as keepSteppingRule,
} from '../steps/keepStepping.js';
import { PARABOLIC_RULE_KEYS, type ParabolicOptions, parabolic } from '../steps/parabolic.js';
import { VAULT_RULE_KEYS, type VaultOptions, vault } from '../steps/vault.js';
import { WALK_RULE_KEYS, type WalkOptions, walk as walkRule } from '../steps/walk.js';
import { type CommonOptions, presetKeys } from './baselines.js';
import type { CatalogEntry } from './catalogEntry.js';

// Each preset's keys: its rule's (or direction's) own, its own and the common ones (presetKeys).
const WALK_KEYS = presetKeys('walk', [...WALK_RULE_KEYS, 'direction', 'adam']);
const KEEP_STEPPING_KEYS = presetKeys('keepStepping', KEEP_STEPPING_RULE_KEYS);
const KEEP_VAULTING_KEYS = presetKeys('keepVaulting', VAULT_RULE_KEYS);
const PAL_KEYS = presetKeys('pal', [...PARABOLIC_RULE_KEYS, 'beta']);
const NEWTON_KEYS = presetKeys('newton', [...NEWTON_DIRECTION_KEYS, 'guard']);

/** Options of {@link walk}: the walk rule's, the direction, and the common ones. */
export type WalkPresetOptions = CommonOptions &
  WalkOptions & {
    /** `sgd` (d = g) or `adam` (d = P*m-hat, with `adam` options). Default `sgd`. */
    direction?: 'sgd' | 'adam';
    /** Options of the Adam direction when `direction: 'adam'`. */
    adam?: AdamOptions;
  };

/**
 * Walk (sources/walk-forum-post.txt): one gradient, K = 2m+1 step sizes eta_center*r^j tried along it,
 * the best point kept and the grid re-centred on it; no move when nothing beats phi(0). See
 * docs/optimizers/walk.md. Cost: 1 F/B + K F per walking step.
 *
 * @example
 * ```ts
 * const opt = lrfree.walk({ eta0: 0.01, walkEvery: 1, direction: 'sgd' });
 * model.compile({ optimizer: opt, loss: 'categoricalCrossentropy' });
 * ```
 */
export function walk(options: WalkPresetOptions = {}): LrfreeOptimizer {
  checkKnownKeys('walk', options, WALK_KEYS);
  const { transforms, seed, schedule, stepsPerEpoch, model, direction, adam: adamOptions, ...rule } = options;
  const dir = checkOneOf('walk', 'direction', direction ?? 'sgd', ['sgd', 'adam']);
  if (adamOptions !== undefined && dir !== 'adam') {
    throw new LrfreeConfigError(
      `walk: adam = ${showValue(adamOptions)} applies only with direction: 'adam'; give direction: 'adam' ` +
        'too, or leave adam out.',
    );
  }
  return new LrfreeOptimizer({
    transforms,
    seed,
    schedule,
    stepsPerEpoch,
    model,
    direction: dir === 'adam' ? adam(adamOptions) : sgd(),
    step: walkRule(rule),
    name: 'walk',
  });
}

/**
 * KeepStepping (sources/more-descent-less-gradient.txt): one gradient, then mini-steps lr*(1 + scaleI*sqrt(i))
 * along it while the loss falls; the worsening mini-step is undone. SGD direction. See
 * docs/optimizers/keepStepping.md. Cost: 1 F/B + (accepted mini-steps + 1) F.
 *
 * @example
 * ```ts
 * const opt = lrfree.keepStepping({ lr: 1e-3, maxSteps: 50, scaleI: 2 });
 * ```
 */
export function keepStepping(options: CommonOptions & KeepSteppingOptions = {}): LrfreeOptimizer {
  checkKnownKeys('keepStepping', options, KEEP_STEPPING_KEYS);
  const { transforms, seed, schedule, stepsPerEpoch, model, ...rule } = options;
  return new LrfreeOptimizer({
    transforms,
    seed,
    schedule,
    stepsPerEpoch,
    model,
    direction: sgd(),
    step: keepSteppingRule(rule),
    name: 'keepStepping',
  });
}

/**
 * KeepVaulting (sources/more-descent-less-gradient.txt): one gradient, then a bounded 1-D Newton/secant
 * walk on phi from the free slope, ending at the best evaluated point. SGD direction. See
 * docs/optimizers/keepVaulting.md. Cost: 1 F/B + (1 + jumps) F.
 *
 * @example
 * ```ts
 * const opt = lrfree.keepVaulting({ lr: 1e-3, maxSteps: 10 });
 * ```
 */
export function keepVaulting(options: CommonOptions & VaultOptions = {}): LrfreeOptimizer {
  checkKnownKeys('keepVaulting', options, KEEP_VAULTING_KEYS);
  const { transforms, seed, schedule, stepsPerEpoch, model, ...rule } = options;
  return new LrfreeOptimizer({
    transforms,
    seed,
    schedule,
    stepsPerEpoch,
    model,
    direction: sgd(),
    step: vault(rule),
    name: 'keepVaulting',
  });
}

/**
 * PAL (Mutschler & Zell 2020): heavy-ball direction with factor `beta` (the reference's "conjugate gradient
 * factor", default 0.4) and the one-probe parabolic step. See docs/optimizers/pal.md. Cost: 1 F/B + 1 F.
 *
 * @example
 * ```ts
 * const opt = lrfree.pal({ mu: 1, sMax: 3.16 });
 * ```
 */
export function pal(options: CommonOptions & ParabolicOptions & { beta?: number } = {}): LrfreeOptimizer {
  checkKnownKeys('pal', options, PAL_KEYS);
  const { transforms, seed, schedule, stepsPerEpoch, model, beta, ...rule } = options;
  return new LrfreeOptimizer({
    transforms,
    seed,
    schedule,
    stepsPerEpoch,
    model,
    direction: momentum({ beta: beta ?? 0.4 }),
    step: parabolic(rule),
    name: 'pal',
  });
}

/** Options of {@link newton}. */
export type NewtonPresetOptions = CommonOptions &
  NewtonOptions & {
    /**
     * Accept the full Newton step only when it lowers the loss (1 forward), else stay; with `adaptive`
     * damping this is Levenberg-Marquardt's accept/reject. Default true.
     */
    guard?: boolean;
  };

/**
 * Newton for small models: d = (H + lambda I)^-1 g from finite-difference Hessian-vector products, full
 * step eta = 1, guarded by one forward (see `guard`). Solves linear least squares in one step. See
 * docs/optimizers/newton.md. Cost: 1 F/B + 2P gradients (central, dense) + 1 F.
 *
 * @example
 * ```ts
 * const opt = lrfree.newton({ hvp: 'central', solver: 'auto' });
 * ```
 */
export function newton(options: NewtonPresetOptions = {}): LrfreeOptimizer {
  checkKnownKeys('newton', options, NEWTON_KEYS);
  const { transforms, seed, schedule, stepsPerEpoch, model, guard, ...dir } = options;
  const guarded = checkOneOf('newton', 'guard', guard ?? true, [true, false]);
  return new LrfreeOptimizer({
    transforms,
    seed,
    schedule,
    stepsPerEpoch,
    model,
    direction: newtonDirection(dir),
    step: guarded ? vault({ lr: 1, maxSteps: 0, revertIfWorse: true }) : constant(1),
    name: 'newton',
  });
}

/** Catalog entries of these presets at their defaults (the lead registers them). */
export const CATALOG: CatalogEntry[] = [
  {
    name: 'walk',
    description: 'walk: 5 step sizes eta*2^j (j=-2..2) on each SGD gradient, keep the best, re-centre',
    family: 'more-descent',
    make: ({ seed, stepsPerEpoch, startEta }) => walk({ seed, stepsPerEpoch, eta0: startEta }),
    startEta: true,
  },
  {
    name: 'keepStepping',
    description: 'KeepStepping: mini-steps lr=1e-3 along the gradient while the loss falls (max 20)',
    family: 'more-descent',
    make: ({ seed, stepsPerEpoch }) => keepStepping({ seed, stepsPerEpoch }),
  },
  {
    name: 'keepVaulting',
    description: 'KeepVaulting: bounded 1-D Newton/secant walk along the gradient from lr=1e-3',
    family: 'more-descent',
    make: ({ seed, stepsPerEpoch }) => keepVaulting({ seed, stepsPerEpoch }),
  },
  {
    name: 'pal',
    description: 'PAL: one-probe parabolic step (mu 1, sMax 3.16) on heavy-ball 0.4',
    family: 'more-descent',
    make: ({ seed, stepsPerEpoch }) => pal({ seed, stepsPerEpoch }),
  },
  {
    name: 'newton',
    description:
      'Newton with finite-difference Hessian, LM damping, guarded full step; dense up to 200 parameters, else 20 CG iterations (small models only)',
    family: 'more-descent',
    // The benchmark caps the dense solver: P gradients per step on a 650-parameter full-batch model would
    // take minutes of a 3-minute demo; 20 CG iterations cost at most 40.
    make: ({ seed, stepsPerEpoch }) => newton({ seed, stepsPerEpoch, maxDenseParams: 200, cgIterations: 20 }),
  },
];
