/**
 * Convolutions on wasm where a NaN is involved. XNNPACK clamps convolution outputs with pseudo-min/max,
 * which return the bound for a NaN, where the cpu backend (the reference) keeps NaN:
 * - FusedConv2D and FusedDepthwiseConv2D with a ReLU or ReLU6 (the activation is the clamp): a NaN output
 *   (a NaN pixel or bias, Inf - Inf) came out as 0. Here the stock kernel runs with a linear activation (its
 *   bias still fused; XNNPACK's unclamped convolutions keep NaN) and the clamp follows in place, one SIMD pass
 *   that keeps NaN (`bias_clamp` of src/backend/wasm/simd/kernels.wat, or its JavaScript twin).
 * - A 1x1 filter at stride 1 without padding that maps each channel to one channel (depthwise with
 *   multiplier 1, or one input and one output channel) runs as a per-channel multiply-add whose clamp is
 *   always on: a NaN came out as -Infinity even with a linear activation (0 with a ReLU), in Conv2D,
 *   DepthwiseConv2dNative and both fused kernels. When x, the filter or the bias holds a NaN or an infinity
 *   (checked in one SIMD pass each), that product `x * w + b` is computed here with cpu's rounding and the
 *   activation applied after it; finite data stays on the stock kernels.
 * Other dtypes, formats and activations go to the stock kernels unchanged.
 */
import * as tf from '@tensorflow/tfjs';
import { biasClampInPlace } from './fusedMatMul.js';
import {
  f32,
  type KernelArgs,
  offsetOf,
  replaceWasmKernel,
  runStockKernel,
  type WasmBackendLike,
} from './heap.js';
import { hasNonFinite } from './nonFinite.js';
import { simdKernels } from './simd/instance.js';

/** The activations moved out of the convolution, as [lo, hi] clamps. */
const CLAMPS: Record<string, [number, number]> = {
  relu: [0, Number.POSITIVE_INFINITY],
  relu6: [0, 6],
};

/** out = min(max(out, lo), hi) in place over the float32 tensor `out`; NaN stays NaN. */
export function clampInPlace(backend: WasmBackendLike, out: tf.TensorInfo, lo: number, hi: number): void {
  const n = tf.util.sizeFromShape(out.shape);
  if (n === 0) return;
  const simd = simdKernels(backend);
  if (simd) simd.bias_clamp(offsetOf(backend, out), 0, 1, n, 0, lo, hi);
  else biasClampInPlace(f32(backend, out), n, undefined, lo, hi);
}

type ConvName = 'Conv2D' | 'DepthwiseConv2dNative' | 'FusedConv2D' | 'FusedDepthwiseConv2D';

interface ConvAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  dataFormat?: string;
  activation?: string;
  leakyreluAlpha?: number;
}

/**
 * True when XNNPACK runs this convolution as a per-channel multiply-add: a 1x1 filter, stride 1, no padding,
 * each output channel from one input channel (depthwise with multiplier 1, or 1 -> 1 channel).
 */
export function isPerChannel(
  depthwise: boolean,
  x: tf.TensorInfo,
  filter: tf.TensorInfo,
  attrs: ConvAttrs,
): boolean {
  if (x.shape.length !== 4 || filter.shape.length !== 4 || (attrs.dataFormat ?? 'NHWC') !== 'NHWC')
    return false;
  const [fh, fw, ci, co] = filter.shape;
  if (fh !== 1 || fw !== 1 || co !== 1 || (!depthwise && ci !== 1)) return false;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
    depthwise,
  );
  return (
    info.strideHeight === 1 &&
    info.strideWidth === 1 &&
    info.padInfo.top === 0 &&
    info.padInfo.left === 0 &&
    info.outHeight === info.inHeight &&
    info.outWidth === info.inWidth &&
    info.outChannels === info.inChannels
  );
}

/** Runs wasm kernel `name` directly (inside a kernel, not through the engine). */
function runKernel(name: string, args: KernelArgs): tf.TensorInfo {
  const k = tf.getKernel(name, 'wasm');
  if (!k) throw new Error(`lrfree ${name} (wasm): kernel ${name} is not registered.`);
  return k.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
}

