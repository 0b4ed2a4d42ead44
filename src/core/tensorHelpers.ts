/**
 * Small tensor helpers of the optimizer's step: the variables a `minimize` without a var list trains, keeping
 * a step's outputs past `tf.tidy`, and per-group dot products read back in one sync. Apart from the
 * optimizer class because they hold no optimizer state.
 */
import * as tf from '@tensorflow/tfjs';
import type { ParamGroup } from './params.js';

/** All trainable registered variables (what tf.Optimizer uses when no varList is given). */
export function trainableVariables(): tf.Variable[] {
  return Object.values(tf.engine().registeredVariables).filter((v) => v.trainable);
}

/** tf.keep on every tensor of the lists; returns the first list. */
export function keepAll<T extends tf.Tensor[]>(first: T, ...rest: tf.Tensor[][]): T {
  for (const t of first) tf.keep(t);
  for (const list of rest) for (const t of list) tf.keep(t);
  return first;
}

/** Per-group dot products <a_l, b_l>, read back with one sync. */
export function groupDots(
  groups: readonly ParamGroup[],
  a: readonly tf.Tensor[],
  b: readonly tf.Tensor[],
): number[] {
  const t = tf.tidy(() =>
    tf.stack(groups.map((g) => tf.addN(g.indices.map((i) => tf.sum(tf.mul(a[i], b[i])))))),
  );
  const values = Array.from(t.dataSync());
  t.dispose();
  return values;
}
