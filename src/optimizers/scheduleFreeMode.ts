/**
 * The evaluation point made hard to get wrong (ALGORITHMS.md §9.4, trap T20): run evaluation, prediction
 * and saving at x (Schedule-Free) or at the average (averagers), with batch-norm statistics recomputed
 * there. The helpers accept any optimizer implementing the contract of core/evalPoint.ts.
 */
import type * as tf from '@tensorflow/tfjs';
import { batchNormLayers } from '../core/batchNorm.js';
import { type HasEvalPoint, hasEvalPoint, withEvalPointAsync } from '../core/evalPoint.js';
import { LrfreeConfigError } from '../core/validate.js';

export {
  type BatchNormRecompute,
  batchNormLayers,
  recomputeBatchNorm,
  restoreBatchNorm,
} from '../core/batchNorm.js';

/** Options of the at-x helpers. */
export interface AtXOptions {
  /** Training inputs for recomputing batch-norm statistics at x. Required when the model has batch norm. */
  trainX?: tf.Tensor;
  /** Batch size of those forwards. Default 32. */
  batchSize?: number;
  /** At most this many batches. Default 50. */
  batches?: number;
}

/**
 * Runs `fn` with the model at `opt`'s evaluation point (any {@link HasEvalPoint}: Schedule-Free's x, an
 * averager's average, ...; batch-norm statistics recomputed there when the model has batch norm and
 * `trainX` is given), then returns to the point the optimizer was at. Other optimizers: `fn` runs as is.
 *
 * @example
 * ```ts
 * const opt = lrfree.scheduleFreeSgd({ lr: 1 });
 * model.compile({ optimizer: opt, loss: 'categoricalCrossentropy' });
 * await model.fit(x, y, { epochs: 1 });
 * const loss = await atX(model, opt, () => model.evaluate(xTest, yTest), { trainX: x });
 * ```
 */
export async function atX<T>(
  model: tf.LayersModel,
  opt: HasEvalPoint | tf.Optimizer,
  fn: () => T | Promise<T>,
  options: AtXOptions = {},
): Promise<T> {
  if (
    hasEvalPoint(opt) &&
    !options.trainX &&
    opt.requiresBatchNormRecompute?.() &&
    batchNormLayers(model).length > 0
  ) {
    const name = (opt as { name?: string }).name ?? 'atX';
    throw new LrfreeConfigError(
      `${name}: the model has BatchNormalization, whose statistics were collected at the training point; ` +
        'pass { trainX } (training inputs) so they are recomputed at the evaluation point before evaluating.',
    );
  }
  return withEvalPointAsync(opt, { model, ...options }, fn);
}

/** {@link atX} under its general name. */
export const atEvalPoint = atX;

/**
 * `model.evaluate` at the evaluation point.
 *
 * @example
 * ```ts
 * const opt = lrfree.scheduleFreeSgd({ lr: 1 });
 * model.compile({ optimizer: opt, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
 * await model.fit(x, y, { epochs: 1 });
 * const [loss, acc] = (await evaluateAtX(model, opt, xTest, yTest)) as tf.Scalar[];
 * ```
 */
export function evaluateAtX(
  model: tf.LayersModel,
  opt: HasEvalPoint | tf.Optimizer,
  x: tf.Tensor,
  y: tf.Tensor,
  options: AtXOptions & { evaluate?: tf.ModelEvaluateArgs } = {},
): Promise<tf.Scalar | tf.Scalar[]> {
  const { evaluate, ...rest } = options;
  return atX(model, opt, () => model.evaluate(x, y, evaluate), rest);
}

/**
 * `model.predict` at the evaluation point.
 *
 * @example
 * ```ts
 * const opt = lrfree.scheduleFreeSgd({ lr: 1 });
 * model.compile({ optimizer: opt, loss: 'categoricalCrossentropy' });
 * await model.fit(x, y, { epochs: 1 });
 * const probs = (await predictAtX(model, opt, xTest)) as tf.Tensor;
 * ```
 */
export function predictAtX(
  model: tf.LayersModel,
  opt: HasEvalPoint | tf.Optimizer,
  x: tf.Tensor,
  options: AtXOptions = {},
): Promise<tf.Tensor | tf.Tensor[]> {
  return atX(model, opt, () => model.predict(x), options);
}

/**
 * `model.save` at the evaluation point (optimizer state included by default), then back to training.
 *
 * @example
 * ```ts
 * const opt = lrfree.scheduleFreeSgd({ lr: 1 });
 * model.compile({ optimizer: opt, loss: 'categoricalCrossentropy' });
 * await model.fit(x, y, { epochs: 1 });
 * await saveAtX(model, opt, lrfree.io.fileSystem('./ckpt'));
 * ```
 */
export function saveAtX(
  model: tf.LayersModel,
  opt: HasEvalPoint | tf.Optimizer,
  handler: tf.io.IOHandler | string,
  options: AtXOptions & { save?: tf.io.SaveConfig } = {},
): Promise<tf.io.SaveResult> {
  const { save, ...rest } = options;
  return atX(model, opt, () => model.save(handler, { includeOptimizer: true, ...save }), rest);
}

/** General names of the helpers above (same functions). */
export { evaluateAtX as evaluateAtEvalPoint, predictAtX as predictAtEvalPoint, saveAtX as saveAtEvalPoint };
