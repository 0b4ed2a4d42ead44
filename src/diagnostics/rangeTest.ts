/**
 * The learning-rate range test (ALGORITHMS.md §10, §11.2): train while the learning rate grows, record
 * the smoothed loss, stop at divergence, restore the model, and turn the curve into suggestions.
 */
import type * as tf from '@tensorflow/tfjs';
import { checkKnownKeys, checkNumber, checkOneOf, LrfreeConfigError } from '../core/validate.js';
import {
  checkData,
  type DataSplit,
  type DiagnosticData,
  evaluate,
  type LossSpec,
  preservingModel,
} from './common.js';
import { type Suggestions, smoothDebiased, smoothEma, suggestAll } from './suggest.js';
import { diagnosticOptimizer, runEpoch, VARIANTS, type Variant } from './trainer.js';

/** Options of {@link lrRangeTest}. */
export interface RangeTestOptions {
  /**
   * `fastai` (default): lr_i = start*(end/start)^(i/numIt), debiased EMA (beta 0.98 on the old value),
   * stop when smoothed > 4*best. `lrFinder` (pytorch-lr-finder): lr_i reaches `endLr` at i = numIt-1,
   * EMA with 0.05 on the new value, no debiasing, stop at 5*best.
   */
  style?: 'fastai' | 'lrFinder';
  /** First learning rate. Default 1e-7. */
  startLr?: number;
  /** Last learning rate (fastai never reaches it). Default 10. */
  endLr?: number;
  /** Number of learning rates (batches, or epochs with `increase: 'epoch'`). Default 100 (20 per epoch). */
  numIt?: number;
  /** `exp` (default) or `linear` spacing of the learning rates. */
  stepMode?: 'exp' | 'linear';
  /**
   * `batch` (default, fastai): a new rate every mini-batch. `epoch` (the procedure text): one rate per
   * epoch (or per `batchesPerIteration` batches), recording that epoch's mean loss.
   */
  increase?: 'batch' | 'epoch';
  /** With `increase: 'epoch'`: batches per rate (default: a whole epoch). */
  batchesPerIteration?: number;
  /** Record the validation loss after every iteration instead of the training loss (slower, less noisy). */
  validation?: boolean;
  /** Stop when the smoothed loss diverges. Default true. */
  stopDiv?: boolean;
  /** Divergence factor: stop when smoothed > best + (factor-1)*|best|. Default 4 (fastai), 5 (lrFinder). */
  divergeThreshold?: number;
  /**
   * Smoothing weight: fastai's beta (on the old value, default 0.98) or lrFinder's smoothF (on the new
   * value, default 0.05). Default for `increase: 'epoch'` or `validation`: no smoothing.
   */
  smoothing?: number;
  /**
   * Which suggestion becomes `suggestion`: `valley` (default, fastai's default), `slide`, `steep`,
   * `minimum` (minimum/10) or `steepest` (lr-finder). Falls back to valley, steep, minimum in that order.
   */
  rule?: SuggestionRule;
  /** Optimizer: `sgd` (default), `momentum` or `adam` (the suggestion is specific to it). */
  variant?: Variant;
  /** Momentum coefficient of the `momentum` variant. Default 0.9. */
  momentum?: number;
  /** Default 64. */
  batchSize?: number;
  /** Seed of the batch order and dropout masks. Default 0. */
  seed?: number;
  loss?: LossSpec;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/** The names of the suggestion rules. */
export const RULES = ['valley', 'slide', 'steep', 'minimum', 'steepest'] as const;
/** One suggestion rule. */
export type SuggestionRule = (typeof RULES)[number];

/** A range-test curve and its suggestions. */
export interface RangeTestResult {
  style: 'fastai' | 'lrFinder';
  increase: 'batch' | 'epoch';
  variant: Variant;
  /** Learning rate of every recorded iteration. */
  lrs: number[];
  /** Raw recorded losses (training loss of the batch/epoch, or validation loss). */
  losses: number[];
  /** Smoothed losses (what the rules and the divergence test use). */
  smoothed: number[];
  /** Validation accuracy per iteration, when measured (epoch mode or validation mode, one-hot targets). */
  accuracies?: number[];
  /** Loss of the model before the test (same measure as `losses`: first batch or validation). */
  initialLoss: number;
  /** The four fastai suggestions and lr-finder's steepest gradient. */
  suggestions: Suggestions;
  /** The recommended learning rate: the chosen rule, else valley, steep, minimum/10. NaN when none exists. */
  suggestion: number;
  /** The rule that gave `suggestion`. */
  rule: SuggestionRule;
  /** Why the test ended. */
  stopped: 'diverged' | 'nonFinite' | 'end';
  /** Learning rate at which the test stopped for divergence (undefined when it did not). */
  divergedAt?: number;
  /** Planned iterations. */
  numIt: number;
  /** Optimizer steps taken (cost: one forward+backward each, plus evaluations in validation mode). */
  batches: number;
}

const KNOWN = [
  'style',
  'startLr',
  'endLr',
  'numIt',
  'stepMode',
  'increase',
  'batchesPerIteration',
  'validation',
  'stopDiv',
  'divergeThreshold',
  'smoothing',
  'variant',
  'rule',
  'momentum',
  'batchSize',
  'seed',
  'loss',
  'signal',
  'onProgress',
];

/** The learning-rate schedule of a range test (exported for tests and plots). */
export function rangeTestLrs(
  style: 'fastai' | 'lrFinder',
  startLr: number,
  endLr: number,
  numIt: number,
  stepMode: 'exp' | 'linear',
): number[] {
  const denom = style === 'fastai' ? numIt : numIt - 1;
  return Array.from({ length: numIt }, (_, i) =>
    stepMode === 'exp'
      ? startLr * (endLr / startLr) ** (i / denom)
      : startLr + (i / denom) * (endLr - startLr),
  );
}

/**
 * Learning-rate range test. Saves the model, trains on consecutive mini-batches with a growing learning
 * rate, records the (smoothed) loss, stops at divergence, restores the model bit for bit (weights and
 * batch-norm statistics; it uses its own optimizer, so the model's compiled optimizer is untouched), and
 * returns valley / slide / steep / minimum-over-10 / steepest-gradient suggestions.
 *
 * Cost: up to `numIt` optimizer steps (x batches per epoch in epoch mode), plus one evaluation per
 * iteration in validation mode.
 *
 * @example
 * ```ts
 * const r = await lrRangeTest(model, { train }, { numIt: 100 });
 * console.log(r.suggestion, r.suggestions.steep?.lr);
 * ```
 */
export async function lrRangeTest(
  model: tf.LayersModel,
  data: DiagnosticData,
  options: RangeTestOptions = {},
): Promise<RangeTestResult> {
  checkKnownKeys('lrRangeTest', options, KNOWN);
  checkData('lrRangeTest', data);
  const style = checkOneOf('lrRangeTest', 'style', options.style ?? 'fastai', [
    'fastai',
    'lrFinder',
  ] as const);
  const increase = checkOneOf('lrRangeTest', 'increase', options.increase ?? 'batch', [
    'batch',
    'epoch',
  ] as const);
  const stepMode = checkOneOf('lrRangeTest', 'stepMode', options.stepMode ?? 'exp', [
    'exp',
    'linear',
  ] as const);
  const variant = checkOneOf('lrRangeTest', 'variant', options.variant ?? 'sgd', VARIANTS);
  const rule = checkOneOf('lrRangeTest', 'rule', options.rule ?? 'valley', RULES);
  const startLr = checkNumber('lrRangeTest', 'startLr', options.startLr ?? 1e-7, {
    min: 0,
    minExclusive: true,
  });
  const endLr = checkNumber('lrRangeTest', 'endLr', options.endLr ?? 10, {
    min: startLr,
    minExclusive: true,
  });
  let numIt = checkNumber('lrRangeTest', 'numIt', options.numIt ?? (increase === 'epoch' ? 20 : 100), {
    min: style === 'lrFinder' ? 2 : 1,
    integer: true,
  });
  if (style === 'fastai') numIt = Math.max(numIt, 6);
  const validation = options.validation ?? false;
  if (validation && !data.validation) {
    throw new LrfreeConfigError('lrRangeTest: validation = true needs data.validation.');
  }
  const threshold = checkNumber(
    'lrRangeTest',
    'divergeThreshold',
    options.divergeThreshold ?? (style === 'fastai' ? 4 : 5),
    {
      min: 1,
      minExclusive: true,
    },
  );
  const smoothing =
    options.smoothing ?? (increase === 'epoch' || validation ? 0 : style === 'fastai' ? 0.98 : 0.05);
  checkNumber('lrRangeTest', 'smoothing', smoothing, { min: 0, max: 1, maxExclusive: true });
  const batchSize = checkNumber('lrRangeTest', 'batchSize', options.batchSize ?? 64, {
    min: 1,
    integer: true,
  });
  const seed = checkNumber('lrRangeTest', 'seed', options.seed ?? 0, { integer: true });
  const beta = checkNumber('lrRangeTest', 'momentum', options.momentum ?? 0.9, {
    min: 0,
    max: 1,
    maxExclusive: true,
  });
  const per = options.batchesPerIteration;
  if (per !== undefined) checkNumber('lrRangeTest', 'batchesPerIteration', per, { min: 1, integer: true });

  const schedule = rangeTestLrs(style, startLr, endLr, numIt, stepMode);
  const smooth = (xs: number[]) =>
    smoothing === 0 ? [...xs] : style === 'fastai' ? smoothDebiased(xs, smoothing) : smoothEma(xs, smoothing);
  const val = data.validation as DataSplit | undefined;

  return preservingModel(model, async () => {
    const opt = diagnosticOptimizer(variant, { lr: schedule[0], momentum: beta }, { model, seed });
    const lrs: number[] = [];
    const losses: number[] = [];
    const accs: number[] = [];
    let smoothed: number[] = [];
    let stopped = 'end' as RangeTestResult['stopped'];
    let best = Number.POSITIVE_INFINITY;
    let batches = 0;
    const initial = validation ? evaluate(model, val!, options.loss).loss : Number.NaN;
    /** Records one iteration; returns false to stop. */
    const record = (lr: number, loss: number): boolean => {
      lrs.push(lr);
      losses.push(loss);
      if (validation || increase === 'epoch') {
        if (val) {
          const e = evaluate(model, val, options.loss);
          if (validation) losses[losses.length - 1] = e.loss;
          if (e.accuracy !== undefined) accs.push(e.accuracy);
        }
      }
      smoothed = smooth(losses);
      const s = smoothed[smoothed.length - 1];
      options.onProgress?.(lrs.length, numIt);
      if (!Number.isFinite(s)) {
        stopped = 'nonFinite';
        return false;
      }
      best = Math.min(best, s);
      if ((options.stopDiv ?? true) && s > best + (threshold - 1) * Math.abs(best)) {
        stopped = 'diverged';
        return false;
      }
      return lrs.length < numIt;
    };
    try {
      if (increase === 'batch') {
        let it = 0;
        for (let epoch = 0; it < numIt; epoch++) {
          const r = await runEpoch(model, data.train, opt, {
            batchSize,
            seed,
            epoch,
            loss: options.loss,
            signal: options.signal,
            beforeBatch: () => {
              opt.hyperparams.set('lr', schedule[it]);
            },
            afterBatch: (_, loss) => {
              it += 1;
              return record(opt.hyperparams.get('lr'), loss);
            },
          });
          batches += r.batches;
          if (r.stopped) break;
        }
      } else {
        for (let it = 0; it < numIt; it++) {
          opt.hyperparams.set('lr', schedule[it]);
          const r = await runEpoch(model, data.train, opt, {
            batchSize,
            seed,
            epoch: it,
            loss: options.loss,
            signal: options.signal,
            maxBatches: per,
          });
          batches += r.batches;
          if (!record(opt.hyperparams.get('lr'), r.meanLoss)) break;
        }
      }
    } finally {
      opt.dispose();
    }
    const suggestions = suggestAll(lrs, smoothed, numIt);
    const used =
      ([rule, 'valley', 'steep', 'minimum'] as const).find((r) => suggestions[r] !== undefined) ?? rule;
    const suggestion = suggestions[used]?.lr ?? Number.NaN;
    return {
      style,
      increase,
      variant,
      lrs,
      losses,
      smoothed,
      ...(accs.length === lrs.length && accs.length > 0 ? { accuracies: accs } : {}),
      initialLoss: validation ? initial : losses[0],
      suggestions,
      suggestion,
      rule: used,
      stopped,
      ...(stopped === 'diverged' ? { divergedAt: lrs[lrs.length - 1] } : {}),
      numIt,
      batches,
    };
  });
}
