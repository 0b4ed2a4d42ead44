/**
 * col2im with accumulation, NHWC: adds each row of `cols` (one output pixel's [KH, KW, CI] patch of input
 * gradient) into dx at the input pixels that patch covers. With cols = dy @ W^T this is the input gradient
 * of a convolution (a transposed convolution), the matmul doing the O(n^3) part.
 */
import type * as tf from '@tensorflow/tfjs';

/** Adds the patches of images n0..n1-1 (rows of `cols`, [P, KH*KW*CI], P = (n1-n0)*OH*OW) into `dx`. */
export function col2imAdd(
  cols: Float32Array,
  info: tf.backend_util.Conv2DInfo,
  n0: number,
  n1: number,
  dx: Float32Array,
): void {
  const { inHeight: H, inWidth: W, inChannels: CI, outHeight: OH, outWidth: OW } = info;
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw } = info;
  const { dilationHeight: dh, dilationWidth: dw } = info;
  const { top, left } = info.padInfo;
  const K = KH * KW * CI;
  let row = 0;
  for (let n = n0; n < n1; n++) {
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++, row++) {
        const base = row * K;
        for (let kh = 0; kh < KH; kh++) {
          const iy = oy * sh - top + kh * dh;
          if (iy < 0 || iy >= H) continue;
          for (let kw = 0; kw < KW; kw++) {
            const ix = ox * sw - left + kw * dw;
            if (ix < 0 || ix >= W) continue;
            const src = base + (kh * KW + kw) * CI;
            const dst = ((n * H + iy) * W + ix) * CI;
            for (let c = 0; c < CI; c++) dx[dst + c] += cols[src + c];
          }
        }
      }
    }
  }
}
