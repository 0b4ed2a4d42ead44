/**
 * One Adam update of the moments and the direction, on the fastest path available: the fused wasm kernel
 * (src/backend/wasm/fusedAdam.ts, reached through src/core/fastKernels.ts) when it is installed, else TF.js ops. Both give bit-identical results.
 */
import * as tf from '@tensorflow/tfjs';
import { FUSED_ADAM, type FusedAdamAttrs, fusedAdamAvailable } from '../core/fastKernels.js';

/** The constants of one Adam step. */
export interface AdamConstants {
  beta1: number;
  beta2: number;
  epsilon: number;
  /** 1-based step number (bias correction). */
  step: number;
}

/** New moments `m`, `v`, the update direction `d` and, if asked, the search direction `s`. */
export interface AdamMoments {
  m: tf.Tensor;
  v: tf.Tensor;
  /** P * m / (1 - beta1^k), with P = 1 / (sqrt(v / (1 - beta2^k)) + epsilon). */
  d: tf.Tensor;
  /** P * g: the line-search direction (ALGORITHMS.md §2.1, trap T5). */
  s?: tf.Tensor;
}

/**
 * m <- b1*m + (1-b1)g; v <- b2*v + (1-b2)g^2; den = sqrt(v/c2) + eps; d = (m/c1)/den; s = g/den.
 * `path` forces a path (tests); by default the fused kernel is used when available.
 */
export function adamMoments(
  g: tf.Tensor,
  m0: tf.Tensor,
  v0: tf.Tensor,
  c: AdamConstants,
  withSearch: boolean,
  path: 'auto' | 'ops' = 'auto',
): AdamMoments {
  const c1 = 1 - c.beta1 ** c.step;
  const c2 = 1 - c.beta2 ** c.step;
  if (path === 'auto' && fusedAdamAvailable()) {
    const attrs: FusedAdamAttrs = { beta1: c.beta1, beta2: c.beta2, epsilon: c.epsilon, c1, c2, withSearch };
    const [m, v, d, s] = tf
      .engine()
      .runKernel(FUSED_ADAM, { g, m: m0, v: v0 }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
    return { m, v, d, s };
  }
  const m = tf.add(tf.mul(m0, c.beta1), tf.mul(g, 1 - c.beta1));
  const v = tf.add(tf.mul(v0, c.beta2), tf.mul(tf.square(g), 1 - c.beta2));
  const den = tf.add(tf.sqrt(tf.div(v, c2)), c.epsilon);
  const d = tf.div(tf.div(m, c1), den);
  return { m, v, d, s: withSearch ? tf.div(g, den) : undefined };
}
