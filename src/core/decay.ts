/**
 * The one implementation of decoupled weight decay on an update: d' = d + rate * w (AdamW's form; the
 * step size then scales it with the rest, w <- w - eta*(d + rate*w)). Used by the `decoupledWeightDecay`
 * transform and by the `weightDecay` option of the sgd, momentum and adam directions, so the arithmetic
 * (and the bits) are the same everywhere.
 */
import * as tf from '@tensorflow/tfjs';

/** d + rate * w, or d itself when rate is 0. */
export function addDecayedWeights(update: tf.Tensor, param: tf.Tensor, rate: number): tf.Tensor {
  return rate === 0 ? update : tf.add(update, tf.mul(param, rate));
}
