/**
 * The contract: directions x step rules. A Direction turns the gradient into an update direction d; a
 * StepRule chooses how far to go along -d from phi(eta) = loss(w - eta*d) on the same batch. The composing
 * optimizer (optimizer.ts) owns all state and calls both.
 */
import type * as tf from '@tensorflow/tfjs';
import type { ParamGroup } from './params.js';

/** A JSON-safe value: configs and scalar state must survive `getConfig` and `JSON.stringify`. */
export type JsonValue = number | string | boolean | null | JsonValue[] | { [key: string]: JsonValue };
/** A component's configuration, as written to `getConfig`. */
export type ComponentConfig = { [key: string]: JsonValue };
/** Scalar state of a component: numbers (or arrays of numbers, e.g. one per group), saved exactly. */
export type ScalarState = { [key: string]: number | number[] };

/**
 * A step size: one number for all variables, one number per parameter group, or one tensor per variable
 * (broadcast against it, e.g. Alrao's per-feature rates).
 */
export type Eta = number | readonly number[] | PerVariableEta;

/**
 * Which direction the weights move along: `search` or `update` for every group, or one of them per group
 * (PLASLS's paper variant probes and commits groups along different directions).
 */
export type Along = 'search' | 'update' | readonly ('search' | 'update')[];
/** One step-size tensor per variable, broadcastable to the variable's shape. */
export interface PerVariableEta {
  readonly perVariable: readonly tf.Tensor[];
}

/**
 * A hyperparameter that may change at run time (`opt.hyperparams.set(name, value)`), with the bounds the
 * new value is checked against. The component reads the current value from its context (`ctx.hyper`).
 */
export interface HyperparameterSpec {
  /** The value at construction. */
  readonly value: number;
  readonly min?: number;
  readonly max?: number;
  readonly minExclusive?: boolean;
  readonly maxExclusive?: boolean;
}

/** What every direction and step rule shares: a name, a config, and state the core keeps for it. */
export interface Component {
  /** Registry key, e.g. `adam` or `armijo` (camelCase, no underscores: TF.js camel-cases them on load). */
  readonly kind: string;
  /** Everything needed to rebuild the component with `create(kind, config)`. */
  readonly config: ComponentConfig;
  /** Names of the per-variable state tensors (e.g. `['m', 'v']`); empty when there are none. */
  readonly slotNames: readonly string[];
  /** Initial per-variable state tensors, aligned with `slotNames`. */
  initSlots(variable: tf.Variable, info: VariableInfo): tf.Tensor[];
  /** Initial scalar state. */
  initScalars(groups: readonly ParamGroup[]): ScalarState;
  /**
   * Hyperparameters that may change between steps (`opt.hyperparams`), read from `ctx.hyper` at every
   * step. Their current values are part of the optimizer's saved state. Optional.
   */
  readonly hyperparameters?: Readonly<Record<string, HyperparameterSpec>>;
}

/** What a component knows about one variable when it initialises state for it. */
export interface VariableInfo {
  readonly index: number;
  readonly group: ParamGroup;
  readonly featureAxis: number;
  /** A seed unique to this optimizer, variable position and component, for state drawn at random. */
  readonly seed: number;
}

/** What a direction sees at one step. All tensors are owned by the core. */
export interface DirectionContext {
  /** Number of applied steps including this one (1 at the first step), for bias corrections. */
  readonly step: number;
  readonly params: readonly tf.Variable[];
  readonly grads: readonly tf.Tensor[];
  readonly groups: readonly ParamGroup[];
  /** Per-variable state, aligned with `params` then with `slotNames`. */
  readonly slots: readonly (readonly tf.Tensor[])[];
  readonly scalars: Readonly<ScalarState>;
  /** Per-variable squared gradient norms, already read back (free). */
  readonly gradNormSq: readonly number[];
  /** Mini-batch loss at the current weights. */
  readonly loss: number;
  /** True when the step rule probes phi, so a separate `search` direction is worth computing. */
  readonly wantsSearch: boolean;
  /** Current values of this component's run-time hyperparameters (see `Component.hyperparameters`). */
  readonly hyper: Readonly<Record<string, number>>;
  /**
   * For methods only: the optimizer's schedule multiplier at this step, to multiply the method's own lr
   * by (`schedule` multiplies the committed step of a step rule, and the lr of a method). 1 otherwise.
   */
  readonly lrScale: number;
  /**
   * Gradient at `w + offsets` on the same batch (one extra backward, counted), leaving weights and
   * non-trainable state as they were. For finite-difference Hessian-vector products. The caller owns the
   * returned tensors.
   */
  gradientAt(offsets: readonly tf.Tensor[]): { loss: number; grads: tf.Tensor[] };
}

