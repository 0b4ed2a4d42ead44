/** The tensors a probe or a commit moves along: the search direction, the update, or a mix per group. */
import type * as tf from '@tensorflow/tfjs';
import type { Along } from './types.js';

/**
 * Returns a function that maps an `Along` to the per-variable tensors to move along. A per-group mix
 * is built once per pattern and then returned as the same array, so that a commit at the last probed
 * point is recognised (the probe session compares the direction by identity) and needs no second move.
 *
 * @param search the search direction, per variable
 * @param update the committed update, per variable
 * @param groupOf the group index of each variable
 */
export function alongPicker(
  search: readonly tf.Tensor[],
  update: readonly tf.Tensor[],
  groupOf: readonly number[],
): (along: Along) => readonly tf.Tensor[] {
  const mixes = new Map<string, tf.Tensor[]>();
  return (along) => {
    if (along === 'search') return search;
    if (along === 'update') return update;
    const key = along.join(',');
    let mix = mixes.get(key);
    if (!mix) {
      mix = groupOf.map((g, i) => {
        const a = along[g];
        if (a !== 'search' && a !== 'update') throw new Error(`along: no direction for group ${g}`);
        return a === 'search' ? search[i] : update[i];
      });
      mixes.set(key, mix);
    }
    return mix;
  };
}
