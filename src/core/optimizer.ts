/**
 * The composing optimizer: `optimizer({ direction, step, schedule?, seed? })` (or `optimizer({ method })`
 * for a method that owns its step, and `transforms` around either) is a real `tf.Optimizer`
 * that works in custom loops (`opt.minimize(lossFn, true, varList)`) and unchanged inside
 * `model.compile({ optimizer }) / model.fit`.
 *
 * One step: gradient (1 forward + backward) -> direction d -> step rule chooses eta from
 * phi(eta) = loss(w0 - eta*d) on the same batch -> commit w = w0 - eta*d. The core owns all state,
 * guards against non-finite values, keeps every probe pure and counts the cost.
 *
 * Beside it: the options and how they compose (optimizerOptions.ts), the saved-state format that
 * getWeights/setWeights write and read (savedState.ts), the skip guards' helpers (skipGuard.ts) and small
 * tensor helpers (tensorHelpers.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { alongPicker } from './along.js';
import { isPerVariable, isZeroEta, reportedEta, scaleEta } from './eta.js';
import { type FitAware, registerFitHook } from './fitHook.js';
import { Hyperparameters } from './hyperparams.js';
import { composition, OPTIMIZER_KEYS, type OptimizerOptions } from './optimizerOptions.js';
import { groupOfVariable, type ParamGroup, paramGroups } from './params.js';
import { ProbeSession } from './probe.js';
import {
  createDirection,
  createMethod,
  createSchedule,
  createStepRule,
  createTransform,
} from './registry.js';
import { deriveSeed, withSeededMathRandom } from './rng.js';
import { RunJournal, type TrainingReport } from './runReport.js';
import {
  describeVars,
  matchSaved,
  type NamedTensor,
  type PendingState,
  pendingStates,
  readSavedState,
  sameShape,
  stateWeights,
  type VariableState,
} from './savedState.js';
import type { Schedule } from './schedule.js';
import { finiteEta, restoreVariables, SKIP_WHAT, type SkipReason, snapshotVariables } from './skipGuard.js';
import { allFinite, lossAndSquaredNorms } from './stepKernels.js';
import { groupDots, keepAll, trainableVariables } from './tensorHelpers.js';
import type {
  Counters,
  Direction,
  DirectionContext,
  DirectionResult,
  Eta,
  GradientTransform,
  LineContext,
  ScalarState,
  StepRecord,
  StepRule,
} from './types.js';
import { checkKnownKeys, checkNumber, LrfreeConfigError, showValue } from './validate.js';

export { OPTIMIZER_KEYS, type OptimizerOptions } from './optimizerOptions.js';
export type { NamedTensor } from './savedState.js';

/** Loss closure: returns the scalar mini-batch loss and may be called several times per step. */
export type LossFn = () => tf.Scalar;

/**
 * A `tf.Optimizer` composed of a direction and a step rule. Create with {@link optimizer} or a preset.
 *
 * @example
 * ```ts
 * const opt = lrfree.optimizer({ direction: lrfree.directions.adam(), step: lrfree.steps.constant(1e-3) });
 * model.compile({ optimizer: opt, loss: 'categoricalCrossentropy' });
 * ```
 */
export class LrfreeOptimizer extends tf.Optimizer implements FitAware {
  /** @nocollapse */
  static className = 'LrfreeOptimizer';

  /** The direction, or the method when the optimizer was built with `{ method }` (see {@link isMethod}). */
  readonly direction: Direction;
  /** The step rule (for a method: the internal unit step, eta = 1). */
  readonly rule: StepRule;
  /** True when the optimizer runs a method that owns its step (Prodigy, Schedule-Free, DoG, ...). */
  readonly isMethod: boolean;
  /** The gradient transforms, when given. */
  readonly transforms?: GradientTransform;
  readonly schedule?: Schedule;
  /**
   * Hyperparameters that can change at run time (optax's inject_hyperparams): `opt.hyperparams.set('lr',
   * 0.01)` between steps, validated against the component's bounds and saved with the state.
   */
  readonly hyperparams: Hyperparameters;
  readonly seed: number;
  readonly stepsPerEpoch?: number;
  /** Display name. */
  readonly name: string;

  /** The last step, as observed (loss, eta, forwards, backwards, skipped, info). */
  lastStep: StepRecord = { loss: Number.NaN, eta: 0, forwards: 0, backwards: 0, skipped: false, info: {} };
  /** Cumulative counters since creation (restored with the optimizer's weights). */
  counters: Counters = { steps: 0, forwards: 0, backwards: 0, skipped: 0 };
  /** Every step's loss, step size and skip, for {@link report} (in memory only: not saved). */
  private readonly journal = new RunJournal();

