/**
 * Batched BatchMatMul (batch > 1, what attention computes) on lrfree's SIMD kernel. Stock wasm runs these
 * on a naive scalar loop (~2 GFLOP/s); XNNPACK would need a fresh operator (a packing of `b`) per slice.
 * Here each slice is one call of `matmul` in src/backend/wasm/simd/kernels.wat, reading the operands where
 * they lie on the heap: a transposed `a` is read through strides, a transposed `b` is first transposed
 * slice-wise by wasm's own Transpose kernel (O(k n) per slice against the product's O(m k n)). Batch
 * dimensions broadcast as NumPy's do (size-1 axes repeat, missing leading axes count as 1).
 */
import * as tf from '@tensorflow/tfjs';
import { offsetOf, type WasmBackendLike } from './heap.js';
import type { SimdKernels } from './simd/instance.js';

/** The product's dimensions and the output's batch shape, or undefined when the shapes do not fit. */
export interface BatchedShapes {
  m: number;
  k: number;
  n: number;
  outerA: number[];
  outerB: number[];
  outer: number[];
}

/**
 * The dimensions of `a @ b` with the transpose flags, or undefined when the inner sizes differ or the batch
 * shapes do not broadcast (the caller leaves those to the stock kernel, whose error message it keeps).
 */
export function batchedShapes(
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
): BatchedShapes | undefined {
  const ra = a.shape.length;
  const rb = b.shape.length;
  if (ra < 2 || rb < 2) return undefined;
  const [m, k] = transposeA ? [a.shape[ra - 1], a.shape[ra - 2]] : [a.shape[ra - 2], a.shape[ra - 1]];
  const [kb, n] = transposeB ? [b.shape[rb - 1], b.shape[rb - 2]] : [b.shape[rb - 2], b.shape[rb - 1]];
  if (k !== kb) return undefined;
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const rank = Math.max(outerA.length, outerB.length);
  const outer: number[] = [];
  for (let d = 0; d < rank; d++) {
    const da = outerA[d - rank + outerA.length] ?? 1;
    const db = outerB[d - rank + outerB.length] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return undefined;
    outer.push(da === 1 ? db : da);
  }
  return { m, k, n, outerA, outerB, outer };
}

/** For each output slice (row-major over `outer`), the index of the input slice it reads (broadcasting). */
export function sliceIndices(outer: number[], inputOuter: number[]): Int32Array {
  const count = outer.reduce((p, d) => p * d, 1);
  const rank = outer.length;
  // Stride of each output axis in the input's slices; 0 where the input has size 1 (or lacks the axis).
  const strides = new Array<number>(rank).fill(0);
  let s = 1;
  for (let d = rank - 1; d >= 0; d--) {
    const size = inputOuter[d - rank + inputOuter.length] ?? 1;
    strides[d] = size === 1 ? 0 : s;
    s *= size;
  }
  const out = new Int32Array(count);
  for (let o = 0; o < count; o++) {
    let rest = o;
    let index = 0;
    for (let d = rank - 1; d >= 0; d--) {
      index += (rest % outer[d]) * strides[d];
      rest = Math.floor(rest / outer[d]);
    }
    out[o] = index;
  }
  return out;
}

/** `t` read as [slices, rows, cols] with its last two axes swapped (a new tensor the caller disposes). */
function transposeSlices(backend: WasmBackendLike, t: tf.TensorInfo, slices: number): tf.TensorInfo {
  const rows = t.shape[t.shape.length - 2];
  const cols = t.shape[t.shape.length - 1];
  return tf.getKernel('Transpose', 'wasm')!.kernelFunc({
    inputs: { x: { dataId: t.dataId, shape: [slices, rows, cols], dtype: t.dtype } },
    backend: backend as unknown as tf.KernelBackend,
    attrs: { perm: [0, 2, 1] },
  }) as tf.TensorInfo;
}

/** The batched product on the SIMD kernel; `shapes` from {@link batchedShapes}. float32 only. */
export function batchedMatMul(
  backend: WasmBackendLike,
  kernels: SimdKernels,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
  shapes: BatchedShapes,
): tf.TensorInfo {
  const { m, k, n, outer } = shapes;
  const slicesB = shapes.outerB.reduce((p, d) => p * d, 1);
  const out = backend.makeOutput([...outer, m, n], 'float32');
  const count = outer.reduce((p, d) => p * d, 1);
  if (count * m * n === 0) return out;
  const bRows = transposeB ? transposeSlices(backend, b, slicesB) : b;
  try {
    const ia = sliceIndices(outer, shapes.outerA);
    const ib = sliceIndices(outer, shapes.outerB);
    // Offsets after every allocation (they are stable; views would not be).
    const pa = offsetOf(backend, a);
    const pb = offsetOf(backend, bRows);
    const pc = offsetOf(backend, out);
    const [sai, sak] = transposeA ? [4, 4 * m] : [4 * k, 4];
    for (let o = 0; o < count; o++) {
      kernels.matmul(pa + ia[o] * m * k * 4, pb + ib[o] * k * n * 4, pc + o * m * n * 4, m, k, n, sai, sak);
    }
  } finally {
    if (bRows !== b) backend.disposeData(bRows.dataId);
  }
  return out;
}
