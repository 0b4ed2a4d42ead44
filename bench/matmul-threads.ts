/**
 * Matrix products alone on lrfree's wasm at the thread count of this process (not part of npm test): the
 * shapes of the MNIST MLP's step and one large square, `tf.matMul` + read-back, milliseconds and GFLOP/s.
 * Run it once per thread count, one after the other on a quiet machine, to see where splitting a product
 * over threads pays (src/backend/wasm/simd/pool.ts, `SPLIT_MIN_MACS`; docs/backends.md "Threads").
 *
 *   LRFREE_THREADS=1 npx tsx bench/matmul-threads.ts
 *   LRFREE_THREADS=2 npx tsx bench/matmul-threads.ts
 */
import * as tf from '@tensorflow/tfjs';
import { backendInfo, ready } from '../src/backend/ready.js';

await ready({ backend: 'wasm', quiet: true });
const SHAPES: [number, number, number][] = [
  [128, 784, 128],
  [784, 128, 128],
  [128, 128, 128],
  [512, 512, 512],
];
console.log(`threads ${backendInfo()?.threads}`);
for (const [m, k, n] of SHAPES) {
  const [a, b] = [tf.randomNormal([m, k], 0, 1, 'float32', 1), tf.randomNormal([k, n], 0, 1, 'float32', 2)];
  for (let i = 0; i < 20; i++) tf.matMul(a, b).dispose();
  const reps = Math.max(20, Math.round(2e9 / (m * k * n)));
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) {
    const c = tf.matMul(a, b);
    c.dataSync();
    c.dispose();
  }
  const ms = (performance.now() - t0) / reps;
  console.log(`${m}x${k}x${n}: ${ms.toFixed(3)} ms, ${((2 * m * k * n) / ms / 1e6).toFixed(1)} GFLOP/s`);
  tf.dispose([a, b]);
}
