/**
 * Conv2DBackpropInput for wasm: dx = col2im(dy @ W^T), the product on XNNPACK, the scatter-add on heap
 * views. The stock kernel (a direct loop) took 7 ms per call for a 64x11x11x16 dy and a 3x3x8x16 filter,
 * the largest share of a Fashion-MNIST CNN's training step. Images are processed in chunks so that the
 * [P, KH*KW*CI] column matrix stays within the im2col budget (16 MB).
 */
import * as tf from '@tensorflow/tfjs';
import { col2imAdd } from '../cpu/arrays/col2imAdd.js';
import { matMul, swapLast2 } from './batchMatMul.js';
import { colBudgetFloats } from './conv2dBackpropFilter.js';
import {
  copyRows,
  f32,
  type KernelArgs,
  replaceWasmKernel,
  runStockKernel,
  type WasmBackendLike,
} from './heap.js';

function conv2dBackpropInput(args: KernelArgs): tf.TensorInfo {
  const { dy, filter } = args.inputs;
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = args.attrs as unknown as {
    strides: [number, number] | number;
    pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
    dataFormat?: 'NHWC' | 'NCHW';
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    inputShape: [number, number, number, number];
  };
  if (dy.dtype !== 'float32' || filter.dtype !== 'float32' || (dataFormat ?? 'NHWC') !== 'NHWC') {
    return runStockKernel('Conv2DBackpropInput', args);
  }
  const info = tf.backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
  const backend = args.backend as WasmBackendLike;
  const { batchSize: N, outHeight: OH, outWidth: OW, outChannels: CO } = info;
  const K = info.filterHeight * info.filterWidth * info.inChannels;
  const perImage = OH * OW;
  // W^T [CO, K] once: the filter [KH, KW, CI, CO] is a [K, CO] matrix.
  const filterT = swapLast2(backend, { dataId: filter.dataId, shape: [K, CO], dtype: 'float32' });
  const out = backend.makeOutput(inputShape, 'float32');
  f32(backend, out).fill(0);
  const chunk = Math.max(1, Math.min(N, Math.floor(colBudgetFloats() / Math.max(1, K * perImage))));
  try {
    for (let n0 = 0; n0 < N; n0 += chunk) {
      const n1 = Math.min(N, n0 + chunk);
      // dy in NHWC already is [P, CO]: unchunked, a reshaped view of the same data, no copy.
      const dyc: tf.TensorInfo =
        chunk === N
          ? { dataId: dy.dataId, shape: [N * perImage, CO], dtype: 'float32' }
          : copyRows(backend, dy, n0 * perImage, (n1 - n0) * perImage, CO);
      const cols = matMul(backend, dyc, filterT);
      col2imAdd(f32(backend, cols), info, n0, n1, f32(backend, out));
      backend.disposeData(cols.dataId);
      if (dyc.dataId !== dy.dataId) backend.disposeData(dyc.dataId);
    }
  } finally {
    backend.disposeData(filterT.dataId);
  }
  return out;
}

/** Replaces wasm's Conv2DBackpropInput, once; false when wasm is not imported. */
export function installConv2dBackpropInput(): boolean {
  return replaceWasmKernel('Conv2DBackpropInput', conv2dBackpropInput);
}
