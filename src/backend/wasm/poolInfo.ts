/** The pooling geometry of a MaxPool / AvgPool / MaxPoolGrad call, from its input shape and attributes. */
import * as tf from '@tensorflow/tfjs';

/** The attributes of TF.js's 2-D pooling kernels that fix the window geometry. */
interface PoolAttrs {
  filterSize: [number, number] | number;
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** `computePool2DInfo` of an NHWC input `shape` under the kernel's attributes (dilation 1). */
export function poolInfo(
  shape: readonly number[],
  attrs: tf.NamedAttrMap | undefined,
): tf.backend_util.Conv2DInfo {
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as PoolAttrs;
  return tf.backend_util.computePool2DInfo(
    shape as [number, number, number, number],
    filterSize,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
}
