/**
 * The step-by-step procedure (sources/step-by-step-procedure.txt, ALGORITHMS.md §11): seven short runs
 * that replace a grid search and return hyperparameters with their evidence, plus red flags for bugs.
 * Each step's result is kept in a JSON-safe state, so an interrupted procedure resumes where it stopped.
 */
import * as tf from '@tensorflow/tfjs';
import { checkKnownKeys, checkNumber, checkOneOf, LrfreeConfigError } from '../core/validate.js';
import { continues, disposeCheckpoint, type RunCheckpoint, runSettings } from './checkpoint.js';
import {
  compareVariants,
  cyclicalCheck,
  decayCheck,
  type MomentumRangeOptions,
  type MomentumRangeResult,
  momentumRangeTest,
  type ScheduleCheckResult,
  type VariantResult,
} from './checks.js';
import { checkAbort, checkData, classesOf, type DiagnosticData, type LossSpec } from './common.js';
import { type Curve, type CurveOptions, heldOut, trainCurve } from './curves.js';
import { lossRewardsRightAnswers, nearestMeanAccuracy } from './dataChecks.js';
import {
  lrRangeTest,
  type RangeTestOptions,
  type RangeTestResult,
  RULES,
  type SuggestionRule,
} from './rangeTest.js';
import {
  type Candidate,
  compareLrFree,
  confirmLearningRate,
  defaultConfirmSteps,
  fmt,
  LR_FREE_CANDIDATES,
  type LrChoice,
  type LrFreeVerdict,
  type ShortRun,
  shortRun,
} from './recommend.js';
import {
  barrierFlag,
  chanceFlag,
  cliffFlag,
  type LearnedRun,
  mismatchFlag,
  nanAtTinyRateFlag,
  noDecreaseFlag,
  type RedFlag,
} from './redFlags.js';
import { batchesPerEpoch, type Variant } from './trainer.js';
import { type LineResult, modelValues, trainableValues, weightSpaceLine } from './weightSpace.js';

/** The seven steps, in order. */
export const STEPS = ['line', 'lr', 'momentum', 'decay', 'cyclical', 'variants', 'final'] as const;
/** One step's name. */
export type StepName = (typeof STEPS)[number];

/** Titles of the steps, as the procedure text names them. */
export const STEP_TITLES: Record<StepName, string> = {
  line: '1. Initial line search',
  lr: '2. Increase the learning rate',
  momentum: '3. Increase the momentum',
  decay: '4. Does learning-rate decay help?',
  cyclical: '5. Does a cyclical learning rate help?',
  variants: '6. Other optimizers',
  final: '7. Final line search (init -> final)',
};

/** A recommendation and the numbers behind it. */
export interface Recommendation<T> {
  value: T;
  evidence: string;
}

/** One rate the learning-rate confirmation tried (a summary of {@link LrChoice}'s candidates). */
export interface RateCandidate {
  lr: number;
  /** Range-test rules that proposed it, or `bracket`. */
  source: string[];
  /** Best held-out loss of its short run. */
  heldOutLoss: number;
  heldOutAccuracy?: number;
  /** The short run lowered the held-out loss beyond its noise. */
  fell: boolean;
}

/** The recommended learning rate: how sure, why, what was tried, what it cost. */
export interface LearningRateRecommendation extends Recommendation<number> {
  /** `confirmed` (range-test candidates checked by short runs, the default) or the range-test rule used alone. */
  method: 'confirmed' | SuggestionRule;
  /** False when the procedure is not sure of the rate; `why` says why. */
  sure: boolean;
  why: string[];
  candidates: RateCandidate[];
  /** Rates within noise of the recommended one (it included): any of them trains about as well. */
  ties: number[];
  /**
   * How much the winner's best held-out loss changed when run again with another batch order (0 when
   * not measured).
   */
  trainingNoise: number;
  /** Range test + confirmation runs: forwards, backwards, seconds. */
  cost: { forwards: number; backwards: number; seconds: number };
}

/** What the procedure recommends. */
export interface Recommendations {
  learningRate?: LearningRateRecommendation;
  /**
   * Learning-rate-free methods that did as well as the tuned rate on the held-out loss (same short
   * budget; "as well": worse by at most max(2 standard errors of the paired chunk differences, 2%)).
   */
  lrFree?: Recommendation<string[]>;
  momentum?: Recommendation<number>;
  decay?: Recommendation<boolean> & { plateauEpochs: number; alpha: number };
  cyclical?: Recommendation<boolean>;
  variant?: Recommendation<Variant> & { learningRate: number };
}

