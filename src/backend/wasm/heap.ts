/**
 * The slice of the wasm backend's (untyped, internal) API that the substitute kernels use, plus the marker
 * that makes patching idempotent. Kept in one place so a TF.js upgrade that moves these breaks loudly here.
 */
import * as tf from '@tensorflow/tfjs';

/** What lrfree uses of `BackendWasm` from @tensorflow/tfjs-backend-wasm 4.22. */
export interface WasmBackendLike {
  /** Allocates an output on the wasm heap (uninitialised memory). */
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  /** A view of a tensor's heap memory, created now: re-take it after any allocation (the heap may grow). */
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
  /** Adds a reference to a tensor's data (a kernel that returns its input's data, as Reshape does). */
  incRef(dataId: tf.DataId): void;
  /** Decrements the refcount and frees at zero. */
  disposeData(dataId: tf.DataId): boolean;
  /** The emscripten module; its HEAPU8 is used for memcpy between tensors. */
  wasm: { HEAPU8: Uint8Array };
  /** Heap bookkeeping: byte offset of each tensor. */
  dataIdMap: { get(dataId: tf.DataId): { memoryOffset: number } };
}

/** The arguments TF.js passes to a kernel function. */
export interface KernelArgs {
  inputs: Record<string, tf.TensorInfo>;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}

/** Marks kernel functions installed by lrfree, across module copies (src vs dist), to keep patching idempotent. */
export const LRFREE_KERNEL = Symbol.for('lrfree.kernel');

/** Tags `fn` as an lrfree kernel and returns it. */
export function markKernel<F extends tf.KernelFunc>(fn: F): F {
  (fn as unknown as Record<symbol, boolean>)[LRFREE_KERNEL] = true;
  return fn;
}

/** True when the kernel registered under (name, backend) is one of lrfree's. */
export function isLrfreeKernel(name: string, backendName: string): boolean {
  const k = tf.getKernel(name, backendName);
  return !!k && (k.kernelFunc as unknown as Record<symbol, boolean>)[LRFREE_KERNEL] === true;
}

/** A float32 view of a tensor on the wasm heap. */
export function f32(backend: WasmBackendLike, info: tf.TensorInfo): Float32Array {
  return backend.typedArrayFromHeap({
    dataId: info.dataId,
    shape: info.shape,
    dtype: 'float32',
  }) as Float32Array;
}

/** Byte offset of a tensor's data on the wasm heap. */
export function offsetOf(backend: WasmBackendLike, info: tf.TensorInfo): number {
  return backend.dataIdMap.get(info.dataId).memoryOffset;
}

/**
 * A fresh float32 tensor [rows, cols] holding rows first..first+rows-1 of `t` read as a [*, cols] matrix
 * (one memcpy on the heap). Fresh on purpose: XNNPACK caches packed operands by tensor id.
 */
export function copyRows(
  backend: WasmBackendLike,
  t: tf.TensorInfo,
  first: number,
  rows: number,
  cols: number,
): tf.TensorInfo {
  const out = backend.makeOutput([rows, cols], 'float32');
  const src = offsetOf(backend, t) + first * cols * 4;
  // HEAPU8 after the allocation: the heap may have grown.
  backend.wasm.HEAPU8.copyWithin(offsetOf(backend, out), src, src + rows * cols * 4);
  return out;
}

/** Throws a clear error for dtypes a substitute kernel does not handle. */
export function assertFloat32(kernel: string, ...infos: tf.TensorInfo[]): void {
  for (const t of infos) {
    if (t.dtype !== 'float32') throw new Error(`lrfree ${kernel} (wasm): float32 only, got ${t.dtype}.`);
  }
}

/** The stock kernels lrfree replaced on wasm, by name (this module copy's replacements). */
const stockKernels = new Map<string, tf.KernelConfig>();

/** The stock wasm kernel that {@link replaceWasmKernel} replaced under `name`, if this module replaced it. */
export function stockKernel(name: string): tf.KernelConfig | undefined {
  return stockKernels.get(name);
}

/**
 * Runs the stock kernel that lrfree replaced under `name` on `args`: the fallback of the copy kernels
 * (Tile, Slice, GatherV2) for the dtypes they do not handle.
 */
export function runStockKernel(name: string, args: KernelArgs): tf.TensorInfo {
  return stockKernel(name)!.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
}

/** True for dtypes the copy kernels leave to the stock kernel (no typed heap view for them). */
export function isUnviewable(dtype: tf.DataType): boolean {
  return dtype === 'string' || dtype === 'complex64';
}

/**
 * Replaces the stock wasm kernel `name` with `fn`, once, keeping the stock setup (it cwraps the C++ entry
 * point, which the stock kernel function that `fn` may defer to still needs). False when wasm is not
 * imported; a second call finds lrfree's kernel installed and changes nothing.
 */
export function replaceWasmKernel(name: string, fn: (args: KernelArgs) => tf.TensorInfo): boolean {
  const current = tf.getKernel(name, 'wasm');
  if (!current) return false;
  if (isLrfreeKernel(name, 'wasm')) return true;
  stockKernels.set(name, current);
  tf.unregisterKernel(name, 'wasm');
  tf.registerKernel({
    kernelName: name,
    backendName: 'wasm',
    setupFunc: current.setupFunc,
    disposeFunc: current.disposeFunc,
    kernelFunc: markKernel(fn as unknown as tf.KernelFunc),
  });
  return true;
}
