/**
 * What the procedure's seven steps share: the options read and checked, the state they fill in, and the
 * checkpoints and trained weights (in memory only) that spare a later step a run an earlier one made.
 */
import * as tf from '@tensorflow/tfjs';
import { checkKnownKeys, checkNumber, checkOneOf, LrfreeConfigError } from '../../core/validate.js';
import { catalog } from '../../optimizers/catalog.js';
import { continues, disposeCheckpoint, type RunCheckpoint, runSettings } from '../checkpoint.js';
import { checkData, classesOf, type DataSplit, type DiagnosticData, type LossSpec } from '../common.js';
import { type Curve, type CurveOptions, heldOut, trainCurve } from '../curves.js';
import { RULES, type SuggestionRule } from '../rangeTest.js';
import type { Candidate } from '../recommend.js';
import { noDecreaseFlag } from '../redFlags.js';
import { batchesPerEpoch, VARIANTS, type Variant } from '../trainer.js';
import { modelValues } from '../weightSpace.js';
import { PROCEDURE_OPTION_KEYS, type ProcedureOptions } from './options.js';
import { type ProcedureState, type Recommendations, STEPS, type StepName } from './state.js';

/** One step's work: the reason it was skipped, or undefined when it finished. */
export type StepBody = (ctx: ProcedureContext) => Promise<string | undefined>;

/** Why a step that needs step 2's learning rate is skipped. */
export const NO_LEARNING_RATE = 'no learning rate lowers the loss in step 2 (see the red flags)';

/** The step 2 run with the lowest held-out loss among those that fell, with its checkpoints. */
export interface Leader {
  lr: number;
  best: number;
  checkpoints: RunCheckpoint[];
}

/**
 * One procedure run's shared state. The constructor reads and checks the options (throwing
 * `LrfreeConfigError` before anything is trained) and starts the state, or continues `options.resume`;
 * {@link ProcedureContext.dispose} frees the checkpoints and weights it still holds.
 */
export class ProcedureContext {
  readonly model: tf.LayersModel;
  readonly data: DiagnosticData;
  readonly options: ProcedureOptions;
  /** N: epochs of every comparison run. */
  readonly epochs: number;
  readonly batchSize: number;
  readonly seed: number;
  /** Points of the line searches (4k+1). */
  readonly linePoints: number;
  /** Steps the caller left out. */
  readonly skip: Set<StepName>;
  /** Where runs are evaluated: the validation split, else the training set. */
  readonly evalSplit: DataSplit;
  readonly state: ProcedureState;
  /** The state's recommendations. */
  readonly rec: Recommendations;
  /** Options every run of the procedure takes. */
  readonly common: { batchSize: number; seed: number; loss?: LossSpec; signal?: AbortSignal };
  readonly lrChoice: 'confirmed' | SuggestionRule;
  /** Batches per epoch. */
  readonly spe: number;

  /**
   * Final weights of step 3's runs, by curve. Step 7 trains the configuration chosen in step 3 for the
   * same N epochs from the same weights and batch order: the very run step 3 made. Step 3 keeps its runs'
   * final weights here (in memory only; a resumed procedure trains again), so step 7 does not repeat it.
   */
  readonly trainedWeights = new Map<Curve, tf.Tensor[]>();
  /**
   * Checkpoints not yet released. Runs that a later step would repeat step for step continue from
   * checkpoints instead (in memory only, ../checkpoint.ts): step 3's run without momentum continues step
   * 2's confirmation run at the chosen rate, and step 4's decay run continues the constant-rate run of
   * step 3 after its first epoch.
   */
  readonly held = new Set<RunCheckpoint>();
  /** The step 2 run with the lowest held-out loss among those that fell (the winner so far). */
  leader: Leader | undefined;
  /** Step 3's curves' checkpoints after their first epoch (for step 4). */
  readonly firstEpoch = new Map<Curve, RunCheckpoint>();

  constructor(model: tf.LayersModel, data: DiagnosticData, options: ProcedureOptions) {
    this.model = model;
    this.data = data;
    this.options = options;
    checkKnownKeys('procedure', options, PROCEDURE_OPTION_KEYS);
    checkData('procedure', data);
    const epochs = checkNumber('procedure', 'epochs', options.epochs ?? 5, { min: 1, integer: true });
    const batchSize = checkNumber('procedure', 'batchSize', options.batchSize ?? 64, {
      min: 1,
      integer: true,
    });
    const seed = checkNumber('procedure', 'seed', options.seed ?? 0, { integer: true });
    const points = checkNumber('procedure', 'linePoints', options.linePoints ?? 41, {
      min: 5,
      integer: true,
    });
    this.epochs = epochs;
    this.batchSize = batchSize;
    this.seed = seed;
    // 4k+1 points on [-0.5, 1.5] put alpha = 0 and 1 on the grid.
    this.linePoints = 4 * Math.ceil((points - 1) / 4) + 1;
    this.skip = new Set(options.skip ?? []);
    for (const s of this.skip)
      if (!STEPS.includes(s))
        throw new LrfreeConfigError(`procedure: skip = '${s}' is not a step; steps are ${STEPS.join(', ')}.`);
    checkOptimizerNames(options);
    this.evalSplit = heldOut(data);
    const settings = {
      epochs,
      batchSize,
      seed,
      trainSize: data.train.x.shape[0],
      classes: classesOf(data.train.y),
    };
    this.state = options.resume
      ? structuredClone(options.resume)
      : { version: 1, completed: [], skipped: {}, ms: {}, recommendations: {}, redFlags: [], settings };
    if (options.resume && JSON.stringify(options.resume.settings) !== JSON.stringify(settings)) {
      throw new LrfreeConfigError(
        `procedure: the saved state was made with ${JSON.stringify(options.resume.settings)}, not ${JSON.stringify(settings)}; ` +
          'resume with the same data and options, or start afresh.',
      );
    }
    this.common = { batchSize, seed, loss: options.loss, signal: options.signal };
    this.rec = this.state.recommendations;
    this.lrChoice = checkOneOf('procedure', 'lrChoice', options.lrChoice ?? 'confirmed', [
      'confirmed',
      ...RULES,
    ] as const);
    this.spe = batchesPerEpoch(data.train.x.shape[0], batchSize);
  }

