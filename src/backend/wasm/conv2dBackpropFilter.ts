/**
 * Conv2DBackpropFilter for wasm (stock wasm has none, so CNNs cannot train there). Two strategies, chosen
 * by shape: a direct JS loop on the heap for tiny products, else transposed im2col written straight into a
 * heap tensor followed by one XNNPACK matmul dW[K, CO] = colT[K, P] @ dy[P, CO] per chunk of images.
 */
import * as tf from '@tensorflow/tfjs';
import { conv2dFilterDirect } from '../cpu/arrays/conv2dFilterDirect.js';
import { im2colT } from '../cpu/arrays/im2colT.js';
import { matMul } from './batchMatMul.js';
import { assertFloat32, copyRows, f32, type KernelArgs, markKernel, type WasmBackendLike } from './heap.js';

/** Largest im2col chunk, in floats (16 MB): bounds memory for big batches at no measurable cost. */
let colBudget = 1 << 22;

/** The im2col / col2im chunk budget in floats (Conv2DBackpropInput chunks by it too). */
export function colBudgetFloats(): number {
  return colBudget;
}

/** Sets the im2col chunk budget in floats and returns the previous one (tests use it to force chunking). */
export function setColBudget(floats: number): number {
  const prev = colBudget;
  colBudget = floats;
  return prev;
}

/** Below this many multiply-adds the matmul's fixed costs (allocation, packing) exceed the JS loop. */
const DIRECT_MAX_MACS = 1 << 16;

/** Filter-gradient geometry of a Conv2DBackpropFilter call, NHWC only (wasm's Conv2D is NHWC only). */
export function filterInfo(xShape: number[], attrs: tf.NamedAttrMap): tf.backend_util.Conv2DInfo {
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as {
    strides: [number, number] | number;
    pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
    dataFormat: 'NHWC' | 'NCHW';
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    filterShape: [number, number, number, number];
  };
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    tf.backend_util.convertConv2DDataFormat(dataFormat ?? 'NHWC'),
  );
}

/** True when the direct loop is expected to beat im2col + matmul for this geometry. */
export function preferDirect(info: tf.backend_util.Conv2DInfo): boolean {
  const P = info.batchSize * info.outHeight * info.outWidth;
  const K = info.filterHeight * info.filterWidth * info.inChannels;
  return K * P * info.outChannels <= DIRECT_MAX_MACS || info.outChannels === 1;
}

/** im2col + XNNPACK path; returns a fresh heap tensor of `info.filterShape`. */
function viaMatMul(
  backend: WasmBackendLike,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): tf.TensorInfo {
  const { batchSize: N, outHeight: OH, outWidth: OW, outChannels: CO } = info;
  const K = info.filterHeight * info.filterWidth * info.inChannels;
  const perImage = OH * OW;
  const chunk = Math.max(1, Math.min(N, Math.floor(colBudget / (K * perImage))));
  if (chunk === N) {
    const colT = backend.makeOutput([K, N * perImage], 'float32');
    im2colT(f32(backend, x), info, 0, N, f32(backend, colT));
    // dy in NHWC already is [P, CO]: a reshaped view of the same data, no copy.
    const dy2 = { dataId: dy.dataId, shape: [N * perImage, CO], dtype: dy.dtype };
    const res = matMul(backend, colT, dy2);
    backend.disposeData(colT.dataId);
    return { dataId: res.dataId, shape: info.filterShape, dtype: 'float32' };
  }
  // Chunked: accumulate the per-chunk products in Float64 (also keeps float32 sums short).
  const acc = new Float64Array(K * CO);
  for (let n0 = 0; n0 < N; n0 += chunk) {
    const n1 = Math.min(N, n0 + chunk);
    const P = (n1 - n0) * perImage;
    const colT = backend.makeOutput([K, P], 'float32');
    // A fresh dy slice each chunk: XNNPACK caches packed weights by tensor id, so reuse would be stale.
    const dyc = copyRows(backend, dy, n0 * perImage, P, CO);
    im2colT(f32(backend, x), info, n0, n1, f32(backend, colT));
    const res = matMul(backend, colT, dyc);
    const r = f32(backend, res);
    for (let i = 0; i < r.length; i++) acc[i] += r[i];
    backend.disposeData(res.dataId);
    backend.disposeData(colT.dataId);
    backend.disposeData(dyc.dataId);
  }
  const out = backend.makeOutput(info.filterShape, 'float32');
  f32(backend, out).set(acc);
  return out;
}

function conv2dBackpropFilter(args: KernelArgs): tf.TensorInfo {
  const { x, dy } = args.inputs;
  const backend = args.backend as WasmBackendLike;
  assertFloat32('Conv2DBackpropFilter', x, dy);
  const info = filterInfo(x.shape, args.attrs ?? {});
  if (info.dataFormat !== 'channelsLast') {
    throw new Error("lrfree Conv2DBackpropFilter (wasm): dataFormat 'NHWC' only, as wasm's Conv2D.");
  }
  if (preferDirect(info)) {
    const out = backend.makeOutput(info.filterShape, 'float32');
    conv2dFilterDirect(f32(backend, x), f32(backend, dy), info, f32(backend, out));
    return out;
  }
  return viaMatMul(backend, x, dy, info);
}

/** Kernel config for `tf.registerKernel`. */
export const conv2dBackpropFilterConfig: tf.KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: markKernel(conv2dBackpropFilter as unknown as tf.KernelFunc),
};
