/**
 * Sum over leading axes on wasm (column sums): every bias, layer-norm and broadcast gradient reduces a
 * [batch * time, features] tensor over its rows. Stock wasm reduces only innermost axes, so it first
 * transposes the whole input with its element-by-element Transpose, then sums; here one SIMD pass
 * (`col_sum` in src/backend/wasm/simd/kernels.wat) adds the rows in place. Other reductions (innermost
 * axes, mixed axes, int32) go to the stock kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { fillIfEmpty } from './emptyReductions.js';
import {
  type KernelArgs,
  offsetOf,
  replaceWasmKernel,
  runStockKernel,
  type WasmBackendLike,
} from './heap.js';
import { simdKernels } from './simd/instance.js';

/**
 * The number of leading axes `axes` reduces, when they are exactly the first few (0, 1, ..., p - 1) and not
 * all of them; otherwise 0.
 */
export function leadingAxes(axes: readonly number[], rank: number): number {
  const sorted = [...new Set(axes)].sort((a, b) => a - b);
  if (sorted.length === 0 || sorted.length >= rank) return 0;
  return sorted.every((a, i) => a === i) ? sorted.length : 0;
}

function sum(args: KernelArgs): tf.TensorInfo {
  const { x } = args.inputs;
  const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
  const backend = args.backend as WasmBackendLike;
  const kernels = simdKernels(backend);
  const stock = () => fillIfEmpty('Sum', x, runStockKernel('Sum', args), backend);
  if (x.dtype !== 'float32' || !kernels) return stock();
  const axes = tf.util.parseAxisParam(axis, x.shape);
  const p = leadingAxes(axes, x.shape.length);
  if (p === 0) return stock();
  const rows = tf.util.sizeFromShape(x.shape.slice(0, p));
  const kept = x.shape.slice(p);
  const out = backend.makeOutput(keepDims ? [...new Array(p).fill(1), ...kept] : kept, 'float32');
  kernels.col_sum(offsetOf(backend, x), offsetOf(backend, out), rows, tf.util.sizeFromShape(kept));
  return fillIfEmpty('Sum', x, out, backend);
}

/** Replaces wasm's Sum with the column-sum version for leading axes, once. False when wasm is not imported. */
export function installSum(): boolean {
  return replaceWasmKernel('Sum', sum);
}
