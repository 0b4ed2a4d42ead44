/**
 * A training loop for classifiers that records what a comparison needs: per-step loss, eta and cost from
 * the optimizer's `lastStep`, per-epoch validation, all reproducible from a seed (batch order included).
 */
import * as tf from '@tensorflow/tfjs';
import { gatherRows, runTrainingLoop } from '../core/loop.js';
import type { LrfreeOptimizer } from '../core/optimizer.js';
import { deriveSeed, permutation } from '../core/rng.js';

export { permutation } from '../core/rng.js';

/** Features and one-hot labels (the shape of `data`'s splits; declared here so train does not import data). */
export type Split = {
  x: tf.Tensor2D;
  y: tf.Tensor2D;
};

/** One optimizer step, as recorded. */
export interface StepTrace {
  step: number;
  epoch: number;
  loss: number;
  eta: number | number[];
  forwards: number;
  backwards: number;
  skipped: boolean;
  /** Wall time since training started, ms. */
  ms: number;
}

/** One epoch's summary. */
export interface EpochTrace {
  epoch: number;
  trainLoss: number;
  validationLoss?: number;
  validationAccuracy?: number;
  ms: number;
}

/** Options of {@link trainClassifier}. */
export interface TrainOptions {
  model: tf.LayersModel;
  optimizer: tf.Optimizer;
  train: Split;
  validation?: Split;
  epochs: number;
  batchSize: number;
  /** Seed of the batch order. Default 0. */
  seed?: number;
  onStep?: (trace: StepTrace) => void;
  onEpoch?: (trace: EpochTrace) => void;
}

/** Mean categorical cross-entropy and accuracy of `model` on `split`, in batches. */
export function evaluateClassifier(
  model: tf.LayersModel,
  split: Split,
  batchSize = 1000,
): { loss: number; accuracy: number } {
  const n = split.x.shape[0];
  let loss = 0;
  let correct = 0;
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start);
    const [l, c] = tf.tidy(() => {
      const x = split.x.slice([start, 0], [size, -1]);
      const y = split.y.slice([start, 0], [size, -1]);
      const p = model.predict(x) as tf.Tensor;
      const ce = tf.sum(tf.metrics.categoricalCrossentropy(y, p));
      const hits = tf.sum(tf.cast(tf.equal(tf.argMax(p, 1), tf.argMax(y, 1)), 'float32'));
      return [ce.dataSync()[0], hits.dataSync()[0]];
    });
    loss += l;
    correct += c;
  }
  return { loss: loss / n, accuracy: correct / n };
}

/**
 * Trains with categorical cross-entropy in a custom loop (`optimizer.minimize` with a closure, so line
 * searches work), recording every step. Returns the traces; the model is trained in place. The loop is
 * lrfree's one training loop (core/loop.ts); the batch order of epoch e is `permutation(n, deriveSeed(seed, e))`.
 */
export async function trainClassifier(
  options: TrainOptions,
): Promise<{ steps: StepTrace[]; epochs: EpochTrace[] }> {
  const { model, optimizer, train, epochs, batchSize } = options;
  const n = train.x.shape[0];
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const steps: StepTrace[] = [];
  const epochTraces: EpochTrace[] = [];
  const t0 = performance.now();
  const lr = optimizer as Partial<LrfreeOptimizer>;
  const perEpoch = Math.ceil(n / batchSize);
  let order: tf.Tensor1D | undefined;
  try {
    await runTrainingLoop({
      steps: epochs * perEpoch,
      batchesPerEpoch: perEpoch,
      yieldEvery: 20,
      onEpochBegin: (epoch) => {
        order = tf.tensor1d(permutation(n, deriveSeed(options.seed ?? 0, epoch)), 'int32');
      },
      batch: ({ batch }) => {
        const start = batch * batchSize;
        return gatherRows(train.x, train.y, order!, start, Math.min(batchSize, n - start));
      },
      trainStep: ({ x, y }) => {
        const lossFn = () =>
          tf.tidy(
            () =>
              tf.mean(
                tf.metrics.categoricalCrossentropy(y, model.apply(x, { training: true }) as tf.Tensor),
              ) as tf.Scalar,
          );
        const cost = optimizer.minimize(lossFn, true, vars);
        const loss = lr.lastStep ? lr.lastStep.loss : (cost?.dataSync()[0] ?? Number.NaN);
        cost?.dispose();
        return loss;
      },
      afterStep: (r) => {
        const last = lr.lastStep;
        const trace: StepTrace = {
          step: r.done,
          epoch: r.epoch,
          loss: r.loss,
          eta: last ? last.eta : Number.NaN,
          forwards: last ? last.forwards : 0,
          backwards: last ? last.backwards : 1,
          skipped: last ? last.skipped : false,
          ms: performance.now() - t0,
        };
        steps.push(trace);
        options.onStep?.(trace);
        return undefined;
      },
      onEpochEnd: (e) => {
        order?.dispose();
        order = undefined;
        const val = options.validation ? evaluateClassifier(model, options.validation) : undefined;
        const rec: EpochTrace = {
          epoch: e.epoch,
          trainLoss: e.meanFiniteLoss,
          validationLoss: val?.loss,
          validationAccuracy: val?.accuracy,
          ms: performance.now() - t0,
        };
        epochTraces.push(rec);
        options.onEpoch?.(rec);
      },
    });
  } finally {
    order?.dispose();
  }
  return { steps, epochs: epochTraces };
}
