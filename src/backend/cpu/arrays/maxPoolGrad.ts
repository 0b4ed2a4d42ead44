/**
 * Max-pool gradient on NHWC arrays: each window's dy goes to the first position (row-major scan, padding
 * excluded) holding the window's maximum, as TF.js's cpu kernel routes it; windows with no value above
 * -Infinity (all NaN or -Infinity) pass no gradient. O(outputs x window) instead of the stock kernels'
 * O(inputs x window) searches.
 */
import type * as tf from '@tensorflow/tfjs';

/** Writes dx (zeroed here) for x, dy and the pool geometry `info` (dilation 1, as pooling has). */
export function maxPoolGradInto(
  x: Float32Array,
  dy: Float32Array,
  info: tf.backend_util.Conv2DInfo,
  dx: Float32Array,
): void {
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
  const { strideHeight: sh, strideWidth: sw, effectiveFilterHeight: fh, effectiveFilterWidth: fw } = info;
  const { top, left } = info.padInfo;
  dx.fill(0);
  // Channels innermost: the scan walks x contiguously, one running maximum per channel.
  const best = new Float32Array(C);
  const at = new Int32Array(C);
  for (let b = 0; b < N; b++) {
    const xBatch = b * H * W * C;
    for (let oy = 0; oy < OH; oy++) {
      const r0 = Math.max(0, oy * sh - top);
      const r1 = Math.min(H, oy * sh - top + fh);
      for (let ox = 0; ox < OW; ox++) {
        const c0 = Math.max(0, ox * sw - left);
        const c1 = Math.min(W, ox * sw - left + fw);
        best.fill(Number.NEGATIVE_INFINITY);
        at.fill(-1);
        for (let r = r0; r < r1; r++) {
          for (let c = c0; c < c1; c++) {
            const i = xBatch + (r * W + c) * C;
            for (let d = 0; d < C; d++) {
              if (x[i + d] > best[d]) {
                best[d] = x[i + d];
                at[d] = i + d;
              }
            }
          }
        }
        const dyAt = ((b * OH + oy) * OW + ox) * C;
        for (let d = 0; d < C; d++) if (at[d] >= 0) dx[at[d]] += dy[dyAt + d];
      }
    }
  }
}
