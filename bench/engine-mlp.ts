/**
 * The engine benchmark's MLP (bench/engine-peer.ts, engine-breakdown.ts, engine-adam-ab.ts): ReLU hidden
 * layers and a softmax output, Glorot weights seeded per layer, on a fixed random batch with fixed labels,
 * so every engine and script trains the same step as bench/engine_torch.py.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * The model and its batch (one-hot labels); the caller disposes all three. `output: 'linear'` gives logits
 * (for `tf.losses.softmaxCrossEntropy`) instead of the softmax layer.
 */
export function engineMlp(sizes: readonly number[], batch: number, output: 'softmax' | 'linear' = 'softmax') {
  const model = tf.sequential();
  for (let i = 1; i < sizes.length; i++) {
    model.add(
      tf.layers.dense({
        ...(i === 1 ? { inputShape: [sizes[0]] } : {}),
        units: sizes[i],
        activation: i === sizes.length - 1 ? output : 'relu',
        kernelInitializer: tf.initializers.glorotUniform({ seed: i }),
      }),
    );
  }
  const x = tf.randomUniform([batch, sizes[0]], 0, 1, 'float32', 7);
  const classes = sizes.at(-1)!;
  const y = tf.tidy(() =>
    tf.oneHot(
      tf.tensor1d(
        Array.from({ length: batch }, (_, i) => (i * 7) % classes),
        'int32',
      ),
      classes,
    ),
  );
  return { model, x, y };
}