  /**
   * Did it work? What this optimizer saw since it was created (or restored): the training loss at the
   * start and at the end, whether it was still falling, the step size at the first and last step, the
   * skipped steps, and flags that say what to look at and what to do (`ok` when no flag is a warning).
   * Costs nothing: the journal is a few numbers per step, kept in bounded memory. `formatReport` prints it.
   *
   * @example
   * ```ts
   * const opt = lrfree.sls();
   * model.compile({ optimizer: opt, loss: 'categoricalCrossentropy' });
   * await model.fit(x, y, { epochs: 3, batchSize: 16, verbose: 0 });
   * const report = opt.report();
   * console.log(lrfree.formatReport(report));
   * if (!report.ok) console.log(report.flags.map((f) => f.action).join('\n'));
   * ```
   */
  report(): TrainingReport {
    return this.journal.report(this.name);
  }

  /**
   * A real prototype check: tf.Optimizer's `Symbol.hasInstance` is duck-typed, which would make
   * `tf.train.adam() instanceof LrfreeOptimizer` true.
   */
  static override [Symbol.hasInstance](instance: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the subclass being tested against.
    return Function.prototype[Symbol.hasInstance].call(this, instance);
  }

  /** The direction's scalar state (Prodigy's d, DoG's rBar, ...), a copy; empty before the first step. */
  directionState(): Readonly<ScalarState> {
    return this.dirScalars ? { ...this.dirScalars } : {};
  }

  /** The gradient transforms' scalar state, a copy. */
  transformState(): Readonly<ScalarState> {
    return this.trScalars ? { ...this.trScalars } : {};
  }

  /** The step rule's scalar state (the stored step size of a line search, ...), a copy. */
  ruleState(): Readonly<ScalarState> {
    return this.ruleScalars ? { ...this.ruleScalars } : {};
  }

  /**
   * For subclasses that act on the optimizer's per-variable state between steps (Schedule-Free's
   * train/eval swap): each trained variable, in step order, with its direction slots. Empty while a
   * restored state waits for its first step (it binds then, or through {@link bindRestoredState}).
   */
  protected directionSlots(): { variable: tf.Variable; slots: tf.Tensor[] }[] {
    if (this.pending) return [];
    const registered = tf.engine().registeredVariables;
    return this.varOrder
      .filter((name) => this.state.has(name)) // a skipped first step leaves no state
      .map((name) => ({ variable: registered[name], slots: this.state.get(name)!.dir }));
  }

  /** For subclasses: binds a restored state to these variables now (as a step would; see bindPending). */
  protected bindRestoredState(vars: readonly tf.Variable[]): void {
    if (this.pending) this.bindPending(vars);
    this.varOrder = vars.map((v) => v.name);
  }

  /** For subclasses: how many variables a restored state holds while it waits to be bound, else undefined. */
  protected get unboundStateSize(): number | undefined {
    return this.pending?.length;
  }

  private model?: tf.LayersModel;
  /** Number of minimize/applyGradients calls: drives the per-step seed, so skips also advance it. */
  private calls = 0;
  private readonly state = new Map<string, VariableState>();
  private dirScalars?: ScalarState;
  private ruleScalars?: ScalarState;
  private trScalars?: ScalarState;
  private groupsCache?: { key: string; groups: ParamGroup[]; groupOf: number[] };
  private varOrder: string[] = [];
  /** Restored state not yet bound to a variable (bound at the next step that trains its variable). */
  private pending?: PendingState[];
  /** Tensors a closure kept during extra evaluations (fit's metrics); disposed at the next step. */
  private extraKept: tf.Tensor[] = [];
  /** The model.fit run in progress (set by the fit hook): its batches per epoch and skipped steps. */
  private fitRunState?: {
    skipped: number;
    batchesPerEpoch?: number;
    active: () => boolean;
    /** The model being fitted: limits the batch-norm snapshot to it when no model was attached. */
    model?: tf.LayersModel;
  };
  private skipWarned = false;

