/**
 * Quick tests for NaN and infinities in a float32 tensor on the wasm heap: the trigger of the NaN fixes
 * (nanElementwise.ts, nanPools.ts), which leave finite data to the stock kernels. One SIMD pass
 * (`any_non_finite` in kernels.wat) when the engine has wasm SIMD, a JavaScript loop otherwise.
 */
import * as tf from '@tensorflow/tfjs';
import { f32, offsetOf, type WasmBackendLike } from './heap.js';
import { simdKernels } from './simd/instance.js';

/** True when the float32 tensor `t` holds a NaN or an infinity. */
export function hasNonFinite(backend: WasmBackendLike, t: tf.TensorInfo): boolean {
  const n = tf.util.sizeFromShape(t.shape);
  if (n === 0) return false;
  const simd = simdKernels(backend);
  if (simd) return simd.any_non_finite(offsetOf(backend, t), n) === 1;
  const v = f32(backend, t);
  for (let i = 0; i < n; i++) if (!Number.isFinite(v[i])) return true;
  return false;
}

/** True when the float32 tensor `t` holds a NaN (the SIMD test first: finite data pays one fast pass). */
export function hasNaN(backend: WasmBackendLike, t: tf.TensorInfo): boolean {
  if (!hasNonFinite(backend, t)) return false;
  const v = f32(backend, t);
  for (let i = 0; i < v.length; i++) if (Number.isNaN(v[i])) return true;
  return false;
}
