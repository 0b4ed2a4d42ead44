/**
 * MaxPool and AvgPool on wasm where NaN or infinities are involved. XNNPACK clamps the pooled value with
 * pseudo-min/max, which turn a NaN into -Infinity: an average over a window holding a NaN (or both
 * infinities) came out as -Infinity where the cpu backend (the reference) gives NaN, and a max over a
 * window whose first value is NaN came out as -Infinity where cpu skips the NaN (cpu's max ignores NaN:
 * the window's largest other value, -Infinity when there is none; MaxPoolGrad routes gradients the same
 * way), and the stock max over a window holding a NaN may even be a smaller finite value. So MaxPool
 * keeps the stock output unless its input holds a NaN, AvgPool unless its output holds a NaN or an infinity
 * (an overflowing float32 sum too; cpu sums in float64), each checked in one SIMD pass; otherwise the output
 * is recomputed by cpu's own loop (`pool` of tfjs-backend-cpu), 1x1 identity pools included.
 */
import * as tf from '@tensorflow/tfjs';
import { f32, type KernelArgs, replaceWasmKernel, runStockKernel, type WasmBackendLike } from './heap.js';
import { hasNaN, hasNonFinite } from './nonFinite.js';
import { poolInfo } from './poolInfo.js';

/** cpu's pooling loop (NHWC, dilation 1) writing into `out`: max skips NaN, avg sums in float64. */
export function poolLikeCpu(
  x: Float32Array,
  info: tf.backend_util.Conv2DInfo,
  type: 'max' | 'avg',
  out: Float32Array,
): void {
  if (info.filterWidth === 1 && info.filterHeight === 1 && tf.util.arraysEqual(info.inShape, info.outShape)) {
    out.set(x); // cpu returns its input unchanged here
    return;
  }
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
  const { strideHeight: sh, strideWidth: sw, effectiveFilterHeight: fh, effectiveFilterWidth: fw } = info;
  const { top, left } = info.padInfo;
  for (let b = 0; b < N; b++) {
    for (let oy = 0; oy < OH; oy++) {
      const r0 = Math.max(0, oy * sh - top);
      const r1 = Math.min(H, oy * sh - top + fh);
      for (let ox = 0; ox < OW; ox++) {
        const c0 = Math.max(0, ox * sw - left);
        const c1 = Math.min(W, ox * sw - left + fw);
        const o = ((b * OH + oy) * OW + ox) * C;
        for (let d = 0; d < C; d++) {
          let max = Number.NEGATIVE_INFINITY;
          let sum = 0;
          let count = 0;
          for (let r = r0; r < r1; r++) {
            for (let c = c0; c < c1; c++) {
              const v = x[((b * H + r) * W + c) * C + d];
              if (v > max) max = v;
              sum += v;
              count++;
            }
          }
          out[o + d] = type === 'max' ? max : sum / count;
        }
      }
    }
  }
}

function poolKeepingNaN(name: 'MaxPool' | 'AvgPool') {
  return (args: KernelArgs): tf.TensorInfo => {
    const { x } = args.inputs;
    const backend = args.backend as WasmBackendLike;
    // The stock kernel first: it validates the attributes and makes the output of the right shape.
    const out = runStockKernel(name, args);
    if (x.dtype !== 'float32' || x.shape.length !== 4) return out;
    // A NaN or an infinity in an averaged window makes the stock output non-finite (sums keep them); a NaN
    // in a max window may not (the stock max can drop the window's largest value, e.g. [1, 9, 5, NaN] gave 5).
    const redo = name === 'MaxPool' ? hasNaN(backend, x) : hasNonFinite(backend, out);
    if (!redo) return out;
    const info = poolInfo(x.shape, args.attrs);
    poolLikeCpu(f32(backend, x), info, name === 'MaxPool' ? 'max' : 'avg', f32(backend, out));
    return out;
  };
}

/** The kernels {@link installNanPools} replaces. */
export const NAN_POOLS = ['MaxPool', 'AvgPool'] as const;

/** Replaces them on wasm, once; returns the names replaced (none when wasm is not imported). */
export function installNanPools(): string[] {
  return NAN_POOLS.filter((name) => replaceWasmKernel(name, poolKeepingNaN(name)));
}
