/**
 * The line arithmetic auto()'s direction, conjugate gradients and scale rule share: the inner product of
 * two lists of tensors, read back, and the minimiser of the parabola one probe along a line gives.
 */
import * as tf from '@tensorflow/tfjs';

/** <a, b> summed over all tensors, read back. */
export function dotAll(a: readonly tf.Tensor[], b: readonly tf.Tensor[]): number {
  const t = tf.addN(a.map((ai, i) => tf.sum(tf.mul(ai, b[i]))));
  const out = t.dataSync()[0];
  t.dispose();
  return out;
}

/**
 * The minimiser of the parabola through phi(0), phi'(0) = -slope and phi(eta), clamped to
 * [lo*eta, hi*eta] (hi when the parabola has no minimum).
 */
export function recentre(
  eta: number,
  phi0: number,
  slope: number,
  phi: number,
  lo: number,
  hi: number,
): number {
  const curv = (2 * (phi - phi0 + eta * slope)) / (eta * eta);
  const t = curv > 0 ? slope / curv : hi * eta;
  return Math.min(hi * eta, Math.max(lo * eta, Number.isFinite(t) ? t : lo * eta));
}
