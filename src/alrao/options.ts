/** The options of `alrao.wrap`: their documentation, defaults and checks. */
import type { Direction } from '../core/types.js';
import { checkKnownKeys, checkNumber, checkOneOf, LrfreeConfigError } from '../core/validate.js';
import { sgd } from '../directions/sgd.js';
import type { AlraoTask } from './heads.js';
import { checkRange } from './rates.js';

/** Options of `alrao.wrap`. */
export interface WrapOptions {
  /** Number of classes (classification) or output dimension (regression). Required. */
  classes: number;
  /** Number of classifier copies K, an integer >= 1. Default 10 (paper). */
  copies?: number;
  /** Smallest learning rate (pre-classifier features and first head), > 0. Default 1e-5 (paper, CIFAR-10). */
  minLr?: number;
  /** Largest learning rate, > minLr. Default 10 (paper, CIFAR-10). */
  maxLr?: number;
  /** Update direction of both parts: `sgd()` (default) gives Alrao-SGD, `adam()` Alrao-Adam (experimental). */
  direction?: Direction;
  /** Seed of the feature rates and the heads' initial weights and of the batch order. Default 0. */
  seed?: number;
  /** `classification` (default; log-softmax heads) or `regression` (linear heads, unit-variance Gaussian). */
  task?: AlraoTask;
  /** Switch prior parameter theta in [0, 1]. Default 0.9999 (reference). */
  theta?: number;
  /** Per-feature (default) or per-weight rates in the pre-classifier; see alraoRates. */
  granularity?: 'feature' | 'weight';
  /** Recurrent layers: `perUnit` (default, paper) or `perGateRow` (reference code). */
  lstmRateSharing?: 'perUnit' | 'perGateRow';
  /**
   * Hard catch-up (§5.6): every `every` steps, heads with log-posterior < `threshold` (default -20) take the
   * posterior-weighted average of all heads' weights. Default off (the paper's CNN runs never use it).
   */
  catchUp?: { every: number; threshold?: number };
  /** Regression point prediction: `best` head (default, reference) or posterior-weighted `mean`. */
  regressionPrediction?: 'best' | 'mean';
  /**
   * The reference code's momentum mu in [0, 1) (ALGORITHMS.md §5.3). Default 0 (plain Alrao-SGD, the paper's
   * results). The pre-classifier uses the reference's rate-dependent decay,
   * buf <- (1 - mu*min(sqrt(eta_f), 1/mu))*buf + g, w_f <- w_f - eta_f*buf (`alraoMomentum`); the heads use
   * ordinary momentum buf <- mu*buf + g, head_j <- head_j - eta_j*buf. SGD direction only.
   */
  momentum?: number;
  /**
   * Clip the pre-classifier's gradient to this global norm before its step (the reference RNN script uses
   * 0.25). Default 0 (off). SGD direction only.
   */
  clipNorm?: number;
}

/** The options with their defaults, checked. */
export type ResolvedWrapOptions = Required<Omit<WrapOptions, 'catchUp' | 'direction'>> & {
  catchUp?: { every: number; threshold: number };
};

const KEYS = [
  'classes',
  'copies',
  'minLr',
  'maxLr',
  'direction',
  'seed',
  'task',
  'theta',
  'granularity',
  'lstmRateSharing',
  'catchUp',
  'regressionPrediction',
  'momentum',
  'clipNorm',
] as const;

/** Checks `options` and fills in the defaults; the direction is returned apart (it is not plain data). */
export function resolveWrapOptions(options: WrapOptions): {
  resolved: ResolvedWrapOptions;
  direction: Direction;
} {
  const where = 'alrao.wrap';
  checkKnownKeys(where, options, [...KEYS]);
  const task = checkOneOf(where, 'task', options.task ?? 'classification', [
    'classification',
    'regression',
  ] as const);
  const classes = checkNumber(where, 'classes', options.classes, {
    min: task === 'classification' ? 2 : 1,
    integer: true,
  });
  const copies = checkNumber(where, 'copies', options.copies ?? 10, { min: 1, integer: true });
  const minLr = options.minLr ?? 1e-5;
  const maxLr = options.maxLr ?? 10;
  checkRange(where, minLr, maxLr);
  const seed = checkNumber(where, 'seed', options.seed ?? 0, { integer: true });
  let catchUp: { every: number; threshold: number } | undefined;
  if (options.catchUp) {
    checkKnownKeys(`${where} catchUp`, options.catchUp, ['every', 'threshold']);
    catchUp = {
      every: checkNumber(where, 'catchUp.every', options.catchUp.every, { min: 1, integer: true }),
      threshold: checkNumber(where, 'catchUp.threshold', options.catchUp.threshold ?? -20, {}),
    };
  }
  const direction = options.direction ?? sgd();
  if (typeof direction.compute !== 'function') {
    throw new LrfreeConfigError(`${where}: direction must be a direction such as lrfree.directions.sgd().`);
  }
  const momentum = checkNumber(where, 'momentum', options.momentum ?? 0, {
    min: 0,
    max: 1,
    maxExclusive: true,
  });
  const clipNorm = checkNumber(where, 'clipNorm', options.clipNorm ?? 0, { min: 0 });
  if ((momentum > 0 || clipNorm > 0) && direction.kind !== 'sgd') {
    throw new LrfreeConfigError(
      `${where}: momentum = ${momentum} and clipNorm = ${clipNorm} are the reference Alrao-SGD's; they cannot be ` +
        `combined with the ${direction.kind} direction. Leave direction out (SGD) or set momentum and clipNorm to 0.`,
    );
  }
  return {
    resolved: {
      classes,
      copies,
      minLr,
      maxLr,
      seed,
      task,
      theta: options.theta ?? 0.9999,
      granularity: options.granularity ?? 'feature',
      lstmRateSharing: options.lstmRateSharing ?? 'perUnit',
      regressionPrediction: checkOneOf(
        where,
        'regressionPrediction',
        options.regressionPrediction ?? 'best',
        ['best', 'mean'] as const,
      ),
      catchUp,
      momentum,
      clipNorm,
    },
    direction,
  };
}
