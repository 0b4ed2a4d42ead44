/**
 * What every diagnostic shares: the data shape it trains and evaluates on, the loss, evaluation with
 * accuracy where the task has one, and an exact snapshot of the model (trainable weights, batch-norm
 * statistics) so that every diagnostic leaves the model bit-identical (trap T1).
 */
import * as tf from '@tensorflow/tfjs';
import { checkOneOf, LrfreeConfigError } from '../core/validate.js';

/** Features and targets (one-hot targets make it a classification task with an accuracy). */
export interface DataSplit {
  x: tf.Tensor;
  y: tf.Tensor;
}

/** Training data and an optional held-out split (the procedure evaluates on it). */
export interface DiagnosticData {
  train: DataSplit;
  validation?: DataSplit;
}

/**
 * The training loss: a built-in name, or `(yTrue, yPred) => per-example or scalar loss` (the mean is
 * taken). Default `categoricalCrossentropy`.
 */
export type LossSpec =
  | 'categoricalCrossentropy'
  | 'meanSquaredError'
  | ((yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor);

/** Loss and (for one-hot targets with 2+ columns) accuracy of a model on a split. */
export interface Evaluation {
  loss: number;
  accuracy?: number;
}

/** Resolves a {@link LossSpec} to a function returning the mean loss as a scalar. */
export function lossFunction(
  spec: LossSpec = 'categoricalCrossentropy',
): (y: tf.Tensor, p: tf.Tensor) => tf.Scalar {
  if (typeof spec === 'function') return (y, p) => tf.mean(spec(y, p)) as tf.Scalar;
  const name = checkOneOf('diagnostics', 'loss', spec, [
    'categoricalCrossentropy',
    'meanSquaredError',
  ] as const);
  return name === 'categoricalCrossentropy'
    ? (y, p) => tf.mean(tf.metrics.categoricalCrossentropy(y, p)) as tf.Scalar
    : (y, p) => tf.mean(tf.square(tf.sub(p, y))) as tf.Scalar;
}

/** True when `y` holds one-hot (or probability) targets of 2+ classes, so accuracy means something. */
export function hasAccuracy(y: tf.Tensor): boolean {
  return y.rank === 2 && y.shape[1]! >= 2;
}

/** Number of classes of a one-hot target (0 when not a classification). */
export function classesOf(y: tf.Tensor): number {
  return hasAccuracy(y) ? y.shape[1]! : 0;
}

/**
 * Mean loss and accuracy of `model` in inference mode, in batches. Non-finite losses come back as NaN
 * or Infinity as computed (callers decide).
 */
export function evaluate(
  model: tf.LayersModel,
  split: DataSplit,
  loss?: LossSpec,
  batchSize = 1000,
): Evaluation {
  const fn = lossFunction(loss);
  const n = split.x.shape[0];
  const acc = hasAccuracy(split.y);
  let total = 0;
  let hits = 0;
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start);
    // The batch's mean loss and (for classes) its number of right answers, read back together.
    const read = tf.tidy(() => {
      const x = sliceRows(split.x, start, size);
      const y = sliceRows(split.y, start, size);
      const p = predictAll(model, x);
      const batchLoss = tf.reshape(fn(y, p), [1]);
      return acc
        ? tf.concat([
            batchLoss,
            tf.reshape(tf.sum(tf.cast(tf.equal(tf.argMax(p, 1), tf.argMax(y, 1)), 'float32')), [1]),
          ])
        : batchLoss;
    });
    const [l, h] = read.dataSync();
    read.dispose();
    total += l * size;
    if (acc) hits += h;
  }
  return acc ? { loss: total / n, accuracy: hits / n } : { loss: total / n };
}

/**
 * `model.predict` of all rows of `x` in one batch, in inference mode. `predict`'s default batch of 32
 * rows costs ~7x more on a 1000-row slice (every layer's op overhead paid per 32 rows); each row's output
 * is computed alone either way (bit-identical on the 10k-row timing problem's model).
 */
export function predictAll(model: tf.LayersModel, x: tf.Tensor): tf.Tensor {
  return model.predict(x, { batchSize: Math.max(1, x.shape[0]) }) as tf.Tensor;
}

/** Rows [start, start+size) of a tensor of any rank. */
export function sliceRows(t: tf.Tensor, start: number, size: number): tf.Tensor {
  const begin = t.shape.map((_, i) => (i === 0 ? start : 0));
  const len = t.shape.map((_, i) => (i === 0 ? size : -1));
  return tf.slice(t, begin, len);
}

/** Checks the data fits the model (same number of rows in x and y, at least one row). */
export function checkData(where: string, data: DiagnosticData): void {
  for (const [name, s] of Object.entries({ train: data?.train, validation: data?.validation })) {
    if (s === undefined) {
      if (name === 'train')
        throw new LrfreeConfigError(`${where}: data.train is required ({ x, y } tensors).`);
      continue;
    }
    if (!(s.x instanceof tf.Tensor) || !(s.y instanceof tf.Tensor)) {
      throw new LrfreeConfigError(`${where}: data.${name} must be { x: Tensor, y: Tensor }.`);
    }
    if (s.x.shape[0] !== s.y.shape[0] || s.x.shape[0] === 0) {
      throw new LrfreeConfigError(
        `${where}: data.${name} has ${s.x.shape[0]} inputs and ${s.y.shape[0]} targets; they must match and be > 0.`,
      );
    }
  }
}

/** An exact copy of a model's weights (trainable and not), restorable bit for bit. */
export interface ModelSnapshot {
  /** Copies of `model.weights` values, in order (caller must not dispose). */
  readonly values: readonly tf.Tensor[];
  /** Writes the copies back into the model. */
  restore(): void;
  /** Frees the copies. */
  dispose(): void;
}

/**
 * Snapshots every weight of `model` (kernels, biases, batch-norm moving statistics).
 *
 * @example
 * ```ts
 * const snap = snapshotModel(model);
 * try { await model.fit(x, y, { epochs: 1 }); } finally { snap.restore(); snap.dispose(); }
 * ```
 */
export function snapshotModel(model: tf.LayersModel): ModelSnapshot {
  const values = model.weights.map((w) => tf.keep(w.read().clone()));
  return {
    values,
    restore: () => {
      model.weights.forEach((w, i) => {
        (w.read() as tf.Variable).assign(values[i]);
      });
    },
    dispose: () => tf.dispose(values),
  };
}

/** Runs `fn` and restores the model's weights afterwards, whatever happens. */
export async function preservingModel<T>(model: tf.LayersModel, fn: () => Promise<T>): Promise<T> {
  const snap = snapshotModel(model);
  try {
    return await fn();
  } finally {
    snap.restore();
    snap.dispose();
  }
}

/** Thrown when a diagnostic is interrupted through its AbortSignal; the model is restored first. */
export class DiagnosticAborted extends Error {
  override name = 'DiagnosticAborted';
}

/** Throws {@link DiagnosticAborted} when the signal fired. */
export function checkAbort(signal?: AbortSignal): void {
  if (signal?.aborted) throw new DiagnosticAborted('interrupted');
}
