/** The options of the step-by-step procedure, and the names it accepts. */
import type { MomentumRangeOptions } from '../checks.js';
import type { LossSpec } from '../common.js';
import type { RangeTestOptions, SuggestionRule } from '../rangeTest.js';
import type { Variant } from '../trainer.js';
import type { ProcedureState, StepName } from './state.js';

/** Options of `procedure()` (../procedure.ts). */
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
   * confirmation budget. Default `LR_FREE_CANDIDATES` (diagnostics/recommend.ts); [] for none.
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

/** The option names `procedure()` accepts (any other key is refused). */
export const PROCEDURE_OPTION_KEYS = [
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
