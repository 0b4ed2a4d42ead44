/**
 * Steps 3-6 of the procedure (ALGORITHMS.md §11.3-§11.5): the momentum range test, the power-decay
 * check with the plateau epoch M found automatically, the cyclical check (2x / 0.5x bounds, period M),
 * and other optimizers compared at their own range-test learning rates.
 */
import type * as tf from '@tensorflow/tfjs';
import { checkKnownKeys, checkNumber, checkOneOf, LrfreeConfigError } from '../core/validate.js';
import { cyclical } from '../schedules/cyclical.js';
import { powerDecay } from '../schedules/powerDecay.js';
import { continues, type RunCheckpoint, runSettings } from './checkpoint.js';
import { checkData, type DiagnosticData, evaluate, type LossSpec, preservingModel } from './common.js';
import { type Curve, heldOut, trainCurve } from './curves.js';
import { lrRangeTest, type RangeTestOptions, type RangeTestResult } from './rangeTest.js';
import { npGradient, type Suggestion, smoothDebiased, valley } from './suggest.js';
import { batchesPerEpoch, diagnosticOptimizer, runEpoch, VARIANTS, type Variant } from './trainer.js';

/** Options shared by the checks. */
interface Common {
  batchSize?: number;
  seed?: number;
  loss?: LossSpec;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

// ------------------------------------------------------------------------------------------------
// Step 3: momentum range test

/** Options of {@link momentumRangeTest}. */
export interface MomentumRangeOptions extends Common {
  /** The learning rate chosen in step 2. */
  lr: number;
  /** Epochs at momentum 0 before the test (the procedure's "train N epochs"). Default 1. */
  warmupEpochs?: number;
  /** Default 0. */
  momentumStart?: number;
  /** Default 0.99. */
  momentumEnd?: number;
  /** Momentum values tried. Default 10 (epoch mode), 100 (batch mode). */
  numIt?: number;
  /** `epoch` (default, the procedure text): one momentum per epoch; `batch`: one per mini-batch. */
  increase?: 'epoch' | 'batch';
  /** Batches per momentum value in epoch mode (default: a whole epoch). */
  batchesPerIteration?: number;
  /**
   * Scale the rate as lr*(1-mu)/(1-mu_0) so that the effective step lr/(1-mu) stays fixed and only the
   * momentum changes. Default false.
   */
  keepEffectiveLr?: boolean;
}

/** The momentum curve and its suggestion. */
export interface MomentumRangeResult {
  lr: number;
  momenta: number[];
  /** Held-out loss after each epoch (epoch mode) or training loss of each batch (batch mode). */
  losses: number[];
  smoothed: number[];
  accuracies?: number[];
  /** Loss before the momentum sweep (after the warm-up). */
  startLoss: number;
  /** valley rule on the momentum axis (steady improvement, before the drop). */
  valley?: Suggestion;
  /** Momentum at the steepest decrease of the smoothed loss. */
  steepest?: Suggestion;
  /** Momentum at the lowest loss (after it the loss turns up). */
  lowest?: Suggestion;
  /** The recommended momentum: valley on curves of 10+ points, else the lowest point; 0 when none. */
  suggestion: number;
  stopped: 'nonFinite' | 'end';
}

/**
 * Trains `warmupEpochs` at the chosen rate without momentum, then raises the momentum linearly,
 * mu_i = start + (end-start)*i/(numIt-1), recording the loss; the model is restored afterwards. Uses
 * lrfree's own momentum direction (a <- mu*a + g; w <- w - lr*a), so every change of mu takes effect.
 * Cost: (warmupEpochs + numIt) epochs in epoch mode.
 *
 * @example
 * ```ts
 * const m = await momentumRangeTest(model, data, { lr: 0.1, numIt: 10 });
 * console.log(m.suggestion);
 * ```
 */
export async function momentumRangeTest(
  model: tf.LayersModel,
  data: DiagnosticData,
  options: MomentumRangeOptions,
): Promise<MomentumRangeResult> {
  checkKnownKeys('momentumRangeTest', options, [
    'lr',
    'warmupEpochs',
    'momentumStart',
    'momentumEnd',
    'numIt',
    'increase',
    'batchesPerIteration',
    'keepEffectiveLr',
    'batchSize',
    'seed',
    'loss',
    'signal',
    'onProgress',
  ]);
  checkData('momentumRangeTest', data);
  const lr = checkNumber('momentumRangeTest', 'lr', options?.lr, { min: 0, minExclusive: true });
  const increase = checkOneOf('momentumRangeTest', 'increase', options.increase ?? 'epoch', [
    'epoch',
    'batch',
  ] as const);
  const mu0 = checkNumber('momentumRangeTest', 'momentumStart', options.momentumStart ?? 0, {
    min: 0,
    max: 1,
    maxExclusive: true,
  });
  const mu1 = checkNumber('momentumRangeTest', 'momentumEnd', options.momentumEnd ?? 0.99, {
    min: mu0,
    max: 1,
    maxExclusive: true,
  });
  const numIt = checkNumber(
    'momentumRangeTest',
    'numIt',
    options.numIt ?? (increase === 'epoch' ? 10 : 100),
    { min: 2, integer: true },
  );
  const warmup = checkNumber('momentumRangeTest', 'warmupEpochs', options.warmupEpochs ?? 1, {
    min: 0,
    integer: true,
  });
  const batchSize = options.batchSize ?? 64;
  const seed = options.seed ?? 0;
  const momenta = Array.from({ length: numIt }, (_, i) => mu0 + ((mu1 - mu0) * i) / (numIt - 1));
  const split = heldOut(data);
  return preservingModel(model, async () => {
    const opt = diagnosticOptimizer('momentum', { lr, momentum: 0 }, { model, seed });
    const total = warmup + (increase === 'epoch' ? numIt : 1);
    let epoch = 0;
    const losses: number[] = [];
    const accs: number[] = [];
    let stopped: MomentumRangeResult['stopped'] = 'end';
    const setMu = (mu: number) => {
      opt.hyperparams.set('momentum', mu);
      opt.hyperparams.set('lr', options.keepEffectiveLr ? (lr * (1 - mu)) / (1 - mu0) : lr);
    };
    try {
      for (; epoch < warmup; epoch++) {
        await runEpoch(model, data.train, opt, {
          batchSize,
          seed,
          epoch,
          loss: options.loss,
          signal: options.signal,
        });
        options.onProgress?.(epoch + 1, total);
      }
      const start = evaluate(model, split, options.loss);
      if (increase === 'epoch') {
        for (let i = 0; i < numIt; i++) {
          setMu(momenta[i]);
          await runEpoch(model, data.train, opt, {
            batchSize,
            seed,
            epoch: epoch++,
            loss: options.loss,
            signal: options.signal,
            maxBatches: options.batchesPerIteration,
          });
          const e = evaluate(model, split, options.loss);
          losses.push(e.loss);
          if (e.accuracy !== undefined) accs.push(e.accuracy);
          options.onProgress?.(warmup + i + 1, total);
          if (!Number.isFinite(e.loss)) {
            stopped = 'nonFinite';
            break;
          }
        }
      } else {
        let i = 0;
        while (i < numIt && stopped === 'end') {
          await runEpoch(model, data.train, opt, {
            batchSize,
            seed,
            epoch: epoch++,
            loss: options.loss,
            signal: options.signal,
            beforeBatch: () => setMu(momenta[i]),
            afterBatch: (_, loss) => {
              losses.push(loss);
              i += 1;
              if (!Number.isFinite(loss)) stopped = 'nonFinite';
              return i < numIt && stopped === 'end';
            },
          });
        }
        options.onProgress?.(total, total);
      }
      const smoothed = increase === 'batch' ? smoothDebiased(losses) : [...losses];
      const finite = smoothed.findIndex((v) => !Number.isFinite(v));
      const upto = finite < 0 ? smoothed.length : finite;
      const mus = momenta.slice(0, upto);
      const curve = smoothed.slice(0, upto);
      const v = valley(mus, curve);
      const g = npGradient(curve);
      let k = 0;
      for (let j = 1; j < g.length; j++) if (g[j] < g[k]) k = j;
      const steepest = curve.length >= 2 ? { lr: mus[k], loss: curve[k], index: k } : undefined;
      let m = 0;
      for (let j = 1; j < curve.length; j++) if (curve[j] < curve[m]) m = j;
      const lowest = curve.length > 0 ? { lr: mus[m], loss: curve[m], index: m } : undefined;
      return {
        lr,
        momenta: momenta.slice(0, losses.length),
        losses,
        smoothed,
        ...(accs.length === losses.length && accs.length > 0 ? { accuracies: accs } : {}),
        startLoss: start.loss,
        valley: v,
        steepest,
        lowest,
        // valley needs a long curve; with a few epochs it sits at the start, so take the last point
        // before the loss turns up instead.
        suggestion: (curve.length >= 10 ? v?.lr : lowest?.lr) ?? 0,
        stopped,
      };
    } finally {
      opt.dispose();
    }
  });
}

// ------------------------------------------------------------------------------------------------
// Step 4: power decay

/**
 * The epoch M at which a held-out loss curve (entry 0 = before training) plateaus: the first epoch
 * whose best-so-far loss has made (1 - tol) of the total improvement of the run. A curve that never
 * improves gives 1.
 *
 * @example
 * ```ts
 * plateauEpoch([2, 1, 0.55, 0.5, 0.5], 0.1); // 2: 0.55 is within 10% of the total gain 1.5
 * ```
 */
export function plateauEpoch(losses: readonly number[], tol = 0.1): number {
  const b: number[] = [];
  for (const v of losses)
    b.push(
      Math.min(
        b.length ? b[b.length - 1] : Number.POSITIVE_INFINITY,
        Number.isFinite(v) ? v : Number.POSITIVE_INFINITY,
      ),
    );
  const total = b[0] - b[b.length - 1];
  if (!(total > 0)) return 1;
  for (let e = 1; e < b.length; e++) if (b[0] - b[e] >= (1 - tol) * total) return e;
  return Math.max(1, b.length - 1);
}

/** Options of {@link decayCheck}. */
export interface ScheduleCheckOptions extends Common {
  variant?: Variant;
  lr: number;
  momentum?: number;
  /** Training epochs of each run. Default 10. */
  epochs?: number;
  /** M; found from the constant-rate run with {@link plateauEpoch} when omitted. */
  plateauEpochs?: number;
  /** Plateau tolerance (fraction of the total improvement left). Default 0.1. */
  tol?: number;
  /** Relative improvement of the best held-out loss needed to say "helps". Default 0.01. */
  margin?: number;
  /** A constant-rate run already made with the same settings (saves one run). */
  constant?: Curve;
  /**
   * A checkpoint of that constant-rate run after its first epoch(s): the scheduled run continues from it
   * when the schedule's factor is exactly 1 up to there (power decay's first epoch), so those steps are
   * not trained twice; the result is the same. The caller disposes it.
   */
  constantStart?: RunCheckpoint;
}

/** A schedule compared with the constant rate. */
export interface ScheduleCheckResult {
  /** Plateau epoch M. */
  plateauEpochs: number;
  constant: Curve;
  scheduled: Curve;
  /** Relative change of the best held-out loss: (constant - scheduled) / constant (> 0 is better). */
  improvement: number;
  /** Relative change of the log-loss area (> 0: trains faster). */
  speedup: number;
  /** True when the best held-out loss improves by more than `margin`. */
  helps: boolean;
  /** Per-epoch factor of the power decay (decay check only). */
  alpha?: number;
}

const SCHEDULE_KEYS = [
  'variant',
  'lr',
  'momentum',
  'epochs',
  'plateauEpochs',
  'tol',
  'margin',
  'constant',
  'constantStart',
  'batchSize',
  'seed',
  'loss',
  'signal',
  'onProgress',
];

async function scheduleCheck(
  where: string,
  model: tf.LayersModel,
  data: DiagnosticData,
  options: ScheduleCheckOptions,
  make: (M: number) => (spe: number) => import('../core/schedule.js').Schedule,
): Promise<ScheduleCheckResult> {
  checkKnownKeys(where, options, SCHEDULE_KEYS);
  checkData(where, data);
  const lr = checkNumber(where, 'lr', options?.lr, { min: 0, minExclusive: true });
  const epochs = checkNumber(where, 'epochs', options.epochs ?? 10, { min: 1, integer: true });
  const margin = checkNumber(where, 'margin', options.margin ?? 0.01, { min: 0 });
  const variant = checkOneOf(where, 'variant', options.variant ?? 'sgd', VARIANTS);
  const base = {
    variant,
    lr,
    momentum: options.momentum,
    epochs,
    batchSize: options.batchSize,
    seed: options.seed,
    loss: options.loss,
    signal: options.signal,
  };
  const runs = options.constant ? 1 : 2;
  let done = 0;
  const tick = () => options.onProgress?.(++done, runs * epochs);
  const constant = options.constant ?? (await trainCurve(model, data, { ...base, onEpoch: tick }));
  const M =
    options.plateauEpochs === undefined
      ? plateauEpoch(constant.loss, options.tol ?? 0.1)
      : checkNumber(where, 'plateauEpochs', options.plateauEpochs, { min: 0, minExclusive: true });
  const start = options.constantStart;
  const spe = batchesPerEpoch(data.train.x.shape[0], options.batchSize ?? 64);
  const from =
    start && continues(start, runSettings(base), { epochs, stepsPerEpoch: spe, schedule: make(M)(spe) })
      ? { from: start }
      : {};
  const scheduled = await trainCurve(model, data, { ...base, schedule: make(M), onEpoch: tick, ...from });
  const improvement = (constant.best - scheduled.best) / Math.abs(constant.best);
  const speedup = constant.logArea - scheduled.logArea;
  return {
    plateauEpochs: M,
    constant,
    scheduled,
    improvement,
    speedup,
    helps: Number.isFinite(scheduled.best) && improvement > margin,
  };
}

/**
 * Step 4: trains at the constant rate, finds the plateau epoch M, trains again with power decay
 * lr_e = lr*alpha^e, alpha = (2/3)^(1/M) (per whole epoch), and says whether the decay helps (best held-out
 * loss better by more than `margin`). The model is restored. Cost: 2 x epochs epochs (1 with `constant`).
 *
 * @example
 * ```ts
 * const d = await decayCheck(model, data, { lr: 0.1, epochs: 8 });
 * console.log(d.plateauEpochs, d.helps);
 * ```
 */
export async function decayCheck(
  model: tf.LayersModel,
  data: DiagnosticData,
  options: ScheduleCheckOptions,
): Promise<ScheduleCheckResult> {
  const r = await scheduleCheck(
    'decayCheck',
    model,
    data,
    options,
    (M) => (spe) => powerDecay({ plateauEpochs: M, stepsPerEpoch: spe }),
  );
  return { ...r, alpha: (2 / 3) ** (1 / r.plateauEpochs) };
}

/**
 * Step 5: a sawtooth between 2*lr and lr/2 (geometric, starting at the top, period M epochs) against
 * the constant rate; `helps` when the best held-out loss improves by more than `margin`. Cost as
 * {@link decayCheck}.
 *
 * @example
 * ```ts
 * const c = await cyclicalCheck(model, data, { lr: 0.1, epochs: 8, plateauEpochs: 3 });
 * ```
 */
export async function cyclicalCheck(
  model: tf.LayersModel,
  data: DiagnosticData,
  options: ScheduleCheckOptions,
): Promise<ScheduleCheckResult> {
  return scheduleCheck(
    'cyclicalCheck',
    model,
    data,
    options,
    (M) => (spe) =>
      cyclical({
        periodEpochs: M,
        shape: 'sawtooth',
        spacing: 'geometric',
        low: 0.5,
        high: 2,
        stepsPerEpoch: spe,
      }),
  );
}

// ------------------------------------------------------------------------------------------------
// Step 6: other optimizers

/** Options of {@link compareVariants}. */
export interface CompareOptions extends Common {
  /** Variants to try, each with its own range test. Default ['momentum', 'adam']. */
  variants?: Variant[];
  /** Training epochs of each run. Default 10. */
  epochs?: number;
  /** Range-test options for each variant (numIt, startLr, ...). */
  rangeTest?: Omit<RangeTestOptions, 'variant' | 'signal' | 'onProgress'>;
  /** Runs already made (e.g. the SGD choice of steps 2-3) to include in the ranking. */
  include?: Curve[];
  /** Momentum coefficient of the momentum variant. Default 0.9. */
  momentum?: number;
}

/** One variant's result. */
export interface VariantResult {
  variant: Variant;
  lr: number;
  rangeTest?: RangeTestResult;
  curve: Curve;
}

/**
 * Step 6: for each variant, its own learning-rate range test (Adam's rate is not SGD's), then a training
 * run at the suggested rate; returns every run and the best one (lowest best held-out loss). The model
 * is restored. Cost per variant: one range test + `epochs` epochs.
 *
 * @example
 * ```ts
 * const c = await compareVariants(model, data, { variants: ['adam'], epochs: 2 });
 * console.log(c.best.variant, c.best.lr);
 * ```
 */
export async function compareVariants(
  model: tf.LayersModel,
  data: DiagnosticData,
  options: CompareOptions = {},
): Promise<{ results: VariantResult[]; best: VariantResult }> {
  checkKnownKeys('compareVariants', options, [
    'variants',
    'epochs',
    'rangeTest',
    'include',
    'momentum',
    'batchSize',
    'seed',
    'loss',
    'signal',
    'onProgress',
  ]);
  checkData('compareVariants', data);
  const variants = options.variants ?? ['momentum', 'adam'];
  for (const v of variants) checkOneOf('compareVariants', 'variants', v, VARIANTS);
  const epochs = checkNumber('compareVariants', 'epochs', options.epochs ?? 10, { min: 1, integer: true });
  const results: VariantResult[] = (options.include ?? []).map((c) => ({
    variant: c.variant,
    lr: c.lr,
    curve: c,
  }));
  let done = 0;
  for (const variant of variants) {
    const rt = await lrRangeTest(model, data, {
      batchSize: options.batchSize,
      seed: options.seed,
      loss: options.loss,
      ...options.rangeTest,
      variant,
      momentum: options.momentum,
      signal: options.signal,
    });
    if (!Number.isFinite(rt.suggestion)) {
      throw new LrfreeConfigError(
        `compareVariants: the range test of '${variant}' found no learning rate that lowers the loss.`,
      );
    }
    const curve = await trainCurve(model, data, {
      variant,
      lr: rt.suggestion,
      momentum: options.momentum,
      epochs,
      batchSize: options.batchSize,
      seed: options.seed,
      loss: options.loss,
      signal: options.signal,
    });
    results.push({ variant, lr: rt.suggestion, rangeTest: rt, curve });
    options.onProgress?.(++done, variants.length);
  }
  const best = results.reduce((a, b) =>
    b.curve.best < a.curve.best || !Number.isFinite(a.curve.best) ? b : a,
  );
  return { results, best };
}
