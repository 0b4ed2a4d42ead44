/**
 * The evaluation point: some methods train at one point and should be evaluated, used and saved at
 * another (Schedule-Free at x, DoG and every averager at the average, auto() at its evaluation point).
 * This is the one contract the benchmark runner, the at-x helpers and the fit callback use, so no caller
 * needs to know which method it holds.
 */
import type * as tf from '@tensorflow/tfjs';

/** What moving to the evaluation point may need: the model and inputs to recompute batch-norm statistics. */
export interface EvalPointOptions {
  /** The model whose batch-norm statistics are recomputed at the evaluation point. */
  model?: tf.LayersModel;
  /** Training inputs (no labels) for that recomputation. Required when the model has batch norm. */
  trainX?: tf.Tensor;
  /** Batch size of the recomputing forwards. Default 32. */
  batchSize?: number;
  /** At most this many recomputing batches. Default 50. */
  batches?: number;
  /** Seed of the Dropout masks the recomputing forwards draw (training mode). Default 0. */
  seed?: number;
}

/** An optimizer whose evaluation point differs from the point it trains at. */
export interface HasEvalPoint {
  /**
   * Puts the evaluation point into the variables (batch-norm statistics recomputed there when `options`
   * name a model with batch norm and its inputs) and returns the function that puts the training point
   * and the training statistics back, exactly. Calling it twice is a no-op.
   */
  enterEvalPoint(options?: EvalPointOptions): () => void;
  /**
   * Optional: true when the batch-norm statistics in the model were collected at a point other than the
   * evaluation point and must be recomputed there (Schedule-Free in train mode), so a caller with a
   * batch-norm model must pass `trainX`. Averagers average the statistics too and need not.
   */
  requiresBatchNormRecompute?(): boolean;
  /**
   * Optional: returns to the training point when the object was left at the evaluation point other than
   * through a leave function (a Schedule-Free optimizer restored from a checkpoint starts at x). The fit
   * callback calls it before training.
   */
  leaveEvalPoint?(): void;
}

/** True when `opt` exposes an evaluation point other than its training point. */
export function hasEvalPoint(opt: unknown): opt is HasEvalPoint {
  return (
    typeof opt === 'object' &&
    opt !== null &&
    typeof (opt as Partial<HasEvalPoint>).enterEvalPoint === 'function'
  );
}

/**
 * Runs `fn` with the variables at `opt`'s evaluation point (a plain call when `opt` has none), then
 * returns to the training point, also when `fn` throws. Synchronous: for async work use
 * {@link withEvalPointAsync}.
 */
export function withEvalPoint<T>(opt: unknown, options: EvalPointOptions, fn: () => T): T {
  if (!hasEvalPoint(opt)) return fn();
  const leave = opt.enterEvalPoint(options);
  try {
    return fn();
  } finally {
    leave();
  }
}

/** {@link withEvalPoint} for an async `fn` (evaluate, save). */
export async function withEvalPointAsync<T>(
  opt: unknown,
  options: EvalPointOptions,
  fn: () => T | Promise<T>,
): Promise<T> {
  if (!hasEvalPoint(opt)) return fn();
  const leave = opt.enterEvalPoint(options);
  try {
    return await fn();
  } finally {
    leave();
  }
}