  /** Reports progress within `step` to `options.onProgress`. */
  progress(step: StepName): (done: number, total: number) => void {
    return (done, total) => this.options.onProgress?.(step, done, total);
  }

  /** The configuration chosen so far (updated as the steps finish). */
  chosen(): { variant: Variant; lr: number; momentum: number | undefined } {
    const rec = this.rec;
    return {
      variant: (rec.momentum && rec.momentum.value > 0 ? 'momentum' : 'sgd') as Variant,
      lr: rec.learningRate?.value ?? Number.NaN,
      momentum: rec.momentum?.value,
    };
  }

  /** The constant-rate curve of the chosen configuration, when step 3 measured it. */
  constantCurve(): Curve | undefined {
    const state = this.state;
    return state.momentum ? (state.momentum.helps ? state.momentum.with : state.momentum.without) : undefined;
  }

  /** Step 2 gave a learning rate that lowers the loss (the steps after it need one). */
  haveLr(): boolean {
    return this.rec.learningRate !== undefined && !this.broken();
  }

  /** No rate lowered the loss in step 2: the confirmation found none, or the range test never fell. */
  private broken(): boolean {
    const state = this.state;
    return state.lrChoice
      ? !Number.isFinite(state.lrChoice.lr)
      : state.lr
        ? noDecreaseFlag(state.lr) !== undefined
        : false;
  }

  /** Disposes a checkpoint still held (once; anything else is left alone). */
  readonly release = (c: RunCheckpoint | undefined): void => {
    if (c && this.held.delete(c)) disposeCheckpoint(c);
  };

  /**
   * Step 2's `keep`: holds a confirmation run's checkpoints while it leads (fell, lowest finite best
   * held-out loss so far) and releases the ones it no longer needs.
   */
  readonly keepLeader = (c: Candidate, checkpoints: RunCheckpoint[]): void => {
    for (const k of checkpoints) this.held.add(k);
    if (c.fell && Number.isFinite(c.run.best) && (!this.leader || c.run.best < this.leader.best)) {
      this.leader?.checkpoints.forEach(this.release);
      this.leader = { lr: c.lr, best: c.run.best, checkpoints };
    } else checkpoints.forEach(this.release);
  };

  /**
   * trainCurve, keeping the final weights (for step 7) and the checkpoint after the first epoch;
   * continued from the latest of `earlier` that it would repeat.
   */
  async trainKeeping(o: CurveOptions, earlier: RunCheckpoint[] = []): Promise<Curve> {
    const spe = this.spe;
    let end: tf.Tensor[] = [];
    let first: RunCheckpoint | undefined;
    const settings = runSettings(o);
    const repeated = earlier.filter((c) => continues(c, settings, { epochs: o.epochs, stepsPerEpoch: spe }));
    const from = repeated.reduce<RunCheckpoint | undefined>(
      (a, c) => (a && a.steps >= c.steps ? a : c),
      undefined,
    );
    try {
      const curve = await trainCurve(this.model, this.data, {
        ...o,
        ...(from ? { from } : {}),
        checkpointAfter: {
          epochs: 1,
          keep: (c) => {
            first = c;
            this.held.add(c);
          },
        },
        atEnd: (m) => {
          end = modelValues(m);
        },
      });
      this.trainedWeights.set(curve, end);
      // Continued past its first epoch: that checkpoint is the earlier run's.
      const start = first ?? repeated.find((c) => c.steps === spe);
      if (start) this.firstEpoch.set(curve, start);
      return curve;
    } catch (e) {
      tf.dispose(end);
      throw e;
    }
  }

  /** Frees every trained weight and checkpoint still held (the procedure's clean-up, whatever happened). */
  dispose(): void {
    for (const w of this.trainedWeights.values()) tf.dispose(w);
    for (const c of this.held) disposeCheckpoint(c);
  }
}

/**
 * Refuses unknown `variants` and `lrFree` names before any step runs: step 6 comes after minutes of
 * training, and a typo found there would lose them.
 */
function checkOptimizerNames(options: ProcedureOptions): void {
  for (const v of options.variants ?? []) checkOneOf('procedure', 'variants', v, VARIANTS);
  if (options.lrFree === undefined) return;
  if (!Array.isArray(options.lrFree)) {
    throw new LrfreeConfigError(
      `procedure: lrFree must be an array of catalog names (e.g. ['auto', 'prodigy']), not ${JSON.stringify(options.lrFree)}.`,
    );
  }
  const known = new Set(catalog().map((e) => e.name));
  for (const name of options.lrFree) {
    if (!known.has(name)) {
      throw new LrfreeConfigError(
        `procedure: lrFree = '${name}' is not a catalog optimizer; known: ${[...known].join(', ')} ` +
          '(`lrfree list` prints them with their descriptions).',
      );
    }
  }
}
