/**
 * _FusedMatMul for wasm: the product runs on the BatchMatMul kernel (lrfree's SIMD kernel, transposed
 * operands read through strides), then the bias and the activation are applied to the output. Two reasons:
 * - No per-weights packing. The stock kernels cache one XNNPACK operator (the weights packed into its own
 *   layout) per (weights, bias, activation). A Dense layer runs fused outside a gradient tape and unfused
 *   under one, so the same weights were packed twice: once for a line search's probe, once more for the
 *   next step's gradient at the accepted point. Packing a 784x128 kernel costs ~0.25 ms, a quarter of the
 *   MNIST MLP's forward. Here both passes run the one BatchMatMul kernel, which packs its `b` per call.
 * - Correct bias on the stock slow path. With a transposed or batched operand, stock wasm adds the bias at
 *   index min(row * N + col, N - 1) instead of col, and once per 48-wide block of the shared dimension.
 */
import * as tf from '@tensorflow/tfjs';
import {
  f32,
  type KernelArgs,
  offsetOf,
  replaceWasmKernel,
  runStockKernel,
  type WasmBackendLike,
} from './heap.js';
import { simdKernels } from './simd/instance.js';

/** Activations applied as a clamp on the output, in place. */
const CLAMPS: Record<string, [number, number]> = {
  linear: [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY],
  relu: [0, Number.POSITIVE_INFINITY],
  relu6: [0, 6],
};

/** Activations applied by wasm's own elementwise kernel on the biased product. */
const KERNEL_ACTIVATIONS = new Set(['sigmoid', 'elu', 'leakyrelu', 'prelu']);

/**
 * out[r, c] = clamp(out[r, c] + bias[c]) over rows of `cols` floats. `bias` may be undefined or hold one
 * value (broadcast); the sum is rounded to float32 like TF.js's Add. The JavaScript twin of kernels.wat's
 * `bias_clamp` (about 20x slower), used where wasm SIMD is unavailable.
 */
export function biasClampInPlace(
  out: Float32Array,
  cols: number,
  bias: Float32Array | undefined,
  lo: number,
  hi: number,
): void {
  const clamp = lo !== Number.NEGATIVE_INFINITY || hi !== Number.POSITIVE_INFINITY;
  const broadcast = bias?.length === 1;
  for (let start = 0; start < out.length; start += cols) {
    for (let c = 0; c < cols; c++) {
      let x = out[start + c];
      if (bias) x = Math.fround(x + bias[broadcast ? 0 : c]);
      if (clamp) x = x < lo ? lo : x > hi ? hi : x;
      out[start + c] = x;
    }
  }
}

/** Runs wasm kernel `name` directly (inside a kernel, not through the engine). */
function runKernel(name: string, args: KernelArgs): tf.TensorInfo {
  const k = tf.getKernel(name, 'wasm');
  if (!k) throw new Error(`lrfree _FusedMatMul (wasm): kernel ${name} is not registered.`);
  return k.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
}

function fusedMatMul(args: KernelArgs): tf.TensorInfo {
  const { a, b, bias, preluActivationWeights } = args.inputs;
  const { transposeA, transposeB, activation, leakyreluAlpha } = args.attrs as unknown as {
    transposeA: boolean;
    transposeB: boolean;
    activation: string;
    leakyreluAlpha?: number;
  };
  const cols = transposeB ? b.shape[b.shape.length - 2] : b.shape[b.shape.length - 1];
  const biasSize = bias ? tf.util.sizeFromShape(bias.shape) : 0;
  const clamp = CLAMPS[activation];
  if (
    a.dtype !== 'float32' ||
    b.dtype !== 'float32' ||
    (!clamp && !KERNEL_ACTIVATIONS.has(activation)) ||
    (bias && (bias.dtype !== 'float32' || bias.shape.length !== 1 || (biasSize !== cols && biasSize !== 1)))
  ) {
    return runStockKernel('_FusedMatMul', args); // its own error messages for what it rejects
  }
  const backend = args.backend as WasmBackendLike;
  const out = runKernel('BatchMatMul', { inputs: { a, b }, backend, attrs: { transposeA, transposeB } });
  if (bias || clamp !== CLAMPS.linear) {
    const [lo, hi] = clamp ?? CLAMPS.linear;
    const simd = simdKernels(backend);
    if (simd) {
      const size = tf.util.sizeFromShape(out.shape);
      const biasMode = !bias ? 0 : biasSize === 1 ? 2 : 1;
      simd.bias_clamp(
        offsetOf(backend, out),
        bias ? offsetOf(backend, bias) : 0,
        size / cols,
        cols,
        biasMode,
        lo,
        hi,
      );
    } else {
      // Views after the product's allocation (the heap may have grown).
      biasClampInPlace(f32(backend, out), cols, bias ? f32(backend, bias) : undefined, lo, hi);
    }
  }
  if (clamp) return out;
  const activated =
    activation === 'sigmoid'
      ? runKernel('Sigmoid', { inputs: { x: out }, backend })
      : activation === 'elu'
        ? runKernel('Elu', { inputs: { x: out }, backend })
        : activation === 'leakyrelu'
          ? runKernel('LeakyRelu', { inputs: { x: out }, backend, attrs: { alpha: leakyreluAlpha ?? 0.2 } })
          : runKernel('Prelu', { inputs: { x: out, alpha: preluActivationWeights! }, backend });
  backend.disposeData(out.dataId);
  return activated;
}

/** Replaces wasm's _FusedMatMul with the weight-sharing version, once; false when wasm is not imported. */
export function installFusedMatMul(): boolean {
  return replaceWasmKernel('_FusedMatMul', fusedMatMul);
}
