/**
 * BatchMatMul on lrfree's SIMD kernel, batched (what attention computes) or not (every Dense layer). Stock
 * wasm runs batched or transposed products on a naive scalar loop (~2 GFLOP/s), and XNNPACK repacks its
 * weights operand whenever that tensor is new, which in training is every call (updated weights, fresh
 * gradients). Here each slice of `b` is packed once into 8-column panels by `pack_b`
 * (src/backend/wasm/simd/kernels.wat), reading a transposed `b` through strides, and each output slice is
 * one call of `matmul_packed`, which reads `a` where it lies on the heap (a transposed `a` through strides).
 * Batch dimensions broadcast as NumPy's do (size-1 axes repeat, missing leading axes count as 1).
 */
import type * as tf from '@tensorflow/tfjs';
import { offsetOf, type WasmBackendLike } from './heap.js';
import type { SimdKernels } from './simd/instance.js';
import { matMulPool, SPLIT_MIN_MACS } from './simd/pool.js';

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

/** The product on the SIMD kernel; `shapes` from {@link batchedShapes}. float32 only. */
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
  // Each slice of b packed once into 8-column panels (a transposed b is read through strides), then a
  // 128-byte scratch per thread for the kernel's partial tiles.
  const panelFloats = Math.ceil(n / 8) * 8 * k;
  // Split over helper threads (threaded build): products big enough, one slice (batched ones are many
  // small products, which the helpers' wake-ups would outweigh).
  const pool = count === 1 && m >= 8 && m * k * n >= SPLIT_MIN_MACS ? matMulPool(backend) : undefined;
  const threads = pool ? pool.helpers + 1 : 1;
  const packed = backend.makeOutput([slicesB * panelFloats + 32 * threads], 'float32');
  try {
    const ia = sliceIndices(outer, shapes.outerA);
    const ib = sliceIndices(outer, shapes.outerB);
    // Offsets after every allocation (they are stable; views would not be).
    const pa = offsetOf(backend, a);
    const pb = offsetOf(backend, b);
    const pc = offsetOf(backend, out);
    const pp = offsetOf(backend, packed);
    const [sbk, sbn] = transposeB ? [4, 4 * k] : [4 * n, 4];
    for (let s = 0; s < slicesB; s++)
      kernels.pack_b(pb + s * k * n * 4, pp + s * panelFloats * 4, k, n, sbk, sbn);
    const scratch = pp + slicesB * panelFloats * 4;
    const [sai, sak] = transposeA ? [4, 4 * m] : [4 * k, 4];
    if (pool) pool.matmul(kernels, pa, pp, pc, m, k, n, sai, sak, scratch);
    else
      for (let o = 0; o < count; o++) {
        kernels.matmul_packed(
          pa + ia[o] * m * k * 4,
          pp + ib[o] * panelFloats * 4,
          pc + o * m * n * 4,
          m,
          k,
          n,
          sai,
          sak,
          scratch,
        );
      }
  } finally {
    backend.disposeData(packed.dataId);
  }
  return out;
}
