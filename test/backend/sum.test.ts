import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { patchWasm } from '../../src/backend/patchWasm.js';
import { leadingAxes } from '../../src/backend/wasm/sum.js';
import { data, on, wasmVsCpu } from './compare.js';

describe('Sum on patched wasm vs the cpu reference', () => {
  beforeAll(() => {
    patchWasm();
  });

  it.each([
    // Leading axes (the column-sum path): bias and layer-norm gradients, odd widths, size-1 axes.
    [[2048, 64], 0, false],
    [[1, 2048, 256], [0, 1], false],
    [[7, 5], 0, true],
    [[7, 3], [0], false],
    [[3, 4, 5], [1, 0], true],
    [[1, 1, 9], [0, 1], false],
    [[5, 1], 0, false],
    [[1, 6], -2, false],
    [[0, 4], 0, false],
    [[300, 3, 2], 0, false],
    // Other reductions: the stock kernel.
    [[6, 7], 1, false],
    [[6, 7], [0, 1], false],
    [[3, 4, 5], [0, 2], true],
    [[3, 4, 5], 1, false],
  ] as [number[], number | number[], boolean][])(
    'x %j axis %j keepDims %j',
    async (shape, axis, keepDims) => {
      const f = () => tf.sum(tf.tensor(data(shape, 1), shape), axis, keepDims);
      const { err, sizes } = await wasmVsCpu(f);
      await tf.setBackend('wasm');
      const wasmShape = tf.tidy(() => f().shape);
      await tf.setBackend('cpu');
      expect(wasmShape).toEqual(tf.tidy(() => f().shape));
      expect(sizes[0]).toBe(wasmShape.reduce((a, b) => a * b, 1));
      expect(err).toBeLessThanOrEqual(1e-5);
    },
  );

  it('sums int32 exactly (stock kernel)', async () => {
    const [got] = await on('wasm', () => tf.sum(tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2], 'int32'), 0));
    expect(Array.from(got)).toEqual([9, 12]);
  });

  it('gives the bias gradient of a dense layer as cpu does, and leaks nothing', async () => {
    const f = () =>
      tf.grad((b: tf.Tensor) => tf.tanh(tf.tensor(data([33, 10], 2), [33, 10]).add(b)).sum())(
        tf.tensor(data([10], 3), [10]),
      );
    const { err } = await wasmVsCpu(f);
    expect(err).toBeLessThanOrEqual(1e-5);
    await tf.setBackend('wasm');
    const x = tf.tensor(data([40, 30], 4), [40, 30]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) tf.sum(x, 0).dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.engine().backend.numDataIds()).toBe(tf.memory().numDataBuffers);
    x.dispose();
  });
});

describe('leadingAxes', () => {
  it('counts the reduced leading axes, 0 when the reduction is not over exactly those', () => {
    expect(leadingAxes([0], 2)).toBe(1);
    expect(leadingAxes([1, 0], 3)).toBe(2);
    expect(leadingAxes([0, 1], 2)).toBe(0);
    expect(leadingAxes([1], 2)).toBe(0);
    expect(leadingAxes([0, 2], 3)).toBe(0);
  });
});