/** Everything the procedure recorded; JSON-safe (see `saveState` in ./stateFile.ts), so it can be resumed. */
export interface ProcedureState {
  version: 1;
  /** Steps finished, in order. */
  completed: StepName[];
  /** Steps skipped, with the reason. */
  skipped: Partial<Record<StepName, string>>;
  /** Wall time of each finished step, ms. */
  ms: Partial<Record<StepName, number>>;
  line?: LineResult;
  lr?: RangeTestResult;
  momentum?: { test: MomentumRangeResult; without: Curve; with: Curve; helps: boolean };
  decay?: ScheduleCheckResult;
  cyclical?: ScheduleCheckResult;
  variants?: { results: VariantResult[]; best?: Variant; lrFree?: LrFreeVerdict[] };
  /** The confirmation of step 2 (candidates, their short runs, the region where the loss fell). */
  lrChoice?: LrChoice;
  /**
   * Runs made only to rule out the optimizer before a flag blames the data: Adam at 1e-3 for the
   * confirmation budget, when nothing the procedure tried lowered the loss or beat chance.
   */
  recheck?: ShortRun[];
  final?: { curve: Curve; line: LineResult };
  recommendations: Recommendations;
  redFlags: RedFlag[];
  /** Settings the procedure ran with (so a resumed run can check it is the same). */
  settings: { epochs: number; batchSize: number; seed: number; trainSize: number; classes: number };
}

/** Options of {@link procedure}. */
export interface ProcedureOptions {
  /** N: epochs of every comparison run. Default 5. */
  epochs?: number;
  /** Default 64. */
  batchSize?: number;
  /** Seed of batch orders, masks and random directions. Default 0. */
  seed?: number;
  loss?: LossSpec;
  /**
   * Range-test options for step 2 (default: fastai style, 100 batches, 1e-7..10). Its rules propose the
   * candidates of the confirmation (see `lrChoice`).
   */
  rangeTest?: Omit<RangeTestOptions, 'variant' | 'signal' | 'onProgress' | 'loss' | 'batchSize' | 'seed'>;
  /**
   * How step 2 picks the rate: `confirmed` (default): the range test's rules propose up to 3 rates from
   * the region where the smoothed loss fell beyond its noise, short runs confirm them on the held-out
   * loss (a winner at the edge is pushed further). A rule name (`valley`, `steep`, ...) uses that
   * range-test rule alone (no confirmation; not robust to noise, see docs/procedure.md).
   */
  lrChoice?: 'confirmed' | SuggestionRule;
  /**
   * Confirmation runs: `steps` each (default two epochs in [100, 300] batches), `extensions` (runs added
   * a half-decade from the winner to close it in, default 5), `repeat` (run the winner again with another
   * batch order to measure the training noise, default true).
   */
  confirm?: { steps?: number; extensions?: number; repeat?: boolean };
  /**
   * Learning-rate-free methods (catalog names) compared with the tuned rate in step 6, at the
   * confirmation budget. Default {@link LR_FREE_CANDIDATES}; [] for none.
   */
  lrFree?: string[];
  /**
   * Momentum-test options for step 3 (default: per epoch of at most 100 batches, 6 values 0..0.99, 1
   * warm-up epoch).
   */
  momentumTest?: Omit<MomentumRangeOptions, 'lr' | 'signal' | 'onProgress' | 'loss' | 'batchSize' | 'seed'>;
  /** Variants compared in step 6, each with its own range test. Default ['adam']; [] for none. */
  variants?: Variant[];
  /**
   * Direction of step 1: `random` (default; filter-normalised, alpha in [-1, 1]) or `short`: the move made
   * by one epoch of Adam at 1e-3 from the initial weights, alpha in [0, 1.5] (the procedure text's "found
   * by training on a small amount of data").
   */
  lineDirection?: 'random' | 'short';
  /** Points of the line searches (rounded up to 4k+1 so that 0 and 1 are on the grid). Default 41. */
  linePoints?: number;
  /** Steps to leave out. */
  skip?: StepName[];
  /** State of an earlier, interrupted run: finished steps are not run again. */
  resume?: ProcedureState;
  /** Called after every finished step with the state so far (e.g. to save it). */
  onStep?: (step: StepName, state: ProcedureState) => void | Promise<void>;
  /** Progress within a step. */
  onProgress?: (step: StepName, done: number, total: number) => void;
  /** Interrupts between mini-batches; the model is restored and the state so far is in the error. */
  signal?: AbortSignal;
}

