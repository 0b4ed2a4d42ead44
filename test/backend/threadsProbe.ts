/**
 * Run by threads.test.ts in a child process (a wasm backend starts once per process):
 *
 *   node --import tsx test/backend/threadsProbe.ts THREADS
 *
 * Starts wasm on THREADS threads through `ready()`, computes matmuls, a fused matmul, a convolution and its
 * gradients, and three Adam training steps of a small CNN from fixed data and seeds, and prints one JSON line:
 * what `backendInfo()` says, whether TF.js's pthread machinery is present, the tensor-count change over the
 * whole run, and the numbers. It ends on its own: a hanging worker shows as a timeout in the test.
 */
import * as tf from '@tensorflow/tfjs';
import { backendInfo, ready } from '../../src/backend/ready.js';
import { fusedAdamAvailable } from '../../src/backend/wasm/fusedAdam.js';
import { matMulPool } from '../../src/backend/wasm/simd/pool.js';
import { adamMoments } from '../../src/directions/adamMoments.js';

const threads = Number(process.argv[2]);
await ready({ backend: 'wasm', threads, quiet: true });
const start = tf.memory().numTensors;
// lrfree's matmul helpers start asynchronously; wait (up to 60 s) so that the products below use them.
const pool = matMulPool(tf.backend());
for (let t = 0; pool && pool.readyHelpers() < pool.helpers && t < 600; t++) {
  await new Promise((r) => setTimeout(r, 100));
}

/** Deterministic values in [-1, 1) (no RNG state shared with TF.js). */
const data = (shape: number[], seed: number) => {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 7919 + i * 12.9898) % 1),
    shape,
  );
};

const outputs: Record<string, number[]> = {};
const keep = (name: string, t: tf.Tensor) => {
  outputs[name] = Array.from(t.dataSync());
};

tf.tidy(() => {
  // Awkward sizes (not multiples of XNNPACK's tiles) and one big enough to be split across threads.
  keep('matMul 67x129 @ 129x33', tf.matMul(data([67, 129], 1), data([129, 33], 2)));
  keep('matMul 256x512 @ 512x384', tf.matMul(data([256, 512], 3), data([512, 384], 4)));
  keep('matMul aT (129x67)^T @ 129x33', tf.matMul(data([129, 67], 5), data([129, 33], 6), true, false));
  keep('matMul b^T 67x129 @ (33x129)^T', tf.matMul(data([67, 129], 7), data([33, 129], 8), false, true));
  keep(
    'fused matMul + bias + relu 200x300 @ 300x130',
    tf.fused.matMul({
      a: data([200, 300], 9),
      b: data([300, 130], 10),
      bias: data([130], 11),
      activation: 'relu',
    }),
  );
  const x = data([8, 17, 19, 3], 12);
  const f = data([3, 3, 3, 5], 13);
  const conv = (xx: tf.Tensor4D, ff: tf.Tensor4D) => tf.conv2d(xx, ff, 1, 'same').square().sum();
  keep('conv2d 8x17x19x3 * 3x3x3x5', tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, 'same'));
  const [dx, df] = tf.grads(conv as (a: tf.Tensor, b: tf.Tensor) => tf.Scalar)([x, f]);
  keep('conv2d dx', dx);
  keep('conv2d dfilter', df);
});

// lrfree's fused Adam (its SIMD module on TF.js's heap, shared in the threaded build) against the op path.
const fused = fusedAdamAvailable();
tf.tidy(() => {
  const [g, m, v] = [data([1031], 15), data([1031], 16), data([1031], 17).abs()];
  const c = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, step: 3 };
  const auto = adamMoments(g, m, v, c, true);
  const ops = adamMoments(g, m, v, c, true, 'ops');
  for (const k of ['m', 'v', 'd', 's'] as const) {
    keep(`adam ${k} (fused kernel)`, auto[k]!);
    keep(`adam ${k} (ops)`, ops[k]!);
  }
});

// Three Adam steps of a small CNN on fixed data.
const model = tf.sequential({
  layers: [
    tf.layers.conv2d({
      inputShape: [12, 12, 1],
      filters: 4,
      kernelSize: 3,
      activation: 'relu',
      kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
    }),
    tf.layers.flatten(),
    tf.layers.dense({
      units: 64,
      activation: 'relu',
      kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }),
    }),
    tf.layers.dense({ units: 10, kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
  ],
});
const xs = data([32, 12, 12, 1], 14);
const ys = tf.tidy(() =>
  tf.oneHot(
    tf.tensor1d(
      Array.from({ length: 32 }, (_, i) => (i * 7) % 10),
      'int32',
    ),
    10,
  ),
);
const optimizer = tf.train.adam(0.01);
const losses: number[] = [];
for (let step = 0; step < 3; step++) {
  const loss = optimizer.minimize(
    () => tf.losses.softmaxCrossEntropy(ys, model.apply(xs, { training: true }) as tf.Tensor),
    true,
  ) as tf.Scalar;
  losses.push(loss.dataSync()[0]);
  loss.dispose();
}
outputs['training losses'] = losses;
for (const [i, w] of model.getWeights().entries()) keep(`weights ${i} after 3 Adam steps`, w);
tf.dispose([xs, ys]);
optimizer.dispose();
model.dispose();

const wasm = (tf.backend() as unknown as { wasm: { PThread?: unknown } }).wasm;
console.log(
  JSON.stringify({
    info: backendInfo(),
    pthreads: wasm.PThread !== undefined,
    fusedAdam: fused,
    matMulHelpers: pool?.readyHelpers() ?? 0,
    tensorsLeft: tf.memory().numTensors - start,
    outputs,
  }),
);
