import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patchWasm } from '../../src/backend/patchWasm.js';
import { setColBudget } from '../../src/backend/wasm/conv2dBackpropFilter.js';
import { isLrfreeKernel } from '../../src/backend/wasm/heap.js';
import { data, wasmVsCpu } from './compare.js';

type Pad = 'valid' | 'same' | number;

/** The gradient of a weighted sum of maxPool(x) with respect to x: MaxPoolGrad. */
function poolGrad(
  shape: [number, number, number, number],
  size: number | [number, number],
  stride: number | [number, number],
  pad: Pad,
  constant = false,
) {
  return () => {
    const x = constant ? tf.ones(shape) : tf.tensor4d(data(shape, 1), shape);
    const f = (t: tf.Tensor) => {
      const y = tf.maxPool(t as tf.Tensor4D, size, stride, pad);
      return tf.sum(tf.mul(y, tf.tensor(data(y.shape, 2), y.shape)));
    };
    return tf.grad(f)(x);
  };
}

/** The gradient of a weighted sum of conv2d(x, w) with respect to x: Conv2DBackpropInput. */
function convInputGrad(
  shape: [number, number, number, number],
  filter: [number, number, number, number],
  stride: number | [number, number],
  pad: Pad,
) {
  return () => {
    const x = tf.tensor4d(data(shape, 3), shape);
    const w = tf.tensor4d(data(filter, 4), filter);
    const f = (t: tf.Tensor) => {
      const y = tf.conv2d(t as tf.Tensor4D, w, stride, pad);
      return tf.sum(tf.mul(y, tf.tensor(data(y.shape, 5), y.shape)));
    };
    return tf.grad(f)(x);
  };
}

describe('MaxPoolGrad and Conv2DBackpropInput on patched wasm vs cpu', () => {
  beforeAll(() => {
    expect(patchWasm()).toEqual(expect.arrayContaining(['MaxPoolGrad', 'Conv2DBackpropInput']));
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it("are lrfree's kernels after patchWasm", () => {
    expect(isLrfreeKernel('MaxPoolGrad', 'wasm')).toBe(true);
    expect(isLrfreeKernel('Conv2DBackpropInput', 'wasm')).toBe(true);
  });

  it.each([
    [[2, 6, 6, 3], 2, 2, 'valid'],
    [[1, 7, 7, 2], 3, 2, 'same'],
    [[2, 5, 4, 1], [2, 3], [1, 2], 'valid'],
    [[3, 26, 26, 8], 2, 2, 'valid'],
    [[1, 6, 5, 4], 3, 1, 1],
  ] as const)('MaxPoolGrad x %j, pool %j, strides %j, pad %j', async (shape, size, stride, pad) => {
    const { err, sizes } = await wasmVsCpu(
      poolGrad([...shape] as [number, number, number, number], size as never, stride as never, pad),
    );
    expect(sizes).toEqual([(shape as readonly number[]).reduce((a, b) => a * b, 1)]);
    expect(err).toBeLessThan(1e-6);
  });

  it('MaxPoolGrad sends a tied window to its first maximum, as cpu does', async () => {
    const { err } = await wasmVsCpu(poolGrad([1, 4, 4, 2], 2, 1, 'valid', true));
    expect(err).toBe(0);
  });

  it.each([
    [[2, 8, 8, 3], [3, 3, 3, 4], 1, 'valid'],
    [[2, 8, 8, 3], [3, 3, 3, 4], 2, 'same'],
    [[1, 9, 7, 2], [2, 3, 2, 5], [2, 1], 'same'],
    [[2, 6, 6, 1], [3, 3, 1, 2], 1, 1],
    [[4, 13, 13, 8], [3, 3, 8, 16], 1, 'valid'],
  ] as const)(
    'Conv2DBackpropInput x %j, filter %j, strides %j, pad %j',
    async (shape, filter, stride, pad) => {
      const { err, sizes } = await wasmVsCpu(
        convInputGrad(
          [...shape] as [number, number, number, number],
          [...filter] as [number, number, number, number],
          stride as never,
          pad,
        ),
      );
      expect(sizes).toEqual([(shape as readonly number[]).reduce((a, b) => a * b, 1)]);
      expect(err).toBeLessThan(1e-5);
    },
  );

  it('Conv2DBackpropInput gives the same dx when images are processed in chunks', async () => {
    const f = convInputGrad([5, 8, 8, 3], [3, 3, 3, 4], 1, 'same');
    const previous = setColBudget(2 * 64 * 27); // two images' columns per chunk: chunks of 2, 2, 1
    try {
      const { err } = await wasmVsCpu(f);
      expect(err).toBeLessThan(1e-5);
    } finally {
      setColBudget(previous);
    }
  });
});