/** Thrown when the procedure is interrupted: `state` holds every finished step (pass it as `resume`). */
export class ProcedureInterrupted extends Error {
  override name = 'ProcedureInterrupted';
  constructor(readonly state: ProcedureState) {
    super(`procedure interrupted after ${state.completed.length} of ${STEPS.length} steps`);
  }
}

const KNOWN = [
  'epochs',
  'batchSize',
  'seed',
  'loss',
  'rangeTest',
  'lrChoice',
  'confirm',
  'lrFree',
  'momentumTest',
  'variants',
  'linePoints',
  'lineDirection',
  'skip',
  'resume',
  'onStep',
  'onProgress',
  'signal',
];

/**
 * Runs the seven steps in order on `model` (restored afterwards: the procedure never changes it):
 * 1 a random filter-normalised line through the initial weights; 2 an lr range test whose rules (valley,
 * steep, slide, minimum/10, steepest) propose up to 3 rates from the region where the smoothed loss fell
 * beyond its own noise, confirmed by short runs on the held-out loss (`lrChoice: 'confirmed'`, the
 * default; the recommendation says whether it is sure, why, every candidate and the cost); 3 a momentum
 * range test at that rate, confirmed by N epochs with vs without; 4 power decay with the plateau epoch
 * M; 5 a sawtooth 2x/0.5x of period M; 6 other optimizers at their own range-test rates, and
 * learning-rate-free methods against the tuned rate at the confirmation budget; 7 the chosen
 * configuration trained for N epochs and the init -> final line. Returns the recommendations with their
 * evidence and the red flags; a flag that would blame the data is raised only after the optimizer is
 * ruled out (every run tried, plus Adam at 1e-3 when nothing learned).
 *
 * Cost: about 2 range tests + 3-5 confirmation runs + 5 N-epoch runs + the momentum sweep + one short
 * run per learning-rate-free method. Nothing is trained twice: step 3's run without momentum continues
 * step 2's confirmation run at the chosen rate, step 4's decay run continues the constant-rate run after
 * its first epoch, and step 7 is step 3's run (in memory only: a resumed procedure trains them again).
 *
 * @example
 * ```ts
 * const state = await procedure(model, { train, validation }, { epochs: 2 });
 * console.log(state.recommendations.learningRate, state.redFlags);
 * ```
 */
