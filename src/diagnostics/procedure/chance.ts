/** Chance-level baselines of one-hot targets: what a model that learned nothing scores. */
import * as tf from '@tensorflow/tfjs';
import { classesOf } from '../common.js';

/** Margin above chance that counts as learned: 3 standard errors of the accuracy + 2%. */
export function chanceMargin(chance: number, n: number): number {
  return 3 * Math.sqrt((chance * (1 - chance)) / Math.max(n, 1)) + 0.02;
}

/** Cross-entropy of predicting the class shares of one-hot targets (what a model learns without inputs). */
export function priorCrossEntropy(y: tf.Tensor): number {
  if (classesOf(y) === 0) return Number.NaN;
  const shares = tf.tidy(() => tf.mean(y, 0).dataSync());
  return -Array.from(shares).reduce((s, p) => s + (p > 0 ? p * Math.log(p) : 0), 0);
}

/** Share of the most frequent class in one-hot targets (the accuracy of always guessing it). */
export function majorityShare(y: tf.Tensor): number {
  if (classesOf(y) === 0) return Number.NaN;
  return tf.tidy(() => {
    const counts = tf.sum(tf.oneHot(tf.argMax(y, 1), y.shape[1]!), 0);
    return tf.max(counts).dataSync()[0] / y.shape[0];
  });
}
