/**
 * Batch-norm moving statistics: find the layers, recompute the statistics at the current weights (for a
 * method evaluated at a point other than the one it trained at), put the previous ones back.
 */
import * as tf from '@tensorflow/tfjs';
import { deriveSeed, withSeededMathRandom } from './rng.js';
import { checkNumber } from './validate.js';

/** How to recompute batch-norm moving statistics at x. */
export interface BatchNormRecompute {
  model: tf.LayersModel;
  /** Training inputs (no labels needed). */
  x: tf.Tensor;
  /** Batch size of the forwards. Default 32. */
  batchSize?: number;
  /** At most this many batches (the reference README uses 50). Default 50. */
  batches?: number;
  /**
   * Seed of the Dropout masks the recomputing forwards draw (they run in training mode, as the authors'
   * recomputation does). Default 0: the same statistics every time for the same weights.
   */
  seed?: number;
}

type BnLayer = tf.layers.Layer & { momentum: number };

/** The BatchNormalization layers of a model, nested models included. */
export function batchNormLayers(model: tf.LayersModel): BnLayer[] {
  const out: BnLayer[] = [];
  const visit = (layers: tf.layers.Layer[]) => {
    for (const l of layers) {
      if (l.getClassName() === 'BatchNormalization') out.push(l as BnLayer);
      const inner = (l as unknown as { layers?: tf.layers.Layer[] }).layers;
      if (Array.isArray(inner)) visit(inner);
    }
  };
  visit(model.layers);
  return out;
}

/**
 * Recomputes the moving statistics of every BatchNormalization layer as the exact average of the batch
 * statistics over up to `batches` training-mode forwards at the current weights (no gradient, no step).
 * Returns copies of the previous non-trainable weights (for {@link restoreBatchNorm}); [] without BN.
 */
export function recomputeBatchNorm(options: BatchNormRecompute): tf.Tensor[] {
  const { model, x } = options;
  const layers = batchNormLayers(model);
  if (layers.length === 0) return [];
  const batchSize = checkNumber('recomputeBatchNorm', 'batchSize', options.batchSize ?? 32, {
    min: 1,
    integer: true,
  });
  const maxBatches = checkNumber('recomputeBatchNorm', 'batches', options.batches ?? 50, {
    min: 1,
    integer: true,
  });
  const seed = checkNumber('recomputeBatchNorm', 'seed', options.seed ?? 0, { integer: true });
  const saved = model.nonTrainableWeights.map((w) => tf.keep(w.read().clone()));
  const momenta = layers.map((l) => l.momentum);
  const n = x.shape[0];
  const count = Math.min(maxBatches, Math.ceil(n / batchSize));
  try {
    for (let t = 1; t <= count; t++) {
      // momentum (t-1)/t turns TF.js's moving average into the running mean of the batch statistics.
      for (const l of layers) l.momentum = (t - 1) / t;
      const start = (t - 1) * batchSize;
      withSeededMathRandom(deriveSeed(seed, t), () =>
        tf.tidy(() => {
          model.apply(x.slice(start, Math.min(batchSize, n - start)), { training: true });
        }),
      );
    }
  } finally {
    layers.forEach((l, i) => {
      l.momentum = momenta[i];
    });
  }
  return saved;
}

/** Puts back the non-trainable weights returned by {@link recomputeBatchNorm} and frees the copies. */
export function restoreBatchNorm(model: tf.LayersModel, saved: tf.Tensor[]): void {
  model.nonTrainableWeights.forEach((w, i) => {
    (w.read() as tf.Variable).assign(saved[i]);
  });
  tf.dispose(saved);
}