  constructor(options: OptimizerOptions) {
    super();
    // Presets pass the user's remaining options through: an unknown key (a typo) fails here.
    // Registered as `optimizer`'s list: a preset's own list (its name) is the one its check declared.
    checkKnownKeys(
      typeof options?.name === 'string' ? options.name : 'optimizer',
      options,
      OPTIMIZER_KEYS,
      'optimizer',
    );
    if (options.schedule !== undefined && typeof options.schedule?.multiplier !== 'function') {
      throw new LrfreeConfigError(
        `${options.name ?? 'optimizer'}: schedule = ${showValue(options.schedule)} is not allowed; schedule must be ` +
          'a schedule such as lrfree.cosine({ totalSteps }) or lrfree.warmup({ steps }), or left out.',
      );
    }
    if (options.model !== undefined && !Array.isArray(options.model?.nonTrainableWeights)) {
      throw new LrfreeConfigError(
        `${options.name ?? 'optimizer'}: model = ${showValue(options.model)} is not allowed; model must be the ` +
          'tf.LayersModel being trained, or left out.',
      );
    }
    if (options.name !== undefined && typeof options.name !== 'string') {
      throw new LrfreeConfigError(
        `optimizer: name = ${showValue(options.name)} is not allowed; name must be a string.`,
      );
    }
    const { direction, rule, isMethod } = composition(options);
    this.direction = direction;
    this.rule = rule;
    this.isMethod = isMethod;
    if (options.transforms !== undefined) {
      const t = options.transforms as Partial<GradientTransform>;
      if (typeof t?.initScalars !== 'function' || (!t.gradient && !t.update)) {
        throw new LrfreeConfigError(
          `${options.name ?? 'optimizer'}: transforms = ${showValue(options.transforms)} is not allowed; ` +
            'transforms must be a gradient transform such as ' +
            'transforms.chain(transforms.clipByGlobalNorm(1), transforms.decoupledWeightDecay({ rate: 1e-4 })).',
        );
      }
      this.transforms = options.transforms;
    }
    this.schedule = options.schedule;
    this.hyperparams = new Hyperparameters(options.name ?? 'optimizer', [
      ['transforms', this.transforms],
      [isMethod ? 'method' : 'direction', direction],
      ['step', isMethod ? undefined : rule],
    ]);
    this.seed = checkNumber('optimizer', 'seed', options.seed ?? 0, { integer: true });
    if (options.stepsPerEpoch !== undefined) {
      this.stepsPerEpoch = checkNumber('optimizer', 'stepsPerEpoch', options.stepsPerEpoch, {
        min: 1,
        integer: true,
      });
    }
    this.model = options.model;
    this.name = options.name ?? (isMethod ? this.direction.kind : `${this.direction.kind}+${this.rule.kind}`);
  }

  /** Attaches the model being trained (exact layer groups, BN snapshot limited to it). */
  attachModel(model: tf.LayersModel): this {
    this.model = model;
    this.groupsCache = undefined;
    return this;
  }

  /** Forward-equivalent cost so far: forwards + 3 * backwards (ALGORITHMS.md §0.4). */
  get cost(): number {
    return this.counters.forwards + 3 * this.counters.backwards;
  }

  // ---------------------------------------------------------------------------------------------
  // Entry points

  /**
   * One optimizer step with a loss closure that may be re-evaluated (same batch, same dropout mask).
   * Synchronous, as `model.fit` requires.
   */
  override minimize(f: LossFn, returnCost = false, varList?: tf.Variable[]): tf.Scalar | null {
    const requested = varList ?? trainableVariables();
    this.releaseExtraKept();
    const seed = deriveSeed(this.seed, this.calls++);
    // The gradient's training-mode forward writes batch-norm moving statistics before any check can run:
    // keep them (cheap: only non-trainable weights, none in a model without batch norm) so that a skipped
    // step puts them back and bad data reaches no state at all.
    const stats = snapshotVariables(this.nonTrainables());
    let applied = false;
    try {
      const { value, grads } = withSeededMathRandom(seed, () => tf.variableGrads(f, requested));
      // Variables the loss does not depend on get no gradient; like tf.train, leave them alone.
      const vars = requested.filter((v) => grads[v.name] !== undefined);
      const gradList = vars.map((v) => grads[v.name]);
      try {
        applied = this.runStep(vars, gradList, value, f, seed);
      } catch (e) {
        value.dispose();
        throw e;
      } finally {
        tf.dispose(gradList);
      }
      if (returnCost) return value;
      value.dispose();
      return null;
    } finally {
      if (!applied) restoreVariables(stats);
      tf.dispose(stats.map((s) => s.copy));
    }
  }

