/** Test helpers: backend switching, tiny models and deterministic data. */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { mulberry32 } from '../../src/core/rng.js';
import { ready } from '../../src/index.js';

export const BACKENDS = ['cpu', 'wasm'] as const;

export async function useBackend(name: 'cpu' | 'wasm'): Promise<void> {
  await ready({ backend: name, quiet: true });
}

/** Deterministic uniform data in [-1, 1). */
export function uniformArray(n: number, seed: number): Float32Array {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n }, () => 2 * r() - 1);
}

/** A small classification data set: x [n, d], one-hot y [n, k], from a fixed random linear teacher. */
export function toyClassification(
  n: number,
  d: number,
  k: number,
  seed = 1,
): { x: tf.Tensor2D; y: tf.Tensor2D } {
  return tf.tidy(() => {
    const x = tf.tensor2d(uniformArray(n * d, seed), [n, d]);
    const w = tf.tensor2d(uniformArray(d * k, seed + 1), [d, k]);
    const labels = tf.argMax(tf.matMul(x, w), 1);
    return { x, y: tf.oneHot(labels, k).toFloat() as tf.Tensor2D };
  });
}

/**
 * A small MLP with deterministic initial weights. It ends in a softmax (for the Layers losses such as
 * `categoricalCrossentropy`, which take probabilities) unless `logits` is set: losses that apply the softmax
 * themselves (`tf.losses.softmaxCrossEntropy`) need `logits: true`, else the softmax is applied twice and
 * the loss is bounded far above 0 (log k - ... : it cannot fall much).
 */
export function tinyMlp(
  d: number,
  hidden: number,
  k: number,
  opts: { bn?: boolean; dropout?: number; logits?: boolean } = {},
) {
  const layers: tf.layers.Layer[] = [
    tf.layers.dense({
      units: hidden,
      inputShape: [d],
      activation: 'tanh',
      kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
    }),
  ];
  if (opts.bn) layers.push(tf.layers.batchNormalization());
  if (opts.dropout) layers.push(tf.layers.dropout({ rate: opts.dropout }));
  layers.push(
    tf.layers.dense({
      units: k,
      activation: opts.logits ? 'linear' : 'softmax',
      kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }),
    }),
  );
  return tf.sequential({ layers });
}

/** Copies of all weight values of a model, as plain arrays. */
export function snapshotWeights(model: tf.LayersModel): Float32Array[] {
  return model.weights.map((w) => w.read().dataSync().slice() as Float32Array);
}

/** Bit-level equality of two lists of float arrays. */
export function bitEqual(a: Float32Array[], b: Float32Array[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((x, i) => {
    const y = b[i];
    if (x.length !== y.length) return false;
    const xu = new Uint32Array(x.buffer, x.byteOffset, x.length);
    const yu = new Uint32Array(y.buffer, y.byteOffset, y.length);
    return xu.every((v, j) => v === yu[j]);
  });
}

/** Largest absolute difference between two lists of arrays. */
export function maxAbsDiff(a: ArrayLike<number>[], b: ArrayLike<number>[]): number {
  let m = 0;
  a.forEach((x, i) => {
    for (let j = 0; j < x.length; j++) m = Math.max(m, Math.abs(x[j] - b[i][j]));
  });
  return m;
}