/** What a direction returns. The core keeps the tensors and disposes the previous slots. */
export interface DirectionResult {
  /** The committed update: w <- w - eta * update. */
  readonly update: tf.Tensor[];
  /** Direction that line searches probe along, when it differs from `update` (AdamSLS: P*g vs P*m). */
  readonly search?: tf.Tensor[];
  /** New per-variable state, aligned with `slots`. */
  readonly slots: tf.Tensor[][];
  /** New scalar state (unchanged when omitted). */
  readonly scalars?: ScalarState;
  /** Multiplies the eta reported in `lastStep` (e.g. Prodigy's d); does not change the update. */
  readonly etaScale?: number;
  /** Numbers worth seeing (e.g. Newton's damping); merged into `lastStep.info` under the rule's. */
  readonly info?: Record<string, number>;
}

/** A direction: sgd, momentum, adam, newton, ... */
export interface Direction extends Component {
  /** Computes this step's direction. Called inside `tf.tidy`; return every tensor the core must keep. */
  compute(ctx: DirectionContext): DirectionResult;
}

/** What a step rule sees: phi(eta) = loss(w0 - eta*d) on the step's batch, probed on demand. */
export interface LineContext {
  readonly step: number;
  /** Current values of the rule's run-time hyperparameters (see `Component.hyperparameters`). */
  readonly hyper: Readonly<Record<string, number>>;
  /** Optimizer steps per epoch when known (schedules and reset rules need it), else undefined. */
  readonly stepsPerEpoch?: number;
  readonly groups: readonly ParamGroup[];
  /** phi(0): the mini-batch loss at the current weights. NaN when the step was applied without a closure. */
  readonly loss0: number;
  /** Per-group squared gradient norms ||g_l||^2. */
  readonly groupGradNormSq: readonly number[];
  readonly grads: readonly tf.Tensor[];
  /** The search direction d (equals the update unless the direction gave a separate one). */
  readonly search: readonly tf.Tensor[];
  readonly update: readonly tf.Tensor[];
  readonly slots: readonly (readonly tf.Tensor[])[];
  /** Per-group <g_l, d_l> along the search direction (so phi'(0) = -sum). Computed once, on demand. */
  groupSlopes(): number[];
  /** <g, d> summed over all groups: -phi'(0). */
  gradDotSearch(): number;
  /**
   * phi(eta) along the search direction (or `along: 'update'`, or one of the two per group): one
   * training-mode forward on the same batch and dropout mask. Non-finite losses come back as +Infinity,
   * so "worse than anything" needs no special case. Throws when the optimizer was driven without a loss
   * closure.
   */
  phi(eta: Eta, along?: Along): number;
  /** Several probes read back with one sync. */
  phiMany(etas: readonly Eta[], along?: Along): number[];
  /** Number of probes so far in this step. */
  readonly probes: number;
}

/** A step rule's decision for one step. */
export interface StepDecision {
  /** How far to go; 0 (or all zeros) means "do not move". */
  readonly eta: Eta;
  /** Which direction to commit along (default `update`); per group when an array. */
  readonly along?: Along;
  /** What `lastStep.eta` should show (default: `eta` when it is a number or per-group). */
  readonly reported?: number | number[];
  /** New scalar state (unchanged when omitted). */
  readonly scalars?: ScalarState;
  /** New per-variable state (unchanged when omitted); the core disposes the previous tensors. */
  readonly slots?: tf.Tensor[][];
  /** Diagnostic numbers for `lastStep.info` (e.g. backtracks, failed searches). */
  readonly info?: Record<string, number>;
}

/** A step rule: constant, scheduled, armijo, walk, polyak, ... */
export interface StepRule extends Component {
  /** True when the rule probes phi and so needs the loss closure (cannot run from applyGradients). */
  readonly needsLoss: boolean;
  /** Chooses eta for this step. Not inside tf.tidy: tensors in `slots` must be returned kept. */
  choose(ctx: LineContext, scalars: Readonly<ScalarState>): StepDecision;
}

/**
 * A method: a piece that computes the whole update, its own step size included (Prodigy, D-Adaptation,
 * Schedule-Free, DoG). It takes the place of both the direction and the step rule:
 * `optimizer({ method: methods.prodigy() })`. The committed step is `w <- w - update` (eta = 1); the
 * optimizer's `schedule` reaches the method as `ctx.lrScale`, a multiplier on the method's own lr.
 */