  /**
   * Applies precomputed gradients. Only for step rules that do not probe the loss (constant, scheduled,
   * ...); line searches need `minimize` with a closure.
   */
  override applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    if (this.rule.needsLoss) {
      throw new LrfreeConfigError(
        `${this.name}: step rule '${this.rule.kind}' evaluates the loss and cannot run from applyGradients(); ` +
          'call minimize(lossFn) instead (model.fit does).',
      );
    }
    const entries = Array.isArray(variableGradients)
      ? variableGradients.map((e) => [e.name, e.tensor] as const)
      : Object.entries(variableGradients);
    const registered = tf.engine().registeredVariables;
    const vars = entries.map(([name]) => {
      const v = registered[name];
      if (!v)
        throw new LrfreeConfigError(
          `${this.name}: applyGradients got a gradient for unknown variable '${name}'.`,
        );
      return v;
    });
    this.releaseExtraKept();
    const seed = deriveSeed(this.seed, this.calls++);
    this.runStep(
      vars,
      entries.map(([, t]) => t),
      undefined,
      undefined,
      seed,
    );
  }

  // ---------------------------------------------------------------------------------------------
  // The step

  private runStep(
    vars: tf.Variable[],
    grads: tf.Tensor[],
    lossTensor: tf.Scalar | undefined,
    f: LossFn | undefined,
    seed: number,
  ): boolean {
    const t0 = performance.now();
    // The loss and every gradient's squared norm: finiteness check and free statistics.
    const { loss: loss0, squaredNorms: gradNormSq } = lossAndSquaredNorms(lossTensor, grads);
    if ((lossTensor && !Number.isFinite(loss0)) || !gradNormSq.every(Number.isFinite)) {
      // Non-finite loss or gradient: touch no weight and no state, count the skip (ALGORITHMS.md §0.3).
      this.skip(loss0, 0, 1, lossTensor && !Number.isFinite(loss0) ? 'loss' : 'gradient');
      return false;
    }

    const { groups, groupOf } = this.groupsFor(vars);
    // What this step initialises (first step of a variable): undone if the step is skipped.
    const freshScalars = { dir: this.dirScalars === undefined, rule: this.ruleScalars === undefined };
    const fresh: string[] = [];
    const states = this.statesFor(vars, groups, groupOf, fresh);
    const step = this.counters.steps + 1;
    const session = new ProbeSession(
      vars,
      groupOf,
      f,
      seed,
      () => this.nonTrainables(),
      (t) => this.extraKept.push(t),
      this.name,
    );
    const owned: tf.Tensor[] = [];
    let dirSlots: tf.Tensor[][] | undefined;
    let newTrSlots: tf.Tensor[][] | undefined;
    try {
      // 0. Gradient transforms (g -> g'); the step rule below keeps the true gradient, so slopes are exact.
      const tr = this.transformGradients(step, vars, groups, grads, gradNormSq, states);
      owned.push(...tr.grads);
      // The transforms' new per-variable state (the gradient hook's, then the update hook's).
      newTrSlots = tr.slots;
      const multiplier = this.schedule ? this.schedule.multiplier(step, this.effectiveStepsPerEpoch) : 1;

      // 1. Direction (or method), then the transforms' update hook (d -> d', e.g. decoupled decay).
      let dir!: DirectionResult;
      const dctx: DirectionContext = {
        step,
        params: vars,
        grads: tr.grads,
        groups,
        slots: states.map((s) => s.dir),
        scalars: this.dirScalars!,
        gradNormSq: tr.gradNormSq,
        loss: loss0,
        wantsSearch: this.rule.needsLoss,
        hyper: this.hyperparams.scope(this.isMethod ? 'method' : 'direction'),
        lrScale: this.isMethod ? multiplier : 1,
        gradientAt: (offsets) => session.gradientAt(offsets),
      };
      tf.tidy(() => {
        dir = this.direction.compute(dctx);
        if (this.transforms?.update) {
          const current = newTrSlots ?? states.map((s) => s.tr);
          const r = this.transforms.update(this.transformContext(step, vars, groups, current), dir.update);
          const out = Array.isArray(r) ? { update: r } : r;
          dir = { ...dir, update: out.update };
          if (out.slots) newTrSlots = out.slots;
        }
        keepAll(dir.update, dir.search ?? [], ...dir.slots, ...(newTrSlots ?? []));
      });
      dirSlots = dir.slots;
      owned.push(...dir.update, ...(dir.search ?? []));
      const search = dir.search ?? dir.update;
      const directionAlong = alongPicker(search, dir.update, groupOf);

      // 2. Step rule.
      const groupGradNormSq = groups.map((g) => g.indices.reduce((a, i) => a + gradNormSq[i], 0));
      let slopes: number[] | undefined;
      const lctx: LineContext = {
        step,
        hyper: this.hyperparams.scope('step'),
        stepsPerEpoch: this.effectiveStepsPerEpoch,
        groups,
        loss0,
        groupGradNormSq,
        grads,
        search,
        update: dir.update,
        slots: states.map((s) => s.rule),
        groupSlopes: () => {
          if (!slopes) slopes = groupDots(groups, grads, search);
          return slopes;
        },
        gradDotSearch: () => lctx.groupSlopes().reduce((a, b) => a + b, 0),
        phi: (eta, along = 'search') => session.phi(eta, directionAlong(along)),
        phiMany: (etas, along = 'search') => session.phiMany(etas, directionAlong(along)),
        get probes() {
          return session.forwards;
        },
      };
      const decision = this.rule.choose(lctx, this.ruleScalars!);

      // 3. Commit. A method's schedule already went into its lr (dctx.lrScale).
      const eta: Eta = scaleEta(decision.eta, this.isMethod ? 1 : multiplier);
      if (eta !== decision.eta && isPerVariable(eta)) owned.push(...eta.perVariable);
      // Last guard: a non-finite eta, update or new state (or an overflow of w - eta*d) skips the step.
      const oldSlots = new Set(states.flatMap((s) => [...s.dir, ...s.rule, ...s.tr]));
      const newSlots = [
        ...dir.slots.flat(),
        ...(decision.slots ?? []).flat(),
        ...(newTrSlots ?? []).flat(),
      ].filter((t) => !oldSlots.has(t));
      const along = directionAlong(decision.along ?? 'update');
      const zero = isZeroEta(eta);
      // w - eta*d is non-finite wherever d is (eta != 0); at eta = 0 the update itself is checked.
      const committed =
        finiteEta(eta) &&
        session.commit(eta, along, zero, (next) => allFinite([...(zero ? along : next), ...newSlots]));
      if (!committed) {
        session.abort();
        tf.dispose(newSlots.filter((t) => !grads.includes(t)));
        for (const name of fresh) {
          const s = this.state.get(name)!;
          tf.dispose([...s.dir, ...s.rule, ...s.tr]);
          this.state.delete(name);
        }
        if (freshScalars.dir) this.dirScalars = undefined;
        if (freshScalars.rule) this.ruleScalars = undefined;
        this.skip(loss0, session.forwards, 1 + session.backwards, finiteEta(eta) ? 'update' : 'eta');
        return false;
      }

      // 4. State: replaced only now that the step went through.
      states.forEach((s, i) => {
        tf.dispose(s.dir.filter((t) => !dir.slots[i].includes(t)));
        s.dir = dir.slots[i];
        if (decision.slots) {
          tf.dispose(s.rule.filter((t) => !decision.slots![i].includes(t)));
          s.rule = decision.slots[i];
        }
        if (newTrSlots) {
          tf.dispose(s.tr.filter((t) => !newTrSlots![i].includes(t)));
          s.tr = newTrSlots[i];
        }
      });
      if (dir.scalars) this.dirScalars = dir.scalars;
      if (decision.scalars) this.ruleScalars = decision.scalars;
      if (tr.scalars) this.trScalars = tr.scalars;

      // 5. Records.
      const scale = (this.isMethod ? 1 : multiplier) * (dir.etaScale ?? 1);
      const reported = decision.reported ?? reportedEta(decision.eta);
      const forwards = session.forwards;
      const backwards = 1 + session.backwards;
      this.counters.steps = step;
      this.counters.forwards += forwards;
      this.counters.backwards += backwards;
      this.iterations_ = step;
      this.lastStep = {
        loss: loss0,
        eta: typeof reported === 'number' ? reported * scale : reported.map((e) => e * scale),
        forwards,
        backwards,
        skipped: false,
        info: {
          ...(tr.info ?? {}),
          ...(dir.info ?? {}),
          ...(decision.info ?? {}),
          ms: performance.now() - t0,
        },
      };
      this.journal.record(this.lastStep);
      return true;
    } catch (e) {
      session.abort();
      // New direction and transform state that never became state.
      const kept = new Set(states.flatMap((s) => [...s.dir, ...s.tr]));
      const made = [...(dirSlots ?? []).flat(), ...(newTrSlots ?? []).flat()];
      tf.dispose(made.filter((t) => !kept.has(t) && !grads.includes(t)));
      throw e;
    } finally {
      // Direction outputs that did not become state (grads are freed by the caller).
      const kept = new Set(states.flatMap((s) => [...s.dir, ...s.rule, ...s.tr]));
      tf.dispose(owned.filter((t) => !kept.has(t) && !grads.includes(t)));
    }
  }

  /** Records a skipped step (nothing applied) and warns the first time. */
  private skip(loss: number, forwards: number, backwards: number, what: SkipReason): void {
    this.counters.skipped += 1;
    this.counters.forwards += forwards;
    this.counters.backwards += backwards;
    this.lastStep = { loss, eta: 0, forwards, backwards, skipped: true, skipReason: what, info: {} };
    this.journal.record(this.lastStep);
    if (this.fitRun) {
      this.fitRun.skipped += 1;
      return; // reported once, with the count, when the fit run ends (fitRunEnd)
    }
    if (!this.skipWarned) {
      this.skipWarned = true;
      console.warn(
        `lrfree ${this.name}: skipped step ${this.counters.steps + 1} because the ${SKIP_WHAT[what]} was not ` +
          'finite; weights, batch-norm statistics and optimizer state were left as they were. This warning ' +
          `is printed once; the count so far is ${this.counters.skipped} (optimizer.counters.skipped, ` +
          'lastStep.skipped). Check the inputs and labels for NaN or Inf.',
      );
    }
  }

  /**
   * @internal Called by the model.fit hook (core/fitHook.ts) when a fit run with this optimizer starts:
   * `batchesPerEpoch` replaces the reference placeholder of 500 when no stepsPerEpoch was given.
   */
  fitRunBegin(
    batchesPerEpoch: number | undefined,
    active: () => boolean = () => true,
    model?: tf.LayersModel,
  ): void {
    this.fitRunState = { skipped: 0, batchesPerEpoch, active, model };
  }

  /** @internal The seed of fit's shuffle for the epoch about to start: from the seed and the step count. */
  fitShuffleSeed(): number {
    return deriveSeed(this.seed, 0x5f1e, this.calls);
  }

  /** @internal The fit run ended: warns once with the number of skipped steps, if any. */
  fitRunEnd(): void {
    const run = this.fitRunState;
    this.fitRunState = undefined;
    if (run && run.skipped > 0) {
      console.warn(
        `lrfree ${this.name}: model.fit skipped ${run.skipped} step${run.skipped === 1 ? '' : 's'} because the ` +
          'loss, gradient, step size or update was not finite; weights, batch-norm statistics and optimizer ' +
          `state were left as they were at each of them (${this.counters.skipped} skipped in total, ` +
          'optimizer.counters.skipped). Check the inputs and labels for NaN or Inf.',
      );
    }
  }

  /** The fit run in progress, if any (a run whose fit threw without ending is dropped here). */
  private get fitRun(): { skipped: number; batchesPerEpoch?: number; model?: tf.LayersModel } | undefined {
    if (this.fitRunState && !this.fitRunState.active()) this.fitRunState = undefined;
    return this.fitRunState;
  }

  /** Steps per epoch: the one given, else model.fit's batches per epoch during fit, else undefined. */
  private get effectiveStepsPerEpoch(): number | undefined {
    return this.stepsPerEpoch ?? this.fitRun?.batchesPerEpoch;
  }

  // ---------------------------------------------------------------------------------------------
  // Gradient transforms

  private transformContext(
    step: number,
    params: readonly tf.Variable[],
    groups: readonly ParamGroup[],
    slots: readonly (readonly tf.Tensor[])[],
  ) {
    return {
      step,
      params,
      groups,
      hyper: this.hyperparams.scope('transforms'),
      scalars: this.trScalars ?? {},
      slots,
    };
  }

  /** The gradient hook of the transforms: new gradients (kept) and their norms, or the inputs as they are. */
  private transformGradients(
    step: number,
    vars: readonly tf.Variable[],
    groups: readonly ParamGroup[],
    grads: tf.Tensor[],
    gradNormSq: number[],
    states: readonly VariableState[],
  ): ReturnType<NonNullable<GradientTransform['gradient']>> {
    const t = this.transforms;
    if (!t?.gradient) return { grads, gradNormSq };
    if (!this.trScalars) this.trScalars = t.initScalars();
    let out!: ReturnType<NonNullable<GradientTransform['gradient']>>;
    const slots = states.map((s) => s.tr);
    tf.tidy(() => {
      out = t.gradient!(this.transformContext(step, vars, groups, slots), grads, gradNormSq);
      for (const g of out.grads) if (!grads.includes(g)) tf.keep(g);
      keepAll([], ...(out.slots ?? []));
    });
    return out;
  }

  // ---------------------------------------------------------------------------------------------
  // State, keyed by variable name; saved in variable order and rebound by position on restore.

  private groupsFor(vars: readonly tf.Variable[]): { groups: ParamGroup[]; groupOf: number[] } {
    const key = vars.map((v) => v.name).join('\u0000');
    if (this.groupsCache?.key !== key) {
      const groups = paramGroups(vars, this.model);
      this.groupsCache = { key, groups, groupOf: groupOfVariable(groups, vars.length) };
    }
    return this.groupsCache;
  }

  private statesFor(
    vars: readonly tf.Variable[],
    groups: ParamGroup[],
    groupOf: number[],
    created: string[] = [],
  ): VariableState[] {
    if (this.pending) this.bindPending(vars);
    if (!this.dirScalars) this.dirScalars = this.direction.initScalars(groups);
    if (!this.ruleScalars) this.ruleScalars = this.rule.initScalars(groups);
    if (!this.trScalars && this.transforms) this.trScalars = this.transforms.initScalars();
    this.varOrder = vars.map((v) => v.name);
    return vars.map((v, i) => {
      let s = this.state.get(v.name);
      if (!s) {
        const group = groups[groupOf[i]];
        const info = (salt: number) => ({
          index: i,
          group,
          featureAxis: group.featureAxes[group.indices.indexOf(i)],
          seed: deriveSeed(this.seed, 0x5eed, salt, i),
        });
        s = {
          dir: tf.tidy(() => keepAll(this.direction.initSlots(v, info(1)))),
          rule: tf.tidy(() => keepAll(this.rule.initSlots(v, info(2)))),
          tr: this.transforms?.initSlots
            ? tf.tidy(() => keepAll(this.transforms!.initSlots!(v, info(3))))
            : [],
          shape: [...v.shape],
        };
        this.state.set(v.name, s);
        created.push(v.name);
      }
      return s;
    });
  }

  /**
   * Binds restored state to the variables of this step that have none yet. The rule, in order:
   * 1. by name, when every such variable has saved state under its own name;
   * 2. by name without TF.js's uniquifying suffix (`dense_Dense1/kernel_1` -> `dense_Dense1/kernel`): a
   *    model loaded in the process that saved it gets its variables renamed so; used when that matches
   *    each variable to exactly one saved entry;
   * 3. by position, when the step trains exactly as many variables as were saved (the saving order).
   * Every binding is shape-checked; a model whose variables differ (count or shapes) fails, naming both.
   * Saved state of other var lists stays pending until a step trains them.
   */
  private bindPending(vars: readonly tf.Variable[]): void {
    const pending = this.pending!;
    const todo = vars.filter((v) => !this.state.has(v.name));
    if (todo.length === 0) return;
    const pairs = matchSaved(todo, pending);
    const fail = (why: string) => {
      this.disposeState();
      return new LrfreeConfigError(
        `${this.name}: the restored optimizer state does not fit the variables being trained: ${why}. ` +
          `Saved: ${describeVars(pending)}. This step trains: ${describeVars(todo)}. Restore the optimizer ` +
          'into the same architecture it was saved from (variables bind by name, else by position).',
      );
    };
    if (!pairs) {
      throw fail(
        `${pending.length} variables were saved, ${todo.length} cannot be matched by name or position`,
      );
    }
    for (const [v, p] of pairs) {
      if (p.shape && !sameShape(p.shape, v.shape)) {
        throw fail(
          `'${v.name}' has shape [${v.shape}] but its saved state ('${p.name}') is for shape [${p.shape}]`,
        );
      }
    }
    for (const [v, p] of pairs)
      this.state.set(v.name, { dir: p.dir, rule: p.rule, tr: p.tr, shape: [...v.shape] });
    const bound = new Set(pairs.map(([, p]) => p));
    const rest = pending.filter((p) => !bound.has(p));
    this.pending = rest.length > 0 ? rest : undefined;
  }

  private nonTrainables(): tf.Variable[] {
    const model = this.model ?? this.fitRun?.model;
    if (model) return model.nonTrainableWeights.map((w) => w.read() as tf.Variable);
    return Object.values(tf.engine().registeredVariables).filter((v) => !v.trainable);
  }

  private releaseExtraKept(): void {
    if (this.extraKept.length > 0) {
      tf.dispose(this.extraKept);
      this.extraKept = [];
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Serialisation

  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = { name: this.name, seed: this.seed };
    if (this.isMethod) config.method = { kind: this.direction.kind, config: this.direction.config };
    else {
      config.direction = { kind: this.direction.kind, config: this.direction.config };
      config.step = { kind: this.rule.kind, config: this.rule.config };
    }
    if (this.transforms) config.transforms = { kind: this.transforms.kind, config: this.transforms.config };
    if (this.schedule) config.schedule = { kind: this.schedule.kind, config: this.schedule.config };
    if (this.stepsPerEpoch !== undefined) config.stepsPerEpoch = this.stepsPerEpoch;
    return config;
  }

  /** @nocollapse */
  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    const pieces = config.method
      ? { method: createMethod(config.method) }
      : { direction: createDirection(config.direction), step: createStepRule(config.step) };
    return new (cls as unknown as typeof LrfreeOptimizer)({
      ...pieces,
      transforms: config.transforms ? createTransform(config.transforms) : undefined,
      schedule: config.schedule ? createSchedule(config.schedule) : undefined,
      seed: config.seed as number | undefined,
      stepsPerEpoch: config.stepsPerEpoch as number | undefined,
      name: config.name as string | undefined,
    }) as unknown as T;
  }

  /**
   * The optimizer's state as named tensors: iterations, then every variable's slots in the order of the
   * last step's variable list, then the exact scalar state. The slot tensors are the live state: do not
   * dispose them.
   */
  override async getWeights(): Promise<NamedTensor[]> {
    const iterations = await this.saveIterations();
    // Every variable's state (all var lists, bound or still waiting to be bound), with name and shape.
    const entries = [...[...this.state].map(([name, s]) => ({ name, ...s })), ...(this.pending ?? [])];
    return [
      iterations,
      ...stateWeights({
        counters: this.counters,
        calls: this.calls,
        entries,
        slotNames: {
          dir: this.direction.slotNames,
          rule: this.rule.slotNames,
          tr: this.transforms?.slotNames ?? [],
        },
        dirScalars: this.dirScalars,
        ruleScalars: this.ruleScalars,
        transformScalars: this.transforms ? (this.trScalars ?? null) : undefined,
        hyper: this.hyperparams.isEmpty ? undefined : this.hyperparams.values(),
      }),
    ];
  }

  /** Restores state written by `getWeights` (also what tf.loadLayersModel calls). */
  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const rest = await this.extractIterations(weightValues);
    const { saved, slots, savedVars } = readSavedState(this.name, rest, {
      dir: this.direction.slotNames.length,
      rule: this.rule.slotNames.length,
      tr: this.transforms?.slotNames?.length ?? 0,
    });
    this.disposeState();
    this.counters = { ...saved.counters };
    this.calls = saved.calls;
    this.dirScalars = saved.dirScalars ?? undefined;
    this.ruleScalars = saved.ruleScalars ?? undefined;
    this.trScalars = saved.transformScalars ?? undefined;
    if (saved.hyper) this.hyperparams.restore(saved.hyper);
    this.varOrder = [];
    const pending = pendingStates(saved, savedVars, slots);
    this.pending = pending.length > 0 ? pending : undefined;
  }

  /** Frees every tensor the optimizer holds. */
  override dispose(): void {
    this.disposeState();
    this.releaseExtraKept();
    super.dispose();
  }

  private disposeState(): void {
    for (const s of this.state.values()) tf.dispose([...s.dir, ...s.rule, ...s.tr]);
    this.state.clear();
    if (this.pending) for (const p of this.pending) tf.dispose([...p.dir, ...p.rule, ...p.tr]);
    this.pending = undefined;
  }
}