export async function procedure(
  model: tf.LayersModel,
  data: DiagnosticData,
  options: ProcedureOptions = {},
): Promise<ProcedureState> {
  checkKnownKeys('procedure', options, KNOWN);
  checkData('procedure', data);
  const epochs = checkNumber('procedure', 'epochs', options.epochs ?? 5, { min: 1, integer: true });
  const batchSize = checkNumber('procedure', 'batchSize', options.batchSize ?? 64, { min: 1, integer: true });
  const seed = checkNumber('procedure', 'seed', options.seed ?? 0, { integer: true });
  // 4k+1 points on [-0.5, 1.5] put alpha = 0 and 1 on the grid.
  const linePoints =
    4 *
      Math.ceil(
        (checkNumber('procedure', 'linePoints', options.linePoints ?? 41, { min: 5, integer: true }) - 1) / 4,
      ) +
    1;
  const skip = new Set(options.skip ?? []);
  for (const s of skip)
    if (!STEPS.includes(s))
      throw new LrfreeConfigError(`procedure: skip = '${s}' is not a step; steps are ${STEPS.join(', ')}.`);
  const evalSplit = heldOut(data);
  const settings = {
    epochs,
    batchSize,
    seed,
    trainSize: data.train.x.shape[0],
    classes: classesOf(data.train.y),
  };
  const state: ProcedureState = options.resume
    ? structuredClone(options.resume)
    : { version: 1, completed: [], skipped: {}, ms: {}, recommendations: {}, redFlags: [], settings };
  if (options.resume && JSON.stringify(options.resume.settings) !== JSON.stringify(settings)) {
    throw new LrfreeConfigError(
      `procedure: the saved state was made with ${JSON.stringify(options.resume.settings)}, not ${JSON.stringify(settings)}; ` +
        'resume with the same data and options, or start afresh.',
    );
  }
  const common = { batchSize, seed, loss: options.loss, signal: options.signal };
  const progress = (step: StepName) => (done: number, total: number) =>
    options.onProgress?.(step, done, total);
  const rec = state.recommendations;
  const lrChoice = checkOneOf('procedure', 'lrChoice', options.lrChoice ?? 'confirmed', [
    'confirmed',
    ...RULES,
  ] as const);
  /** The configuration chosen so far (updated as the steps finish). */
  const chosen = () => ({
    variant: (rec.momentum && rec.momentum.value > 0 ? 'momentum' : 'sgd') as Variant,
    lr: rec.learningRate?.value ?? Number.NaN,
    momentum: rec.momentum?.value,
  });
  /** The constant-rate curve of the chosen configuration, when step 3 measured it. */
  const constantCurve = () =>
    state.momentum ? (state.momentum.helps ? state.momentum.with : state.momentum.without) : undefined;

  // Step 7 trains the configuration chosen in step 3 for the same N epochs from the same weights and
  // batch order: the very run step 3 made. Step 3 keeps its runs' final weights here (in memory only; a
  // resumed procedure trains again), so step 7 does not repeat it.
  const trainedWeights = new Map<Curve, tf.Tensor[]>();
  // Runs that a later step would repeat step for step continue from checkpoints instead (in memory only,
  // ./checkpoint.ts): step 3's run without momentum continues step 2's confirmation run at the chosen
  // rate, and step 4's decay run continues the constant-rate run of step 3 after its first epoch.
  const held = new Set<RunCheckpoint>();
  const release = (c: RunCheckpoint | undefined) => {
    if (c && held.delete(c)) disposeCheckpoint(c);
  };
  /** The step 2 run with the lowest held-out loss among those that fell (the winner so far). */
  let leader: { lr: number; best: number; checkpoints: RunCheckpoint[] } | undefined;
  const keepLeader = (c: Candidate, checkpoints: RunCheckpoint[]) => {
    for (const k of checkpoints) held.add(k);
    if (c.fell && Number.isFinite(c.run.best) && (!leader || c.run.best < leader.best)) {
      leader?.checkpoints.forEach(release);
      leader = { lr: c.lr, best: c.run.best, checkpoints };
    } else checkpoints.forEach(release);
  };
  /** Step 3's curves' checkpoints after their first epoch (for step 4). */
  const firstEpoch = new Map<Curve, RunCheckpoint>();
  const spe = batchesPerEpoch(data.train.x.shape[0], batchSize);
  /**
   * trainCurve, keeping the final weights (for step 7) and the checkpoint after the first epoch;
   * continued from the latest of `earlier` that it would repeat.
   */
  const trainKeeping = async (o: CurveOptions, earlier: RunCheckpoint[] = []) => {
    let end: tf.Tensor[] = [];
    let first: RunCheckpoint | undefined;
    const settings = runSettings(o);
    const repeated = earlier.filter((c) => continues(c, settings, { epochs: o.epochs, stepsPerEpoch: spe }));
    const from = repeated.reduce<RunCheckpoint | undefined>(
      (a, c) => (a && a.steps >= c.steps ? a : c),
      undefined,
    );
    try {
      const curve = await trainCurve(model, data, {
        ...o,
        ...(from ? { from } : {}),
        checkpointAfter: {
          epochs: 1,
          keep: (c) => {
            first = c;
            held.add(c);
          },
        },
        atEnd: (m) => {
          end = modelValues(m);
        },
      });
      trainedWeights.set(curve, end);
      // Continued past its first epoch: that checkpoint is the earlier run's.
      const start = first ?? repeated.find((c) => c.steps === spe);
      if (start) firstEpoch.set(curve, start);
      return curve;
    } catch (e) {
      tf.dispose(end);
      throw e;
    }
  };

  const run = async (step: StepName, body: () => Promise<string | undefined>) => {
    if (state.completed.includes(step) || state.skipped[step]) return;
    if (skip.has(step)) {
      state.skipped[step] = 'skipped by the caller';
      return;
    }
    const t0 = performance.now();
    try {
      const why = await body();
      if (typeof why === 'string') state.skipped[step] = why;
      else state.completed.push(step);
    } catch (e) {
      if ((e as Error).name === 'DiagnosticAborted') throw new ProcedureInterrupted(state);
      throw e;
    }
    state.ms[step] = performance.now() - t0;
    state.redFlags = redFlagsOf(state, data, options.loss);
    await options.onStep?.(step, state);
    checkAbort(options.signal);
  };

  try {
    await run('line', async () => {
      const on = { ...evalSplit, loss: options.loss };
      if ((options.lineDirection ?? 'random') === 'random') {
        state.line = weightSpaceLine(model, on, {
          seed,
          steps: linePoints,
          signal: options.signal,
          onProgress: progress('line'),
        });
        return undefined;
      }
      // "a direction found by training on a small amount of data": one epoch of Adam at its default
      // rate (no learning rate is known yet), d = theta_short - theta_0, alpha in [0, 1.5].
      let short: tf.Tensor[] = [];
      let d: tf.Tensor[] = [];
      try {
        await trainCurve(model, data, {
          variant: 'adam',
          lr: 1e-3,
          epochs: 1,
          ...common,
          atEnd: (m) => {
            short = trainableValues(m);
          },
        });
        // trainCurve has restored theta_0 by now.
        d = short.map((t, i) => tf.tidy(() => tf.sub(t, model.trainableWeights[i].read())));
        state.line = weightSpaceLine(model, on, {
          direction: d,
          from: 0,
          to: 1.5,
          steps: linePoints,
          signal: options.signal,
          onProgress: progress('line'),
        });
      } finally {
        tf.dispose([...short, ...d]);
      }
      return undefined;
    });
    await run('lr', async () => {
      const t0 = performance.now();
      const rt = await lrRangeTest(model, data, {
        ...options.rangeTest,
        ...common,
        onProgress: progress('lr'),
      });
      state.lr = rt;
      const rangeSeconds = (performance.now() - t0) / 1000;
      const s = rt.suggestions;
      const rules =
        `range test: ${rt.lrs.length} rates ${fmt(rt.lrs[0])}..${fmt(rt.lrs[rt.lrs.length - 1])}, ` +
        `${rt.stopped === 'end' ? 'no divergence' : `diverged at ${fmt(rt.lrs[rt.lrs.length - 1])}`}; ` +
        `rules: valley ${fmt(s.valley?.lr)}, steep ${fmt(s.steep?.lr)}, slide ${fmt(s.slide?.lr)}, ` +
        `minimum/10 ${fmt(s.minimum?.lr)}, steepest ${fmt(s.steepest?.lr)}`;
      if (lrChoice !== 'confirmed') {
        const value = rt.suggestions[lrChoice]?.lr ?? rt.suggestion;
        if (!Number.isFinite(value)) return 'the range test gave no learning rate (see the red flags)';
        const broken = noDecreaseFlag(rt) !== undefined;
        rec.learningRate = {
          value,
          method: lrChoice,
          sure: false,
          why: [`the '${lrChoice}' rule of the range test alone, not confirmed by training runs`],
          candidates: [],
          ties: [],
          trainingNoise: 0,
          cost: { forwards: rt.batches, backwards: rt.batches, seconds: rangeSeconds },
          evidence: broken
            ? `NOT RELIABLE: no rate lowers the loss; ${fmt(value)} is used only to check the accuracy in step 7`
            : `${lrChoice} rule (not confirmed); ${rules}`,
        };
        return undefined;
      }
      const choice = await confirmLearningRate(model, data, rt, {
        ...options.confirm,
        batchSize,
        seed,
        loss: options.loss,
        signal: options.signal,
        rangeTestSeconds: rangeSeconds,
        onProgress: progress('lr'),
        keep: keepLeader,
      });
      state.lrChoice = choice;
      const found = Number.isFinite(choice.lr);
      if (!found) {
        // Nothing lowered the loss: rule the optimizer out before a flag blames the data.
        state.recheck = await recheckRuns(model, data, choice.steps, common);
      }
      const value = found ? choice.lr : rt.suggestion;
      if (!Number.isFinite(value)) return 'the range test gave no learning rate (see the red flags)';
      const winner = choice.candidates.find((c) => c.lr === choice.lr);
      rec.learningRate = {
        value,
        method: 'confirmed',
        sure: choice.sure,
        why: choice.why,
        candidates: choice.candidates.map((c) => ({
          lr: c.lr,
          source: c.source,
          heldOutLoss: c.run.best,
          ...(c.run.bestAccuracy !== undefined ? { heldOutAccuracy: c.run.bestAccuracy } : {}),
          fell: c.fell,
        })),
        ties: choice.ties,
        trainingNoise: choice.trainingNoise,
        cost: choice.cost,
        evidence: found
          ? `${choice.sure ? 'confirmed' : 'NOT SURE'}: best held-out loss ${fmt(winner?.run.best)} after ${choice.steps} steps ` +
            `among ${choice.candidates.map((c) => `${fmt(c.lr)} (${c.source.join('+')}: ${fmt(c.run.best)})`).join(', ')}; ` +
            `the loss fell beyond its noise (${fmt(choice.region.threshold)}) from ${fmt(choice.region.from)} to ${fmt(choice.region.lowest)}; ${rules}`
          : `NOT RELIABLE: no rate lowers the loss; ${fmt(value)} is used only to check the accuracy in step 7`,
      };
      return undefined;
    });
    const broken = () =>
      state.lrChoice
        ? !Number.isFinite(state.lrChoice.lr)
        : state.lr
          ? noDecreaseFlag(state.lr) !== undefined
          : false;
    const haveLr = () => rec.learningRate !== undefined && !broken();
    const noLr = 'no learning rate lowers the loss in step 2 (see the red flags)';
    await run('momentum', async () => {
      if (!haveLr()) return noLr;
      const lr = rec.learningRate!.value;
      const test = await momentumRangeTest(model, data, {
        numIt: 6,
        // one epoch per momentum value, at most 100 batches (a large data set needs no more to show the
        // trend, and the sweep is the procedure's largest cost after step 2)
        batchesPerIteration: Math.min(100, batchesPerEpoch(data.train.x.shape[0], batchSize)),
        ...options.momentumTest,
        lr,
        ...common,
        onProgress: progress('momentum'),
      });
      const mu = Math.round(test.suggestion * 100) / 100;
      const confirmed = leader?.lr === lr ? leader.checkpoints : [];
      const without = await trainKeeping({ variant: 'sgd', lr, epochs, ...common }, confirmed);
      const withMu =
        mu > 0 ? await trainKeeping({ variant: 'momentum', lr, momentum: mu, epochs, ...common }) : without;
      const helps = mu > 0 && Number.isFinite(withMu.best) && withMu.best < without.best * 0.99;
      // Only the chosen constant-rate run's first epoch is continued later (step 4).
      const kept = firstEpoch.get(helps ? withMu : without);
      for (const c of [...held]) if (c !== kept) release(c);
      state.momentum = { test, without, with: withMu, helps };
      rec.momentum = {
        value: helps ? mu : 0,
        evidence:
          `momentum range test at lr ${fmt(lr)} suggests ${mu}; ${epochs} epochs with it reach held-out loss ` +
          `${fmt(withMu.best)} vs ${fmt(without.best)} without${helps ? '' : ' (not better by 1%: no momentum)'}`,
      };
    });
    await run('decay', async () => {
      if (!haveLr()) return noLr;
      const constant = constantCurve();
      const constantStart = constant && firstEpoch.get(constant);
      const r = await decayCheck(model, data, {
        ...chosen(),
        epochs,
        constant,
        ...(constantStart ? { constantStart } : {}),
        ...common,
        onProgress: progress('decay'),
      });
      release(constantStart);
      state.decay = r;
      rec.decay = {
        value: r.helps,
        plateauEpochs: r.plateauEpochs,
        alpha: r.alpha!,
        evidence:
          `plateau epoch M = ${r.plateauEpochs}, alpha = ${fmt(r.alpha!)}: best held-out loss ${fmt(r.scheduled.best)} ` +
          `with decay vs ${fmt(r.constant.best)} constant (${signedPct(r.improvement)})`,
      };
    });
    await run('cyclical', async () => {
      if (!haveLr()) return noLr;
      const M = state.decay?.plateauEpochs;
      const r = await cyclicalCheck(model, data, {
        ...chosen(),
        epochs,
        plateauEpochs: M,
        constant: state.decay?.constant ?? constantCurve(),
        ...common,
        onProgress: progress('cyclical'),
      });
      state.cyclical = r;
      rec.cyclical = {
        value: r.helps,
        evidence:
          `sawtooth ${fmt(2 * chosen().lr)} -> ${fmt(chosen().lr / 2)}, period ${r.plateauEpochs} epochs: best held-out ` +
          `loss ${fmt(r.scheduled.best)} vs ${fmt(r.constant.best)} constant (${signedPct(r.improvement)}), ` +
          `log-loss area ${r.speedup > 0 ? 'lower' : 'higher'} by ${fmt(Math.abs(r.speedup))}`,
      };
    });
    await run('variants', async () => {
      if (!haveLr()) return noLr;
      const base = constantCurve();
      const variants = options.variants ?? ['adam'];
      const r =
        variants.length > 0 || base
          ? await compareVariants(model, data, {
              variants,
              epochs,
              include: base ? [base] : [],
              rangeTest: options.rangeTest,
              ...common,
              onProgress: progress('variants'),
            })
          : undefined;
      state.variants = { results: r?.results ?? [], ...(r ? { best: r.best.variant } : {}) };
      if (r) {
        rec.variant = {
          value: r.best.variant,
          learningRate: r.best.lr,
          evidence: r.results
            .map((x) => `${x.variant} at lr ${fmt(x.lr)}: best held-out loss ${fmt(x.curve.best)}`)
            .join('; '),
        };
      }
      const names = options.lrFree ?? [...LR_FREE_CANDIDATES];
      if (names.length === 0) return undefined;
      const lr = rec.learningRate!.value;
      const steps =
        state.lrChoice?.steps ??
        options.confirm?.steps ??
        defaultConfirmSteps(data.train.x.shape[0], batchSize);
      const tuned =
        state.lrChoice?.candidates.find((c) => c.lr === lr)?.run ??
        (await shortRun(model, data, { variant: 'sgd', lr }, { steps, ...common }));
      const verdicts = await compareLrFree(model, data, tuned, names, { steps, ...common });
      state.variants.lrFree = verdicts;
      const good = verdicts.filter((v) => v.asGood).map((v) => v.name);
      rec.lrFree = {
        value: good,
        evidence:
          `${steps} steps each against sgd at the tuned rate ${fmt(lr)} (held-out ${fmt(tuned.best)}); ` +
          `"as well" = worse by at most max(2 standard errors, 2%): ` +
          verdicts
            .map(
              (v) =>
                `${v.name} ${fmt(v.run.best)} (${v.difference >= 0 ? '+' : ''}${fmt(v.difference)} +- ${fmt(v.se)}, ${v.asGood ? 'as well' : 'worse'}${v.run.steps < steps ? `, decided after ${v.run.steps} steps` : ''})`,
            )
            .join('; '),
      };
      return undefined;
    });
    await run('final', async () => {
      if (!rec.learningRate) return 'no learning rate was chosen in step 2';
      const c = chosen();
      const init = modelValues(model);
      let final: tf.Tensor[] = [];
      try {
        const kept = constantCurve();
        const keptWeights = kept && trainedWeights.get(kept);
        const same =
          kept !== undefined &&
          kept.variant === c.variant &&
          kept.lr === c.lr &&
          (c.variant === 'sgd' || kept.momentum === c.momentum) &&
          kept.schedule === undefined;
        let curve: Curve;
        if (same && keptWeights) {
          curve = kept;
          final = keptWeights.map((t) => t.clone());
        } else {
          curve = await trainCurve(model, data, {
            ...c,
            epochs,
            ...common,
            onEpoch: progress('final'),
            atEnd: (m) => {
              final = modelValues(m);
            },
          });
        }
        const line = weightSpaceLine(
          model,
          { ...evalSplit, loss: options.loss },
          {
            direction: 'interpolate',
            init,
            final,
            steps: linePoints,
            signal: options.signal,
          },
        );
        state.final = { curve, line };
      } finally {
        tf.dispose([...init, ...final]);
      }
      // Before a flag blames the labels, rule out the optimizer: when the chosen configuration ended at
      // chance and nothing else the procedure tried learned either, train Adam at 1e-3 too.
      const split = heldOut(data);
      const chance = majorityShare(split.y);
      if (
        !state.recheck &&
        chanceFlag(
          state.final.curve,
          chance,
          split.y.shape[0],
          learnedRuns(state),
          options.loss === undefined || options.loss === 'categoricalCrossentropy'
            ? priorCrossEntropy(split.y)
            : undefined,
        )?.id === 'chanceAccuracy' &&
        !learnedRuns(state).some(
          (r) => r.accuracy !== undefined && r.accuracy > chance + chanceMargin(chance, split.y.shape[0]),
        )
      ) {
        state.recheck = await recheckRuns(
          model,
          data,
          state.lrChoice?.steps ?? defaultConfirmSteps(data.train.x.shape[0], batchSize),
          common,
        );
      }
    });
  } catch (e) {
    if ((e as Error).name === 'DiagnosticAborted') throw new ProcedureInterrupted(state);
    throw e;
  } finally {
    for (const w of trainedWeights.values()) tf.dispose(w);
    for (const c of held) disposeCheckpoint(c);
  }
  state.redFlags = redFlagsOf(state, data, options.loss);
  return state;
}