export interface Method extends Component {
  /** Marks a piece that owns its step: it cannot be combined with a direction or a step rule. */
  readonly ownsStep: true;
  /** Computes the whole update. Called inside `tf.tidy`; return every tensor the core must keep. */
  compute(ctx: DirectionContext): DirectionResult;
  /**
   * The optimizer class this method needs, when it adds behaviour (Schedule-Free's train/eval). Default:
   * LrfreeOptimizer. Typed loosely to keep this file free of the optimizer.
   */
  readonly optimizerClass?: new (
    options: never,
  ) => unknown;
}

/** What a gradient transform sees. All tensors are owned by the core. */
export interface TransformContext {
  readonly step: number;
  readonly params: readonly tf.Variable[];
  readonly groups: readonly ParamGroup[];
  /** Current values of this transform's run-time hyperparameters. */
  readonly hyper: Readonly<Record<string, number>>;
  readonly scalars: Readonly<ScalarState>;
  /** This transform's per-variable state (`slotNames` order), one entry per variable of `params`. */
  readonly slots: readonly (readonly tf.Tensor[])[];
}

/** What an `update` hook may return: the new update, and new per-variable state if the transform has any. */
export interface TransformUpdate {
  update: tf.Tensor[];
  slots?: tf.Tensor[][];
}

/**
 * A gradient transform in the optax sense (clipping, weight decay, ...), composed with `chain(...)` and
 * applied by the optimizer around any direction, step rule or method:
 * `optimizer({ transforms: chain(clipByGlobalNorm(1), decoupledWeightDecay({ rate: 1e-4 })), ... })`.
 *
 * Two hooks: `gradient` maps the gradient before the direction sees it (g -> g'); `update` maps the
 * direction's committed update before the step size multiplies it (d -> d'; decoupled weight decay lives
 * here, so it is scaled by the step like AdamW's). Step rules still see the true gradient, so
 * phi'(0) = -<g, d> stays exact. State: scalars (saved exactly with the optimizer) and, for transforms that
 * declare `slotNames`, tensors per variable: created lazily by `initSlots` at a variable's first step,
 * handed to the hooks in `ctx.slots`, replaced by the `slots` a hook returns only when the step goes
 * through (a skipped non-finite step leaves them as they were), saved and restored with the optimizer's
 * weights, freed with it.
 */
export interface GradientTransform {
  /** Registry key (camelCase). */
  readonly kind: string;
  /** Everything needed to rebuild the transform with the registry. */
  readonly config: ComponentConfig;
  /** Initial scalar state. */
  initScalars(): ScalarState;
  readonly hyperparameters?: Readonly<Record<string, HyperparameterSpec>>;
  /** Names of the per-variable state tensors (none when absent). */
  readonly slotNames?: readonly string[];
  /** The state tensors of one variable, in `slotNames` order (called once per variable, lazily). */
  initSlots?(variable: tf.Variable, info: VariableInfo): tf.Tensor[];
  /**
   * g -> g'. Gets the per-variable squared norms already read back (free) and returns the new norms with
   * the new gradients (so no extra sync is needed). Called inside `tf.tidy`.
   */
  gradient?(
    ctx: TransformContext,
    grads: readonly tf.Tensor[],
    gradNormSq: readonly number[],
  ): {
    grads: tf.Tensor[];
    gradNormSq: number[];
    scalars?: ScalarState;
    info?: Record<string, number>;
    /** New per-variable state (transforms with `slotNames`). */
    slots?: tf.Tensor[][];
  };
  /**
   * d -> d' (the committed update, not the line-search direction). Called inside `tf.tidy`. `ctx.slots`
   * holds the state the gradient hook returned this step, if it returned any.
   */
  update?(ctx: TransformContext, update: readonly tf.Tensor[]): tf.Tensor[] | TransformUpdate;
}

/** One optimizer step, as observed. */
export interface StepRecord {
  /** Mini-batch loss at the start of the step (phi(0)). */
  readonly loss: number;
  /** Step size as reported by the rule (times the schedule and the direction's scale); per group when the rule has one per group. */
  readonly eta: number | number[];
  /** Loss-only evaluations made by this step (line-search probes). */
  readonly forwards: number;
  /** Gradient evaluations (each also a forward): 1, plus any Hessian-vector products. */
  readonly backwards: number;
  /**
   * True when the step was skipped because the loss, a gradient, the step size, the update or the new
   * state was not finite (nothing was applied).
   */
  readonly skipped: boolean;
  /** Why a skipped step was skipped. */
  readonly skipReason?: 'loss' | 'gradient' | 'eta' | 'update';
  /** Rule-specific diagnostics. */
  readonly info: Readonly<Record<string, number>>;
}

/** Cumulative counters of an optimizer. */
export interface Counters {
  /** Steps applied (skipped steps are not counted here). */
  steps: number;
  forwards: number;
  backwards: number;
  skipped: number;
}
