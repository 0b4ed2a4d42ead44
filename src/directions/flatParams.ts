/**
 * The model's weights as one float64 vector, for the second-order code (Newton's direction, auto's Newton
 * polish): flatten and cut back, gradients and losses at an offset given as a flat vector, and the dense
 * Hessian from P Hessian-vector products.
 */
import * as tf from '@tensorflow/tfjs';
import type { DirectionContext } from '../core/types.js';
import { dot } from './newtonSolvers.js';

/** All tensors concatenated into one float64 vector (one sync). */
export function flatten(ts: readonly tf.Tensor[]): Float64Array {
  const flat = tf.tidy(() => tf.concat(ts.map((t) => tf.reshape(t, [-1]))));
  const out = Float64Array.from(flat.dataSync());
  flat.dispose();
  return out;
}

/** A float64 vector cut back into float32 tensors of the given shapes. */
export function unflatten(
  x: Float64Array,
  shapes: readonly number[][],
  sizes: readonly number[],
): tf.Tensor[] {
  let off = 0;
  return shapes.map((shape, i) => {
    const t = tf.tensor(Float32Array.from(x.subarray(off, off + sizes[i])), shape);
    off += sizes[i];
    return t;
  });
}

export function scaled(v: Float64Array, k: number): Float64Array {
  return v.map((x) => x * k);
}

/**
 * Loss at w + offset on the step's batch. The direction context offers only `gradientAt` (one counted
 * backward), so each probe costs a forward/backward.
 */
export function lossAtFlat(
  ctx: DirectionContext,
  offset: Float64Array,
  shapes: readonly number[][],
  sizes: readonly number[],
): number {
  const offsets = unflatten(offset, shapes, sizes);
  try {
    const { loss, grads } = ctx.gradientAt(offsets);
    tf.dispose(grads);
    return loss;
  } finally {
    tf.dispose(offsets);
  }
}

/** Gradient at w + offset (offset as a flat vector), as a flat float64 vector; frees every tensor. */
export function gradientAtFlat(
  ctx: DirectionContext,
  offset: Float64Array,
  shapes: readonly number[][],
  sizes: readonly number[],
): Float64Array {
  const offsets = unflatten(offset, shapes, sizes);
  try {
    const { grads } = ctx.gradientAt(offsets);
    try {
      return flatten(grads);
    } finally {
      tf.dispose(grads);
    }
  } finally {
    tf.dispose(offsets);
  }
}

/**
 * The P x P Hessian, column j the product with the j-th unit vector (`hvp`), symmetrised (finite
 * differences are not exactly symmetric, trap T25).
 */
export function denseHessian(hvp: (v: Float64Array) => Float64Array, P: number): Float64Array {
  const h = new Float64Array(P * P);
  const e = new Float64Array(P);
  for (let j = 0; j < P; j++) {
    e[j] = 1;
    const col = hvp(e);
    e[j] = 0;
    for (let i = 0; i < P; i++) h[i * P + j] = col[i];
  }
  for (let i = 0; i < P; i++) {
    for (let j = i + 1; j < P; j++) {
      const m = (h[i * P + j] + h[j * P + i]) / 2;
      h[i * P + j] = m;
      h[j * P + i] = m;
    }
  }
  return h;
}

/**
 * H v by finite differences of gradients on the step's batch: (g(w + eps v) - g(w - eps v)) / (2 eps)
 * (`central`) or (g(w + eps v) - g(w)) / eps (`forward`), eps = fdScale (1 + ||w||) / ||v||.
 */
export function finiteDifferenceHvp(
  ctx: DirectionContext,
  o: {
    g: Float64Array;
    wNorm: number;
    fdScale: number;
    mode: 'central' | 'forward';
    shapes: readonly number[][];
    sizes: readonly number[];
  },
): (v: Float64Array) => Float64Array {
  const P = o.g.length;
  return (v) => {
    const eps = (o.fdScale * (1 + o.wNorm)) / Math.sqrt(dot(v, v));
    const plus = gradientAtFlat(ctx, scaled(v, eps), o.shapes, o.sizes);
    const base = o.mode === 'central' ? gradientAtFlat(ctx, scaled(v, -eps), o.shapes, o.sizes) : o.g;
    const out = new Float64Array(P);
    const div = o.mode === 'central' ? 2 * eps : eps;
    for (let i = 0; i < P; i++) out[i] = (plus[i] - base[i]) / div;
    return out;
  };
}
