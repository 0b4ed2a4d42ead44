import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { patchWasm } from '../../src/backend/patchWasm.js';
import { data, kernel, on, wasmVsCpu } from './compare.js';

describe('UnsortedSegmentSum on wasm vs the cpu reference', () => {
  beforeAll(() => {
    patchWasm();
  });

  it.each([
    [[6], [0, 2, 2, 5, 0, 1], 6],
    [[7, 3], [3, 1, 3, 3, 0, 2, 1], 4],
    [[5, 2, 4], [4, 0, 4, 1, 4], 5],
    [[64, 16], Array.from({ length: 64 }, (_, i) => (i * 37) % 50), 50],
  ] as [number[], number[], number][])('x %j ids %j numSegments %j', async (xs, ids, numSegments) => {
    const f = () =>
      kernel(
        'UnsortedSegmentSum',
        { x: tf.tensor(data(xs, 1), xs), segmentIds: tf.tensor1d(ids, 'int32') },
        {
          numSegments,
        },
      );
    const { err, sizes } = await wasmVsCpu(f);
    expect(sizes[0]).toBe((numSegments * xs.reduce((a, b) => a * b, 1)) / xs[0]);
    expect(err).toBeLessThanOrEqual(1e-6);
  });

  it('sums int32 values exactly and drops out-of-range ids as TensorFlow does', async () => {
    const f = () =>
      kernel(
        'UnsortedSegmentSum',
        {
          x: tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8], [4, 2], 'int32'),
          segmentIds: tf.tensor1d([1, -1, 1, 3], 'int32'),
        },
        { numSegments: 3 },
      );
    const [got] = await on('wasm', f);
    expect(Array.from(got)).toEqual([0, 0, 6, 8, 0, 0]);
  });

  it('gives the gradient of tf.gather (the Embedding gradient) exactly', async () => {
    const f = () => {
      const idx = tf.tensor2d([3, 0, 3, 7, 1, 3], [2, 3], 'int32');
      const g = tf.grad((t: tf.Tensor) =>
        tf
          .gather(t, idx)
          .mul(tf.range(0, 2 * 3 * 5).reshape([2, 3, 5]))
          .sum(),
      );
      return g(tf.tensor2d(data([9, 5], 4), [9, 5]));
    };
    const { err } = await wasmVsCpu(f);
    expect(err).toBe(0);
  });
});

describe('BatchMatMul with transposes on patched wasm vs the cpu reference', () => {
  beforeAll(() => {
    patchWasm();
  });

  it.each([
    [[5, 7], [7, 3], false, false],
    [[7, 5], [7, 3], true, false],
    [[5, 7], [3, 7], false, true],
    [[7, 5], [3, 7], true, true],
    [[64, 100], [64, 33], true, false],
    [[64, 33], [100, 33], false, true],
    [[8, 16], [100, 16], false, true],
    [[1, 8, 16], [100, 16], false, true],
    [[8, 16], [1, 100, 16], false, true],
    [[1, 6, 4], [1, 6, 9], true, false],
    [[1, 6, 4], [9, 4], false, true],
    [[3, 6, 4], [3, 9, 4], false, true],
    [[3, 4, 6], [3, 4, 5], true, false],
  ] as [number[], number[], boolean, boolean][])(
    'a %j b %j transposeA %j transposeB %j',
    async (as, bs, ta, tb) => {
      const f = () => tf.matMul(tf.tensor(data(as, 1), as), tf.tensor(data(bs, 2), bs), ta, tb);
      const { err } = await wasmVsCpu(f);
      expect(err).toBeLessThanOrEqual(1e-5);
    },
  );

  it('leaks no tensors or heap memory', async () => {
    await tf.setBackend('wasm');
    const a = tf.tensor(data([40, 30], 1), [40, 30]);
    const b = tf.tensor(data([20, 30], 2), [20, 30]);
    tf.matMul(a, b, false, true).dispose();
    const before = tf.memory();
    for (let i = 0; i < 3; i++) tf.matMul(a, b, false, true).dispose();
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numBytes).toBe(before.numBytes);
    expect(tf.engine().backend.numDataIds()).toBe(tf.memory().numDataBuffers);
    tf.dispose([a, b]);
  });
});

describe('patchWasm', () => {
  it('is idempotent: a second call neither re-registers nor wraps twice', () => {
    const first = patchWasm();
    const kernels = first.map((n) => tf.getKernel(n, 'wasm')!.kernelFunc);
    const second = patchWasm();
    expect(second).toEqual(first);
    expect(first).toEqual([
      'Conv2DBackpropFilter',
      'DepthwiseConv2dNativeBackpropFilter',
      'DepthwiseConv2dNativeBackpropInput',
      'UnsortedSegmentSum',
      'BatchMatMul',
      'Tile',
      'Slice',
      'GatherV2',
      '_FusedMatMul',
      'MaxPoolGrad',
      'Conv2DBackpropInput',
      'Transpose',
      'Sum',
      'Prod',
      'Max',
      'Min',
      'Mean',
      'All',
      'Any',
      'ArgMax',
      'ArgMin',
      'Identity',
      'Cast',
      'Add',
      'Sub',
      'Multiply',
      'RealDiv',
      'Sqrt',
      'ClipByValue',
      'Relu6',
      'Relu',
      'Maximum',
      'Minimum',
      'Pow',
      'Conv2D',
      'DepthwiseConv2dNative',
      'FusedConv2D',
      'FusedDepthwiseConv2D',
      'MaxPool',
      'AvgPool',
      'LrfreeFusedAdam',
      'LrfreeFusedAuto',
      'LrfreeSumOfSquares',
      'LrfreeAllFinite',
      'LrfreeStepAlong',
    ]);
    expect(second.map((n) => tf.getKernel(n, 'wasm')!.kernelFunc)).toEqual(kernels);
  });
});
