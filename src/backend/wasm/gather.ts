/**
 * GatherV2 for wasm by row copies. Every training batch of a data task is two gathers of rows (inputs and
 * labels), and every Embedding layer gathers rows. The stock kernel computes a source offset per element in
 * C++; here each gathered row is one TypedArray copy (or a short loop for narrow rows, where a copy call costs
 * more than the row). It also handles batchDims > 0, which stock wasm 4.22 gets wrong (it returned
 * uninitialised memory for the second batch in our test). String tensors keep the stock kernel.
 */
import * as tf from '@tensorflow/tfjs';
import {
  isUnviewable,
  type KernelArgs,
  replaceWasmKernel,
  runStockKernel,
  type WasmBackendLike,
} from './heap.js';

/** Rows narrower than this are copied element by element. */
const NARROW_ROW = 32;

/** The layout of a gather: x viewed as [batch, outer, dim, row], indices as [batch, n]. */
export interface GatherLayout {
  batch: number;
  outer: number;
  dim: number;
  row: number;
}

/**
 * out[b, o, i, :] = x[b, o, indices[b, i], :], out viewed as [batch, outer, n, row] (n = indices per batch).
 * Throws a clear error on an index outside [0, dim).
 */
export function gatherInto<T extends Float32Array | Int32Array | Uint8Array>(
  src: T,
  { batch, outer, dim, row }: GatherLayout,
  indices: ArrayLike<number>,
  dst: T,
): void {
  for (let i = 0; i < indices.length; i++) {
    const k = indices[i];
    if (!(k >= 0 && k < dim)) throw new Error(`GatherV2: the index value ${k} is not in [0, ${dim - 1}]`);
  }
  const n = indices.length / batch;
  let to = 0;
  for (let p = 0; p < batch * outer; p++) {
    const base = p * dim * row;
    const ids = Math.floor(p / outer) * n;
    for (let i = 0; i < n; i++) {
      const from = base + indices[ids + i] * row;
      if (row < NARROW_ROW) {
        for (let j = 0; j < row; j++) dst[to + j] = src[from + j];
      } else {
        dst.set(src.subarray(from, from + row), to);
      }
      to += row;
    }
  }
}

function gatherV2(args: KernelArgs): tf.TensorInfo {
  const { x, indices } = args.inputs;
  const { axis, batchDims } = args.attrs as unknown as { axis: number; batchDims: number };
  if (isUnviewable(x.dtype)) return runStockKernel('GatherV2', args);
  const a = tf.util.parseAxisParam(axis, x.shape)[0];
  const info = tf.backend_util.segment_util.collectGatherOpShapeInfo(
    x as tf.Tensor,
    indices as tf.Tensor,
    a,
    batchDims,
  );
  const layout = { batch: info.batchSize, outer: info.outerSize, dim: info.dimSize, row: info.sliceSize };
  const outShape = info.outputShape;
  const backend = args.backend as WasmBackendLike;
  const out = backend.makeOutput(outShape, x.dtype);
  if (tf.util.sizeFromShape(outShape) === 0) return out;
  // Views taken after the allocation: makeOutput may grow the heap and detach older views.
  const idx = backend.typedArrayFromHeap(indices);
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  gatherInto(src, layout, idx, dst as typeof src);
  return out;
}

/** Replaces wasm's GatherV2 with the row-copy version, once. False when wasm is not imported. */
export function installGather(): boolean {
  return replaceWasmKernel('GatherV2', gatherV2);
}