/** The runs a recheck makes: Adam at 1e-3 (a setting that learns on most problems) for `steps` steps. */
async function recheckRuns(
  model: tf.LayersModel,
  data: DiagnosticData,
  steps: number,
  common: { batchSize: number; seed: number; loss?: LossSpec; signal?: AbortSignal },
): Promise<ShortRun[]> {
  return [await shortRun(model, data, { variant: 'adam', lr: 1e-3 }, { steps, ...common })];
}

/** Margin above chance that counts as learned: 3 standard errors of the accuracy + 2%. */
export function chanceMargin(chance: number, n: number): number {
  return 3 * Math.sqrt((chance * (1 - chance)) / Math.max(n, 1)) + 0.02;
}

/** Every run the procedure made with a held-out result (what a data-blaming flag must rule out first). */
export function learnedRuns(state: ProcedureState): LearnedRun[] {
  const out: LearnedRun[] = [];
  const fromShort = (r: ShortRun, what: string) => {
    const fell = r.loss
      .slice(1)
      .some((v) => Number.isFinite(v) && v < r.loss[0] - 0.02 * Math.abs(r.loss[0]));
    out.push({ what, accuracy: r.bestAccuracy, lossFell: fell, bestLoss: r.best });
  };
  const fromCurve = (c: Curve, what: string) => {
    const acc = c.accuracy?.slice(1).filter((v) => Number.isFinite(v));
    out.push({
      what,
      accuracy: acc && acc.length > 0 ? Math.max(...acc) : undefined,
      lossFell: Number.isFinite(c.best) && c.best < c.loss[0] - 0.02 * Math.abs(c.loss[0]),
      bestLoss: c.best,
    });
  };
  for (const c of state.lrChoice?.candidates ?? []) fromShort(c.run, `sgd at ${fmt(c.lr)} (step 2)`);
  if (state.momentum) {
    fromCurve(state.momentum.without, `sgd at ${fmt(state.momentum.without.lr)} (step 3)`);
    fromCurve(state.momentum.with, `momentum at ${fmt(state.momentum.with.lr)} (step 3)`);
  }
  for (const v of state.variants?.results ?? []) fromCurve(v.curve, `${v.variant} at ${fmt(v.lr)} (step 6)`);
  for (const v of state.variants?.lrFree ?? []) fromShort(v.run, `${v.name} (step 6)`);
  for (const r of state.recheck ?? []) fromShort(r, `${r.name} (recheck)`);
  if (state.final) fromCurve(state.final.curve, `the chosen configuration (step 7)`);
  return out;
}

