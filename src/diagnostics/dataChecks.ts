/**
 * Optimizer-free checks that a red flag consults before it blames the data or the loss (issue #21): a
 * flag caused by a short or badly scaled training run must not read as "your labels are shuffled".
 *  - Do the labels carry signal? A nearest-class-mean classifier on standardised inputs, fitted on the
 *    training split, scored on the held-out split: no training, no learning rate.
 *  - Does the loss reward right answers? The loss of perfect predictions against that of predicting the
 *    class shares: a sign bug makes the perfect prediction the worse one.
 */
import * as tf from '@tensorflow/tfjs';
import { classesOf, type DataSplit, type LossSpec, lossFunction } from './common.js';

/**
 * Held-out accuracy of the nearest class mean on standardised inputs (each input column centred and
 * scaled by its training standard deviation; images are flattened). NaN without one-hot targets.
 * Shuffled labels give class means that do not separate the held-out rows: chance accuracy.
 */
export function nearestMeanAccuracy(train: DataSplit, heldOut: DataSplit): number {
  const k = classesOf(train.y);
  if (k === 0 || classesOf(heldOut.y) !== k) return Number.NaN;
  return tf.tidy(() => {
    const flat = (x: tf.Tensor) => x.reshape([x.shape[0], -1]) as tf.Tensor2D;
    const xt = flat(train.x);
    const { mean, variance } = tf.moments(xt, 0);
    const sd = tf.sqrt(tf.add(variance, 1e-12));
    const z = (x: tf.Tensor2D) => tf.div(tf.sub(x, mean), sd) as tf.Tensor2D;
    const zt = z(xt);
    const yt = train.y as tf.Tensor2D;
    // class means: (Y^T Z) / counts
    const counts = tf.sum(yt, 0).reshape([k, 1]);
    const means = tf.div(tf.matMul(yt, zt, true, false), tf.maximum(counts, 1)) as tf.Tensor2D;
    const zh = z(flat(heldOut.x));
    // argmin ||z - m||^2 = argmax (z.m - |m|^2 / 2)
    const score = tf.sub(tf.matMul(zh, means, false, true), tf.mul(0.5, tf.sum(tf.square(means), 1)));
    const right = tf.equal(tf.argMax(score, 1), tf.argMax(heldOut.y, 1));
    return tf.mean(tf.cast(right, 'float32')).dataSync()[0];
  });
}

/**
 * The loss of perfect predictions (the targets themselves) and of predicting the targets' column means
 * (the class shares), on `split`. A loss that rewards right answers gives the perfect predictions the
 * lower value; a sign bug reverses that.
 */
export function lossRewardsRightAnswers(
  split: DataSplit,
  loss?: LossSpec,
): { perfect: number; shares: number; rewards: boolean } {
  const fn = lossFunction(loss);
  const [perfect, shares] = tf.tidy(() => {
    const y = split.y;
    const mean = tf.mul(tf.onesLike(y), tf.mean(y, 0));
    return [fn(y, y).dataSync()[0], fn(y, mean).dataSync()[0]];
  });
  return { perfect, shares, rewards: Number.isFinite(perfect) && perfect < shares };
}
