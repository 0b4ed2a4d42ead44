/**
 * BatchMatMul for wasm. float32 products run on lrfree's SIMD kernel (batchedMatMul.ts), which reads
 * transposed operands through strides and packs `b` itself: in training XNNPACK repacked its weights operand
 * on every call (each step's weights and gradients are new tensors), which cost more than the product
 * saved. Where wasm SIMD cannot run lrfree's module, the stock kernel uses XNNPACK only when neither input
 * is transposed (and batch = 1), otherwise a naive loop at ~2 GFLOP/s; every Dense/LSTM backward product is
 * transposed, so there the operand is transposed with wasm's Transpose kernel (O(n^2), memory-bound) and
 * the O(n^3) product runs on XNNPACK.
 */
import * as tf from '@tensorflow/tfjs';
import { batchedMatMul, batchedShapes } from './batchedMatMul.js';
import { type KernelArgs, replaceWasmKernel, stockKernel, type WasmBackendLike } from './heap.js';
import { simdKernels } from './simd/instance.js';

/** The stock BatchMatMul kernel function (the XNNPACK one when called with both flags false). */
export function stockMatMul(): tf.KernelFunc {
  const k = stockKernel('BatchMatMul') ?? tf.getKernel('BatchMatMul', 'wasm');
  if (!k)
    throw new Error('lrfree: wasm BatchMatMul is not registered (import @tensorflow/tfjs-backend-wasm).');
  return k.kernelFunc;
}

/**
 * Non-transposed product a[M, K] @ b[K, N] on the XNNPACK path; inputs are not disposed.
 * Note XNNPACK caches the packed `b` by tensor id: never overwrite a tensor passed as `b`.
 */
export function matMul(backend: WasmBackendLike, a: tf.TensorInfo, b: tf.TensorInfo): tf.TensorInfo {
  return stockMatMul()({
    inputs: { a, b },
    backend: backend as unknown as tf.KernelBackend,
    attrs: { transposeA: false, transposeB: false },
  }) as tf.TensorInfo;
}

/** Swaps the last two axes with wasm's Transpose kernel (a new heap tensor the caller must dispose). */
export function swapLast2(backend: WasmBackendLike, t: tf.TensorInfo): tf.TensorInfo {
  const r = t.shape.length;
  const rows = t.shape[r - 2];
  const cols = t.shape[r - 1];
  const transpose = tf.getKernel('Transpose', 'wasm')!.kernelFunc;
  const out = transpose({
    inputs: { x: { dataId: t.dataId, shape: [rows, cols], dtype: t.dtype } },
    backend: backend as unknown as tf.KernelBackend,
    attrs: { perm: [1, 0] },
  }) as tf.TensorInfo;
  return { dataId: out.dataId, dtype: out.dtype, shape: [...t.shape.slice(0, -2), cols, rows] };
}

function batchOf(t: tf.TensorInfo): number {
  let s = 1;
  for (let i = 0; i < t.shape.length - 2; i++) s *= t.shape[i];
  return s;
}

function batchMatMul(args: KernelArgs): tf.TensorInfo {
  const { a, b } = args.inputs;
  const { transposeA, transposeB } = (args.attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean };
  const run = stockMatMul();
  const backend = args.backend as WasmBackendLike;
  const float = a.dtype === 'float32' && b.dtype === 'float32';
  if (float) {
    // lrfree's SIMD kernel where it runs, batched or not. Shapes that do not fit go to the stock kernel and
    // its error message.
    const kernels = simdKernels(backend);
    const shapes = batchedShapes(a, b, !!transposeA, !!transposeB);
    if (kernels && shapes) return batchedMatMul(backend, kernels, a, b, !!transposeA, !!transposeB, shapes);
  }
  // Without wasm SIMD: untransposed (XNNPACK already), batched or non-float products go to stock.
  if ((!transposeA && !transposeB) || batchOf(a) !== 1 || batchOf(b) !== 1 || !float) {
    return run(args as unknown as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
  }
  const attrs = { ...args.attrs, transposeA: false, transposeB: false };
  const call = (x: tf.TensorInfo, y: tf.TensorInfo) =>
    run({ inputs: { a: x, b: y }, backend: backend as unknown as tf.KernelBackend, attrs }) as tf.TensorInfo;
  if (!transposeA && preferSwapped(a, b)) {
    // a @ b^T = (b @ a^T)^T: transposes a and the output instead of the (larger) b, and XNNPACK packs
    // the small a^T as its weights. Measured on Dense dx = dy @ W^T when W is the big operand.
    const aT = swapLast2(backend, a);
    const outT = call(b, aT);
    backend.disposeData(aT.dataId);
    const out = swapLast2(backend, outT);
    backend.disposeData(outT.dataId);
    return out;
  }
  const at = transposeA ? swapLast2(backend, a) : a;
  const bt = transposeB ? swapLast2(backend, b) : b;
  try {
    return call(at, bt);
  } finally {
    if (at !== a) backend.disposeData(at.dataId);
    if (bt !== b) backend.disposeData(bt.dataId);
  }
}

/**
 * For a @ b^T: true when swapping moves fewer floats (transpose a, pack a^T, transpose the [m, n] output)
 * than the direct route (transpose b, pack b^T).
 */
function preferSwapped(a: tf.TensorInfo, b: tf.TensorInfo): boolean {
  const [m, k] = a.shape.slice(-2);
  const n = b.shape[b.shape.length - 2];
  return 2 * m * k + m * n < 2 * n * k;
}

/**
 * Replaces wasm's BatchMatMul with the transpose-routing version, once. Returns false when there is no
 * stock kernel to wrap (the wasm backend was not imported).
 */
export function installBatchMatMul(): boolean {
  return replaceWasmKernel('BatchMatMul', batchMatMul);
}
