/**
 * Tensors known to hold no NaN or infinity, remembered by their data. The fused kernels that write the
 * optimizer's new state and weights (LrfreeFusedAdam's m and v, LrfreeStepAlong's w + scale*d) test every
 * value as they write it; LrfreeAllFinite then skips those tensors instead of reading them from memory again.
 * Safe because TF.js never rewrites a tensor's data once written (a new value gets a new data id); a WeakSet
 * forgets a data id when TF.js drops it.
 */
import type * as tf from '@tensorflow/tfjs';

const knownFinite = new WeakSet<object>();

/** Records that every value of `info` is finite. */
export function rememberFinite(info: tf.TensorInfo): void {
  knownFinite.add(info.dataId as object);
}

/** True when a fused kernel found every value of `info` finite as it wrote them. */
export function knownToBeFinite(info: tf.TensorInfo): boolean {
  return knownFinite.has(info.dataId as object);
}
