/**
 * Elementwise wasm kernels that lose a NaN where the cpu backend (the reference) keeps it:
 * - ClipByValue and Relu6 clamp with XNNPACK's pseudo-min/max, which return the bound for a NaN:
 *   `tf.clipByValue(NaN, 1e-7, 1 - 1e-7)` gave 1e-7, so a cross-entropy of an all-NaN prediction was a
 *   finite 16.1 (cpu: NaN); Relu6 gave 0.
 * - Relu gave 0 for a NaN with its sign bit set, the NaN that wasm arithmetic makes on x86 (0 * Inf,
 *   Inf - Inf, 0 / 0), and kept only the NaN JavaScript writes.
 * - Maximum and Minimum returned the other operand when the second one was NaN (cpu: `Math.max`, NaN).
 * - Pow follows C's `powf`: 1 for `pow(1, NaN)`, `pow(1, ±Inf)` and `pow(-1, ±Inf)` (cpu: `Math.pow`, NaN).
 * Each runs the stock kernel unless its float32 input holds a NaN (Pow: a non-finite exponent), checked in one
 * SIMD pass; then ClipByValue, Relu6 and Relu put NaN back where the input was NaN, and Maximum, Minimum and Pow
 * are computed with cpu's formula (broadcasting as cpu does). Finite data keeps the stock kernels' speed
 * and numbers. ClipByValue of int32 runs cpu's loop (the stock kernel read ints as floats); other dtypes go
 * to the stock kernels.
 */
import * as tf from '@tensorflow/tfjs';
import { f32, type KernelArgs, replaceWasmKernel, runStockKernel, type WasmBackendLike } from './heap.js';
import { hasNaN, hasNonFinite } from './nonFinite.js';

/**
 * cpu's ClipByValue on int32 (stock wasm's reads the ints as float bits: [-5, 9] clipped to [-1, 4] gave
 * [-1082130432, 9]); the bounds are truncated on the way into the int32 output, as on cpu.
 */
function clipInt32(backend: WasmBackendLike, x: tf.TensorInfo, lo: number, hi: number): tf.TensorInfo {
  const out = backend.makeOutput(x.shape, 'int32');
  // Views after the output's allocation (the heap may have grown).
  const xv = backend.typedArrayFromHeap(x);
  const ov = backend.typedArrayFromHeap(out);
  for (let i = 0; i < xv.length; i++) ov[i] = xv[i] > hi ? hi : xv[i] < lo ? lo : xv[i];
  return out;
}

/** Clamps whose stock kernel maps NaN to a bound: after it, NaN goes back where `x` was NaN. */
function clampKeepingNaN(name: 'ClipByValue' | 'Relu6' | 'Relu') {
  return (args: KernelArgs): tf.TensorInfo => {
    const { x } = args.inputs;
    const backend = args.backend as WasmBackendLike;
    if (name === 'ClipByValue' && x.dtype === 'int32') {
      const { clipValueMin, clipValueMax } = args.attrs as unknown as {
        clipValueMin: number;
        clipValueMax: number;
      };
      return clipInt32(backend, x, clipValueMin, clipValueMax);
    }
    const out = runStockKernel(name, args);
    if (x.dtype !== 'float32' || !hasNaN(backend, x)) return out;
    // Views after the output's allocation (the heap may have grown).
    const xv = f32(backend, x);
    const ov = f32(backend, out);
    for (let i = 0; i < xv.length; i++) if (Number.isNaN(xv[i])) ov[i] = Number.NaN;
    return out;
  };
}

/**
 * out = f(a, b) elementwise over the broadcast shape, on heap views: cpu's binary kernels
 * (`createSimpleBinaryKernelImpl`) with their float32 rounding.
 */
function broadcastBinary(
  backend: WasmBackendLike,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  f: (x: number, y: number) => number,
): tf.TensorInfo {
  const shape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
  const rank = shape.length;
  // Per output axis, how far a step moves in a and in b (0 where that operand is broadcast).
  const step = (s: number[]) => {
    const steps = new Array<number>(rank).fill(0);
    let stride = 1;
    for (let i = s.length - 1, d = rank - 1; i >= 0; i--, d--) {
      if (s[i] !== 1) steps[d] = stride;
      stride *= s[i];
    }
    return steps;
  };
  const sa = step(a.shape);
  const sb = step(b.shape);
  const out = backend.makeOutput(shape, 'float32');
  const n = tf.util.sizeFromShape(shape);
  if (n === 0) return out;
  const av = f32(backend, a);
  const bv = f32(backend, b);
  const ov = f32(backend, out);
  const idx = new Array<number>(rank).fill(0);
  let ia = 0;
  let ib = 0;
  for (let i = 0; i < n; i++) {
    ov[i] = f(av[ia], bv[ib]);
    for (let d = rank - 1; d >= 0; d--) {
      ia += sa[d];
      ib += sb[d];
      if (++idx[d] < shape[d]) break;
      ia -= sa[d] * shape[d];
      ib -= sb[d] * shape[d];
      idx[d] = 0;
    }
  }
  return out;
}

/** Binary kernels computed by cpu's formula `f` when `involved(a, b)` says the stock one may differ. */
function binaryLikeCpu(
  name: 'Maximum' | 'Minimum' | 'Pow',
  f: (x: number, y: number) => number,
  involved: (backend: WasmBackendLike, a: tf.TensorInfo, b: tf.TensorInfo) => boolean,
) {
  return (args: KernelArgs): tf.TensorInfo => {
    const { a, b } = args.inputs;
    const backend = args.backend as WasmBackendLike;
    if (a.dtype !== 'float32' || b.dtype !== 'float32' || !involved(backend, a, b)) {
      return runStockKernel(name, args);
    }
    return broadcastBinary(backend, a, b, f);
  };
}

const eitherNaN = (backend: WasmBackendLike, a: tf.TensorInfo, b: tf.TensorInfo) =>
  hasNaN(backend, a) || hasNaN(backend, b);

/** The kernels of this file: name and replacement. */
const KERNELS: [string, (args: KernelArgs) => tf.TensorInfo][] = [
  ['ClipByValue', clampKeepingNaN('ClipByValue')],
  ['Relu6', clampKeepingNaN('Relu6')],
  ['Relu', clampKeepingNaN('Relu')],
  ['Maximum', binaryLikeCpu('Maximum', Math.max, eitherNaN)],
  ['Minimum', binaryLikeCpu('Minimum', Math.min, eitherNaN)],
  // Every difference of powf from Math.pow has a NaN or infinite exponent.
  ['Pow', binaryLikeCpu('Pow', Math.pow, (backend, _a, b) => hasNonFinite(backend, b))],
];

/** The kernels {@link installNanElementwise} replaces. */
export const NAN_ELEMENTWISE = KERNELS.map(([name]) => name);

/** Replaces them on wasm, once; returns the names replaced (none when wasm is not imported). */
export function installNanElementwise(): string[] {
  return KERNELS.filter(([name, fn]) => replaceWasmKernel(name, fn)).map(([name]) => name);
}