tf.serialization.registerClass(LrfreeOptimizer);
registerFitHook();

/**
 * Composes a direction and a step rule (or takes a method that owns its step), with optional gradient
 * transforms around them, into a `tf.Optimizer`. Invalid compositions fail here with an
 * {@link LrfreeConfigError}: a method with a direction or a step rule, a method passed as a direction
 * under any rule but the unit step, a whole optimizer (`lrfree.adam(...)`) where a piece is expected.
 *
 * @example
 * ```ts
 * const a = lrfree.optimizer({ direction: lrfree.directions.momentum({ beta: 0.9 }), step: lrfree.steps.constant(0.05) });
 * const b = lrfree.optimizer({ method: lrfree.methods.prodigy() });
 * const c = lrfree.optimizer({
 *   transforms: lrfree.transforms.chain(lrfree.transforms.clipByGlobalNorm(1)),
 *   direction: lrfree.directions.adam(),
 *   step: lrfree.steps.smoothedArmijo(),
 * });
 * ```
 */
export function optimizer(options: OptimizerOptions): LrfreeOptimizer {
  const cls = (options?.method ?? options?.direction)?.['optimizerClass' as keyof Direction] as
    | (new (
        o: OptimizerOptions,
      ) => LrfreeOptimizer)
    | undefined;
  return cls ? new cls(options) : new LrfreeOptimizer(options);
}