/**
 * The red flags the recorded evidence raises (recomputed after every step). `loss` is the procedure's
 * loss: with cross-entropy (the default) the chance flag also compares the held-out loss with the
 * cross-entropy of the class shares.
 */
export function redFlagsOf(state: ProcedureState, data: DiagnosticData, loss?: LossSpec): RedFlag[] {
  const flags: (RedFlag | undefined)[] = [];
  const runs = learnedRuns(state);
  if (state.lr) {
    flags.push(
      nanAtTinyRateFlag(state.lr),
      noDecreaseFlag(state.lr, runs, state.lrChoice !== undefined && !Number.isFinite(state.lrChoice.lr)),
    );
    if (state.recommendations.learningRate)
      flags.push(cliffFlag(state.lr, state.recommendations.learningRate.value));
  }
  if (state.final) {
    const split = heldOut(data);
    const chance = majorityShare(split.y);
    const prior =
      loss === undefined || loss === 'categoricalCrossentropy' ? priorCrossEntropy(split.y) : undefined;
    // Optimizer-free evidence before blaming the labels or the loss (dataChecks.ts).
    const signal = data.validation ? nearestMeanAccuracy(data.train, data.validation) : undefined;
    flags.push(chanceFlag(state.final.curve, chance, split.y.shape[0], runs, prior, signal));
    const sound = classesOf(split.y) > 0 ? lossRewardsRightAnswers(split, loss).rewards : undefined;
    flags.push(mismatchFlag(state.final.curve, chance, split.y.shape[0], sound));
    flags.push(barrierFlag(state.final.line));
  }
  return flags.filter((f): f is RedFlag => f !== undefined);
}

/** Cross-entropy of predicting the class shares of one-hot targets (what a model learns without inputs). */
export function priorCrossEntropy(y: tf.Tensor): number {
  if (classesOf(y) === 0) return Number.NaN;
  const shares = tf.tidy(() => tf.mean(y, 0).dataSync());
  return -Array.from(shares).reduce((s, p) => s + (p > 0 ? p * Math.log(p) : 0), 0);
}

/** Share of the most frequent class in one-hot targets (the accuracy of always guessing it). */
export function majorityShare(y: tf.Tensor): number {
  if (classesOf(y) === 0) return Number.NaN;
  return tf.tidy(() => {
    const counts = tf.sum(tf.oneHot(tf.argMax(y, 1), y.shape[1]!), 0);
    return tf.max(counts).dataSync()[0] / y.shape[0];
  });
}

// Saving and resuming: saveState / loadState (Node, file I/O) are in ./stateFile.ts, exported by
// `lrfree/node`; the state itself is JSON-safe.

function signedPct(v: number): string {
  return `${v >= 0 ? '' : '-'}${(100 * Math.abs(v)).toFixed(1)}% ${v >= 0 ? 'better' : 'worse'}`;
}
