/** The benchmark task contract: a model, data, a loss per step, an evaluation, a budget per suite. */
import * as tf from '@tensorflow/tfjs';
import { deriveSeed } from '../core/rng.js';
import { permutation } from '../train/classification.js';

/** Suites differ in budget: quick (the demo, minutes), standard (many CPU-hours: docs/results.md), full. */
export type Suite = 'quick' | 'standard' | 'full';

/** What can be evaluated: the in-training monitor subset, the whole validation split, the test split. */
export type EvalSplit = 'monitor' | 'validation' | 'test';

/** A task, instantiated for one seed. */
export interface TaskInstance {
  readonly variables: tf.Variable[];
  readonly model?: tf.LayersModel;
  readonly stepsPerEpoch: number;
  /** The loss closure of step `step` (0-based); `release` frees the batch. */
  batch(step: number): { loss: () => tf.Scalar; release: () => void };
  /**
   * Loss (and metric, e.g. accuracy) on a split. `monitor` is what the runner evaluates during training (a
   * fixed leading subset of the validation split, or all of it); the final validation (which tunes the grid)
   * and test use the whole splits. Full-batch tasks return the training loss.
   */
  evaluate(split: EvalSplit): { loss: number; metric?: number };
  /** Training inputs (no labels), for recomputing batch-norm statistics at an evaluation point. */
  readonly trainInputs?: tf.Tensor;
  /**
   * Classification tasks: the batch of step `step` as tensors (the same batch `batch(step)` uses), and a
   * split's tensors. Methods that replace the model's classifier (Alrao's wrapped model) train and evaluate
   * on these.
   */
  batchXY?(step: number): { x: tf.Tensor; y: tf.Tensor; release: () => void };
  splitXY?(split: EvalSplit): XY;
  dispose(): void;
}

/** A benchmark task. */
export interface Task {
  readonly name: string;
  readonly description: string;
  readonly batchSize: number;
  /** Total optimizer steps per suite. */
  readonly budget: Record<Suite, number>;
  /** Steps between validation evaluations. */
  readonly evalEvery: number;
  /** Name of the metric `evaluate` returns besides the loss (higher is better), if any. */
  readonly metricName?: string;
  /** Validation targets for time-to-target. */
  readonly target?: { loss?: number; metric?: number };
  /** Builds the task's model and data from a seed (same seed, same everything). */
  create(seed: number, suite: Suite): TaskInstance;
}

/**
 * Validation examples the in-training evaluations of the image tasks use, per suite. Evaluating all 10,000
 * every 50 steps cost about as much as training itself on the MNIST MLP (measured); 2,000 keep the curves and
 * time-to-target (accuracy resolution 0.05%) at a fifth of that. The full suite monitors the whole split.
 */
export const MONITOR_SIZE: Record<Suite, number | undefined> = {
  quick: 2000,
  standard: 2000,
  full: undefined,
};

/** Supervised data in tensors. */
export type XY = { x: tf.Tensor; y: tf.Tensor };

/**
 * A task instance over tensors: seeded batch order per epoch, `lossOf(yTrue, yPred)` as the loss, an
 * optional metric. The model is trained in training mode (dropout, batch-norm batch statistics).
 */
export function dataTaskInstance(options: {
  model: tf.LayersModel;
  train: XY;
  validation: XY;
  test: XY;
  batchSize: number;
  seed: number;
  lossOf: (y: tf.Tensor, p: tf.Tensor) => tf.Scalar;
  metricOf?: (y: tf.Tensor, p: tf.Tensor) => tf.Scalar;
  /** Validation examples the in-training evaluations use (the first ones); default all. */
  monitorSize?: number;
}): TaskInstance {
  const { model, train, batchSize, seed } = options;
  const n = train.x.shape[0];
  const stepsPerEpoch = Math.ceil(n / batchSize);
  const full = batchSize >= n;
  let orderEpoch = -1;
  let order: tf.Tensor1D | undefined;
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const validation = options.validation;
  const m = Math.min(options.monitorSize ?? Number.POSITIVE_INFINITY, validation.x.shape[0]);
  const monitor: XY =
    m < validation.x.shape[0] ? { x: validation.x.slice(0, m), y: validation.y.slice(0, m) } : validation;
  return {
    variables,
    model,
    stepsPerEpoch,
    trainInputs: train.x,
    batchXY(step) {
      if (full) return { x: train.x, y: train.y, release: () => {} };
      const epoch = Math.floor(step / stepsPerEpoch);
      if (epoch !== orderEpoch) {
        order?.dispose();
        order = tf.tensor1d(permutation(n, deriveSeed(seed, 0xba7c, epoch)), 'int32');
        orderEpoch = epoch;
      }
      const start = (step % stepsPerEpoch) * batchSize;
      const size = Math.min(batchSize, n - start);
      const [x, y] = tf.tidy(() => {
        const idx = order!.slice(start, size);
        return [tf.gather(train.x, idx), tf.gather(train.y, idx)];
      });
      return { x, y, release: () => tf.dispose([x, y]) };
    },
    batch(step) {
      const { x, y, release } = this.batchXY!(step);
      return {
        loss: () => tf.tidy(() => options.lossOf(y, model.apply(x, { training: true }) as tf.Tensor)),
        release,
      };
    },
    splitXY: (split) => (split === 'monitor' ? monitor : split === 'validation' ? validation : options.test),
    evaluate(split) {
      const d = split === 'monitor' ? monitor : split === 'validation' ? validation : options.test;
      return tf.tidy(() => {
        const p = model.predict(d.x, { batchSize: 2048 }) as tf.Tensor;
        const loss = options.lossOf(d.y, p).dataSync()[0];
        const metric = options.metricOf ? options.metricOf(d.y, p).dataSync()[0] : undefined;
        return { loss, metric } as never;
      }) as unknown as { loss: number; metric?: number };
    },
    dispose() {
      order?.dispose();
      const seen = new Set<tf.Tensor>();
      for (const t of [
        train.x,
        train.y,
        monitor.x,
        monitor.y,
        options.validation.x,
        options.validation.y,
        options.test.x,
        options.test.y,
      ]) {
        if (!seen.has(t)) {
          seen.add(t);
          t.dispose();
        }
      }
      model.dispose();
    },
  };
}

/** Mean categorical cross-entropy of softmax outputs. */
export function crossEntropy(y: tf.Tensor, p: tf.Tensor): tf.Scalar {
  return tf.mean(tf.metrics.categoricalCrossentropy(y, p)) as tf.Scalar;
}

/** Classification accuracy of softmax outputs against one-hot labels. */
export function accuracy(y: tf.Tensor, p: tf.Tensor): tf.Scalar {
  return tf.mean(tf.cast(tf.equal(tf.argMax(p, -1), tf.argMax(y, -1)), 'float32')) as tf.Scalar;
}

/** Mean squared error. */
export function mse(y: tf.Tensor, p: tf.Tensor): tf.Scalar {
  return tf.mean(tf.square(tf.sub(y, p))) as tf.Scalar;
}
