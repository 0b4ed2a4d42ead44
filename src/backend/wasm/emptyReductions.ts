/**
 * Reductions over an empty axis on wasm. The stock kernels allocate the output (uninitialised heap memory)
 * and loop over zero elements, so `tf.sum(tf.zeros([0]))` returns whatever the heap held (seen: 3.6e-41).
 * Here the output keeps the stock kernel's shape and dtype and is filled with what the cpu backend (the
 * reference) returns: 0 for Sum, Mean, All, Any, ArgMax and ArgMin, 1 for Prod, NaN for float Max and Min
 * (0 for integers).
 */
import type * as tf from '@tensorflow/tfjs';
import { type KernelArgs, replaceWasmKernel, runStockKernel, type WasmBackendLike } from './heap.js';

/** The cpu backend's value of a reduction over an empty axis, per kernel and output dtype. */
const EMPTY_VALUE: Record<string, (dtype: tf.DataType) => number> = {
  Sum: () => 0,
  Prod: () => 1,
  Max: (dtype) => (dtype === 'float32' ? Number.NaN : 0),
  Min: (dtype) => (dtype === 'float32' ? Number.NaN : 0),
  Mean: () => 0,
  All: () => 0,
  Any: () => 0,
  ArgMax: () => 0,
  ArgMin: () => 0,
};

/** The reductions whose empty case is fixed here (Sum's own kernel calls {@link fillIfEmpty}). */
export const EMPTY_REDUCTIONS = Object.keys(EMPTY_VALUE);

/**
 * When the reduced input `x` is empty, overwrites the output `out` the stock kernel made (its shape and
 * dtype are right, its values are not) with the reference value; returns `out`.
 */
export function fillIfEmpty(
  name: string,
  x: tf.TensorInfo,
  out: tf.TensorInfo,
  backend: WasmBackendLike,
): tf.TensorInfo {
  if (x.shape.some((d) => d === 0) && !out.shape.some((d) => d === 0)) {
    backend.typedArrayFromHeap(out).fill(EMPTY_VALUE[name](out.dtype));
  }
  return out;
}

/** Replaces the stock reductions by versions that fill an empty reduction's output. False without wasm. */
export function installEmptyReductions(): string[] {
  return EMPTY_REDUCTIONS.filter(
    (name) =>
      name !== 'Sum' &&
      replaceWasmKernel(name, (args: KernelArgs) =>
        fillIfEmpty(name, args.inputs.x, runStockKernel(name, args), args.backend as WasmBackendLike),
      ),
  );
}
