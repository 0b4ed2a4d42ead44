/**
 * The held-out split in equal chunks, evaluated in one pass: the model predicts the whole split in
 * batches of up to 1000 rows (as `evaluate` does), the loss of every row (and whether it is predicted
 * right) is read back once, and each chunk's loss is the mean over its rows. Paired comparisons of two
 * runs use the chunks; the split's loss and accuracy are their row-weighted means.
 */
import * as tf from '@tensorflow/tfjs';
import { type DataSplit, hasAccuracy, type LossSpec, lossFunction, predictAll, sliceRows } from './common.js';

/** The loss of each chunk, and the whole split's loss (and accuracy, for one-hot labels). */
export interface ChunkEvaluation {
  loss: number;
  accuracy?: number;
  chunks: number[];
}

/**
 * The loss of each row, as a 1-D tensor: the built-in losses' per-row values (their mean is what
 * `lossFunction` takes), or a custom loss's output when it has one value (or one row of values) per
 * example. Undefined when a custom loss returns something else (a scalar): then chunks are evaluated
 * one by one.
 */
function rowLosses(spec: LossSpec | undefined, y: tf.Tensor, p: tf.Tensor): tf.Tensor1D | undefined {
  const n = y.shape[0];
  const perRow = (t: tf.Tensor) => (t.rank === 1 ? t : tf.mean(t, [...Array(t.rank).keys()].slice(1)));
  if (spec === undefined || spec === 'categoricalCrossentropy')
    return tf.metrics.categoricalCrossentropy(y, p) as tf.Tensor1D;
  if (spec === 'meanSquaredError') return perRow(tf.square(tf.sub(p, y))) as tf.Tensor1D;
  const out = spec(y, p);
  return out.rank >= 1 && out.shape[0] === n ? (perRow(out) as tf.Tensor1D) : undefined;
}

/**
 * One pass over the split in `k` equal chunks (the last takes the remainder): the loss of each chunk,
 * and the whole split's loss and accuracy as the row-weighted means of the chunks'. Cost: one forward
 * pass over the split (in batches of up to `batchSize` rows) and one read-back of its rows' losses.
 */
export function chunkEvaluation(
  model: tf.LayersModel,
  split: DataSplit,
  loss?: LossSpec,
  k = 10,
  batchSize = 1000,
): ChunkEvaluation {
  const n = split.x.shape[0];
  const parts = Math.max(1, Math.min(k, n));
  const size = Math.floor(n / parts);
  const acc = hasAccuracy(split.y);
  const lens = Array.from({ length: parts }, (_, i) => (i === parts - 1 ? n - i * size : size));
  const rows = tf.tidy(() => {
    const pieces: tf.Tensor[] = [];
    for (let start = 0; start < n; start += batchSize)
      pieces.push(predictAll(model, sliceRows(split.x, start, Math.min(batchSize, n - start))));
    const p = pieces.length === 1 ? pieces[0] : tf.concat(pieces, 0);
    const l = rowLosses(loss, split.y, p);
    if (l === undefined) {
      // A custom loss with a scalar output: its mean over each chunk, chunk by chunk.
      const fn = lossFunction(loss);
      const perChunk = lens.map((len, i) =>
        tf.reshape(fn(sliceRows(split.y, i * size, len), sliceRows(p, i * size, len)), []),
      );
      const byRow = tf.concat(perChunk.map((c, i) => tf.tile(tf.reshape(c, [1]), [lens[i]])));
      return acc ? tf.stack([byRow, right(split.y, p)]) : tf.stack([byRow]);
    }
    return acc ? tf.stack([tf.cast(l, 'float32'), right(split.y, p)]) : tf.stack([tf.cast(l, 'float32')]);
  });
  let read: Float32Array;
  try {
    read = rows.dataSync() as Float32Array;
  } finally {
    rows.dispose();
  }
  const chunks: number[] = [];
  let total = 0;
  let hits = 0;
  for (let i = 0; i < parts; i++) {
    let s = 0;
    for (let r = i * size; r < i * size + lens[i]; r++) {
      s += read[r];
      if (acc) hits += read[n + r];
    }
    chunks.push(s / lens[i]);
    total += s;
  }
  return acc ? { loss: total / n, accuracy: hits / n, chunks } : { loss: total / n, chunks };
}

/** 1 where the prediction's largest column is the label's, else 0. */
function right(y: tf.Tensor, p: tf.Tensor): tf.Tensor1D {
  return tf.cast(tf.equal(tf.argMax(p, 1), tf.argMax(y, 1)), 'float32') as tf.Tensor1D;
}
