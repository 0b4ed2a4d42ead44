/**
 * Tile for wasm by block copies. The stock kernel computes a source index per output element (~50 ns each,
 * measured), and TF.js tiles inside every BatchNorm backward pass (FusedBatchNorm's dx tiles 1/sqrt(var)
 * over the batch) and every broadcasting tf.where: ~10% of a BatchNorm MLP's training step on wasm.
 * Here each innermost row of x is copied once and every replication is a TypedArray.copyWithin.
 */
import type * as tf from '@tensorflow/tfjs';
import {
  isUnviewable,
  type KernelArgs,
  replaceWasmKernel,
  runStockKernel,
  type WasmBackendLike,
} from './heap.js';

/** The output shape of tiling `shape` by `reps`. */
function tiledShape(shape: readonly number[], reps: readonly number[]): number[] {
  return shape.map((s, i) => s * reps[i]);
}

/**
 * Writes tile(src, reps) into dst (both contiguous, row-major, same element type). Fills the block of axis
 * `axis` once from the source, then replicates it reps[axis] - 1 times in place.
 */
export function tileInto<T extends Float32Array | Int32Array | Uint8Array>(
  src: T,
  shape: readonly number[],
  reps: readonly number[],
  dst: T,
): void {
  const r = shape.length;
  const out = tiledShape(shape, reps);
  // Element strides of the source and of the output along each axis.
  const srcStride = new Array<number>(r);
  const outStride = new Array<number>(r);
  let s = 1;
  let o = 1;
  for (let a = r - 1; a >= 0; a--) {
    srcStride[a] = s;
    outStride[a] = o;
    s *= shape[a];
    o *= out[a];
  }
  const fill = (axis: number, from: number, to: number): void => {
    const block = shape[axis] * outStride[axis]; // one copy of the source along this axis
    if (axis === r - 1) {
      dst.set(src.subarray(from, from + shape[axis]), to);
    } else {
      for (let i = 0; i < shape[axis]; i++)
        fill(axis + 1, from + i * srcStride[axis], to + i * outStride[axis]);
    }
    for (let k = 1; k < reps[axis]; k++) dst.copyWithin(to + k * block, to, to + block);
  };
  if (r === 0 || out.some((n) => n === 0)) {
    if (r === 0 && dst.length > 0) dst[0] = src[0];
    return;
  }
  fill(0, 0, 0);
}

function tile(args: KernelArgs): tf.TensorInfo {
  const { x } = args.inputs;
  const { reps } = args.attrs as unknown as { reps: number[] };
  if (isUnviewable(x.dtype)) return runStockKernel('Tile', args);
  const backend = args.backend as WasmBackendLike;
  const out = backend.makeOutput(tiledShape(x.shape, reps), x.dtype);
  // Views taken after the allocation: makeOutput may grow the heap and detach older views.
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  tileInto(src, x.shape, reps, dst as typeof src);
  return out;
}

/** Replaces wasm's Tile with the block-copy version, once. False when wasm is not imported. */
export function installTile(): boolean {
  return replaceWasmKernel('Tile', tile);
}
