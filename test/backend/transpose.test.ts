import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { patchWasm } from '../../src/backend/patchWasm.js';
import { collapseTranspose } from '../../src/backend/wasm/transpose.js';
import { data, on, wasmVsCpu } from './compare.js';

describe('Transpose on patched wasm vs the cpu reference', () => {
  beforeAll(() => {
    patchWasm();
  });

  it.each([
    // Attention's reshuffles and their inverses (innermost axis kept: the run-copy path).
    [
      [4, 6, 3, 2, 5],
      [2, 0, 3, 1, 4],
    ],
    [
      [3, 4, 2, 6, 5],
      [1, 3, 0, 2, 4],
    ],
    [
      [4, 6, 2, 5],
      [0, 2, 1, 3],
    ],
    [
      [2, 3, 4, 40],
      [2, 0, 1, 3],
    ],
    [
      [1, 7, 1, 3],
      [2, 1, 0, 3],
    ],
    [
      [5, 1, 3],
      [1, 0, 2],
    ],
    [
      [3, 4, 5],
      [0, 1, 2],
    ],
    [
      [1, 1, 1],
      [2, 0, 1],
    ],
    [
      [6, 0, 3],
      [1, 0, 2],
    ],
    // Innermost axis moved: the stock kernel.
    [
      [5, 7],
      [1, 0],
    ],
    [
      [3, 4, 5],
      [0, 2, 1],
    ],
    [
      [2, 3, 4, 5, 6],
      [4, 3, 2, 1, 0],
    ],
  ] as [number[], number[]][])('x %j perm %j', async (shape, perm) => {
    const { err, sizes } = await wasmVsCpu(() => tf.transpose(tf.tensor(data(shape, 1), shape), perm));
    expect(sizes[0]).toBe(shape.reduce((a, b) => a * b, 1));
    expect(err).toBe(0);
  });

  it('moves int32 and bool exactly, with the output shape permuted', async () => {
    const ints = Array.from({ length: 2 * 3 * 4 }, (_, i) => i - 7);
    const [got] = await on('wasm', () => tf.transpose(tf.tensor3d(ints, [2, 3, 4], 'int32'), [1, 0, 2]));
    const [ref] = await on('cpu', () => tf.transpose(tf.tensor3d(ints, [2, 3, 4], 'int32'), [1, 0, 2]));
    expect(Array.from(got)).toEqual(Array.from(ref));
    await tf.setBackend('wasm');
    const b = tf.tidy(() =>
      tf.transpose(
        tf.tensor3d(
          ints.map((v) => v % 3 === 0),
          [2, 3, 4],
          'bool',
        ),
        [1, 0, 2],
      ),
    );
    expect(b.shape).toEqual([3, 2, 4]);
    expect(b.dtype).toBe('bool');
    expect(Array.from(b.dataSync())).toEqual(Array.from(ref).map((v) => (v % 3 === 0 ? 1 : 0)));
    b.dispose();
  });

  it('leaks no tensors', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor(data([4, 6, 3, 2, 5], 2), [4, 6, 3, 2, 5]);
    const before = tf.memory();
    for (let i = 0; i < 3; i++) tf.transpose(x, [2, 0, 3, 1, 4]).dispose();
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.engine().backend.numDataIds()).toBe(tf.memory().numDataBuffers);
    x.dispose();
  });
});

describe('collapseTranspose', () => {
  it('merges axes that stay adjacent and drops size-1 axes', () => {
    expect(collapseTranspose([2, 3, 4, 5], [2, 3, 0, 1])).toEqual({ shape: [6, 20], perm: [1, 0] });
    expect(collapseTranspose([2, 3, 4], [0, 1, 2])).toEqual({ shape: [24], perm: [0] });
    expect(collapseTranspose([2, 1, 4, 5], [1, 0, 3, 2])).toEqual({ shape: [2, 4, 5], perm: [0, 2, 1] });
    expect(collapseTranspose([4, 6, 3, 2, 5], [2, 0, 3, 1, 4])).toEqual({
      shape: [4, 6, 3, 2, 5],
      perm: [2, 0, 3, 1, 4],
    });
  });
});
