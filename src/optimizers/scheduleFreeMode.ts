/**
 * Schedule-Free's evaluation point made hard to get wrong (ALGORITHMS.md §9.4, trap T20): run
 * evaluation, prediction and saving at x automatically, with batch-norm statistics recomputed at x.
 */
import type * as tf from '@tensorflow/tfjs';
import { batchNormLayers } from '../core/batchNorm.js';
import { LrfreeConfigError } from '../core/validate.js';
import type { ScheduleFreeOptimizer } from './scheduleFree.js';

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
 * Runs `fn` with the model at x (`opt.eval()`, batch-norm statistics recomputed at x when the model has
 * batch norm), then returns to the mode the optimizer was in.
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
  opt: ScheduleFreeOptimizer,
  fn: () => T | Promise<T>,
  options: AtXOptions = {},
): Promise<T> {
  const hasBn = batchNormLayers(model).length > 0;
  if (hasBn && !options.trainX && opt.trainMode) {
    throw new LrfreeConfigError(
      `${opt.name}: the model has BatchNormalization, whose statistics were collected at y; pass ` +
        '{ trainX } (training inputs) so they are recomputed at x before evaluating.',
    );
  }
  const wasTraining = opt.trainMode;
  opt.eval(
    hasBn && options.trainX
      ? { batchNorm: { model, x: options.trainX, batchSize: options.batchSize, batches: options.batches } }
      : {},
  );
  try {
    return await fn();
  } finally {
    if (wasTraining) opt.train();
  }
}

/**
 * `model.evaluate` at x.
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
  opt: ScheduleFreeOptimizer,
  x: tf.Tensor,
  y: tf.Tensor,
  options: AtXOptions & { evaluate?: tf.ModelEvaluateArgs } = {},
): Promise<tf.Scalar | tf.Scalar[]> {
  return atX(model, opt, () => model.evaluate(x, y, options.evaluate), options);
}

/**
 * `model.predict` at x.
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
  opt: ScheduleFreeOptimizer,
  x: tf.Tensor,
  options: AtXOptions = {},
): Promise<tf.Tensor | tf.Tensor[]> {
  return atX(model, opt, () => model.predict(x), options);
}

/**
 * `model.save` at x (optimizer state included by default), then back to training.
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
  opt: ScheduleFreeOptimizer,
  handler: tf.io.IOHandler | string,
  options: AtXOptions & { save?: tf.io.SaveConfig } = {},
): Promise<tf.io.SaveResult> {
  return atX(model, opt, () => model.save(handler, { includeOptimizer: true, ...options.save }), options);
}