/** cpu's per-channel 1x1 convolution, `x * w[c] (+ b[c])` rounded to float32 at each step, then the activation. */
function perChannelLikeCpu(args: KernelArgs, activation: string, leakyreluAlpha: number): tf.TensorInfo {
  const { x, filter, bias, preluActivationWeights } = args.inputs;
  const backend = args.backend as WasmBackendLike;
  const out = backend.makeOutput(x.shape, 'float32');
  const C = x.shape[3];
  // Views after the output's allocation (the heap may have grown).
  const xv = f32(backend, x);
  const wv = f32(backend, filter);
  const bv = bias ? f32(backend, bias) : undefined;
  const ov = f32(backend, out);
  for (let i = 0; i < xv.length; i += C) {
    for (let c = 0; c < C; c++) {
      const v = Math.fround(xv[i + c] * wv[c]);
      ov[i + c] = bv ? Math.fround(v + bv[c]) : v;
    }
  }
  const clamp = CLAMPS[activation];
  if (clamp) clampInPlace(backend, out, clamp[0], clamp[1]);
  if (clamp || activation === 'linear') return out;
  const activated =
    activation === 'sigmoid'
      ? runKernel('Sigmoid', { inputs: { x: out }, backend })
      : activation === 'elu'
        ? runKernel('Elu', { inputs: { x: out }, backend })
        : activation === 'leakyrelu'
          ? runKernel('LeakyRelu', { inputs: { x: out }, backend, attrs: { alpha: leakyreluAlpha } })
          : runKernel('Prelu', { inputs: { x: out, alpha: preluActivationWeights! }, backend });
  backend.disposeData(out.dataId);
  return activated;
}

function convKeepingNaN(name: ConvName) {
  const depthwise = name === 'DepthwiseConv2dNative' || name === 'FusedDepthwiseConv2D';
  const fused = name === 'FusedConv2D' || name === 'FusedDepthwiseConv2D';
  return (args: KernelArgs): tf.TensorInfo => {
    const { x, filter, bias, preluActivationWeights } = args.inputs;
    const attrs = args.attrs as unknown as ConvAttrs;
    const backend = args.backend as WasmBackendLike;
    const activation = fused ? (attrs.activation ?? 'linear') : 'linear';
    const clamp = CLAMPS[activation];
    const known =
      activation === 'linear' || clamp || ['sigmoid', 'elu', 'leakyrelu', 'prelu'].includes(activation);
    if (
      x.dtype !== 'float32' ||
      filter.dtype !== 'float32' ||
      (bias && bias.dtype !== 'float32') ||
      (activation === 'prelu' && !preluActivationWeights) ||
      !known
    ) {
      return runStockKernel(name, args); // its own results and error messages
    }
    if (
      isPerChannel(depthwise, x, filter, attrs) &&
      (!bias || (bias.shape.length === 1 && bias.shape[0] === x.shape[3])) &&
      (hasNonFinite(backend, x) || hasNonFinite(backend, filter) || (bias && hasNonFinite(backend, bias)))
    ) {
      // `|| 0`: the stock kernels' default for a missing alpha.
      return perChannelLikeCpu(args, activation, attrs.leakyreluAlpha || 0);
    }
    if (!clamp) return runStockKernel(name, args);
    const out = runStockKernel(name, { ...args, attrs: { ...args.attrs, activation: 'linear' } });
    clampInPlace(backend, out, clamp[0], clamp[1]);
    return out;
  };
}

/** The kernels {@link installConvNaN} replaces. */
export const CONV_NAN = ['Conv2D', 'DepthwiseConv2dNative', 'FusedConv2D', 'FusedDepthwiseConv2D'] as const;

/** Replaces them on wasm, once; returns the names replaced (none when wasm is not imported). */
export function installConvNaN(): string[] {
  return CONV_NAN.filter((name) => replaceWasmKernel(name, convKeepingNaN(name)));
}
