/**
 * The names a documentation example may use without declaring them (the "prelude"). Every example file the
 * harness generates starts with `import { ... } from './prelude'` for the prelude names its code mentions and
 * does not import itself; the example then runs inside a block, so its own declarations shadow these.
 *
 * Everything is tiny, so that an example that trains finishes in well under a second on the cpu backend:
 * MNIST-shaped inputs (784 features, 10 one-hot classes), 64 training rows, 32 for validation and test.
 */
import * as tf from '@tensorflow/tfjs';
import * as lrfree from 'lrfree/node';

export { lrfree, tf };

function split(rows: number, seed: number): { x: tf.Tensor2D; y: tf.Tensor2D } {
  return tf.tidy(() => {
    const x = tf.randomUniform([rows, 784], 0, 1, 'float32', seed) as tf.Tensor2D;
    const labels = tf.randomUniform([rows], 0, 10, 'int32', seed + 1);
    return { x, y: tf.oneHot(labels as tf.Tensor1D, 10).toFloat() as tf.Tensor2D };
  });
}

/** A small MLP (784 -> 16 -> 10, softmax), compiled with SGD so that `model.fit` works as is. */
export const model = lrfree.train.mlp({ inputs: 784, hidden: [16], classes: 10, seed: 1 });
model.compile({ optimizer: lrfree.sgd(0.1), loss: 'categoricalCrossentropy' });

/** Splits `{ x, y }` and their tensors under the names examples use. */
export const train = split(64, 1);
export const validation = split(32, 3);
export const test = split(32, 5);
export const data = { train, validation };
export const { x, y } = train;
export const xTrain = train.x;
export const yTrain = train.y;
export const xVal = validation.x;
export const yVal = validation.y;
export const xTest = test.x;
export const yTest = test.y;
/** One mini-batch. */
export const xb = x.slice([0, 0], [16, 784]);
export const yb = y.slice([0, 0], [16, 10]);

/** The mean categorical cross-entropy of `m` on a batch (a closure for `optimizer.minimize`). */
export function lossOf(m: tf.LayersModel, xs: tf.Tensor, ys: tf.Tensor): tf.Scalar {
  return tf.losses.softmaxCrossEntropy(ys, m.predict(xs) as tf.Tensor) as tf.Scalar;
}

/** A learning-rate range test's curve: rates and the losses recorded at them. */
export const lrs = Array.from({ length: 40 }, (_, i) => 1e-5 * 10 ** (i / 6));
export const losses = lrs.map((lr, i) => 2.3 - Math.min(1.5, 200 * lr) + (i > 34 ? (i - 34) ** 2 : 0));

/** The names above, for the harness (kept equal to generate.ts's list by examples.test.ts). */
export const PRELUDE_NAMES = [
  'tf',
  'lrfree',
  'model',
  'train',
  'validation',
  'test',
  'data',
  'x',
  'y',
  'xTrain',
  'yTrain',
  'xVal',
  'yVal',
  'xTest',
  'yTest',
  'xb',
  'yb',
  'lossOf',
  'lrs',
  'losses',
];
