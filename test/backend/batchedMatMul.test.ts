import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { patchWasm } from '../../src/backend/patchWasm.js';
import { batchedShapes, sliceIndices } from '../../src/backend/wasm/batchedMatMul.js';
import { simdKernels } from '../../src/backend/wasm/simd/instance.js';
import { data, on, relErr, wasmVsCpu } from './compare.js';

type Case = [number[], number[], boolean, boolean];

const FLAGS: [boolean, boolean][] = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
];

/** a and b shapes for `a @ b` with the flags, from the product's batch shapes and m, k, n. */
function shapesFor(
  outerA: number[],
  outerB: number[],
  m: number,
  k: number,
  n: number,
  ta: boolean,
  tb: boolean,
) {
  return [
    [...outerA, ...(ta ? [k, m] : [m, k])],
    [...outerB, ...(tb ? [n, k] : [k, n])],
  ];
}

// Every region of the SIMD kernel: full 4 x 8 tiles, partial tiles (m mod 4, n mod 8 in every combination,
// including n = 8 with m mod 4 > 0),
// panels of B with zeros past n; batches with size-1 axes, one side unbatched, rank 4 (attention's
// [batch, heads, T, T]), and sizes 1 in m, k and n. Plain 2-D products (every Dense layer) included, up to
// an MNIST layer's size and past it with odd sizes.
const DIMS: [number[], number[], number, number, number][] = [
  [[], [], 1, 1, 1],
  [[], [], 1, 7, 1],
  [[], [], 3, 5, 7],
  [[], [], 4, 8, 8],
  [[], [], 5, 9, 17],
  [[], [], 7, 3, 9],
  // n = 8 exactly with a partial row block: the partial tile's row stride equals C's.
  [[], [], 6, 5, 8],
  [[2], [2], 10, 10, 8],
  [[], [], 128, 784, 128],
  [[], [], 131, 257, 67],
  [[1], [1], 6, 10, 13],
  [[3], [3], 5, 7, 3],
  [[2], [2], 4, 3, 8],
  [[2], [2], 8, 16, 16],
  [[4], [4], 13, 9, 27],
  [[3], [3], 1, 1, 1],
  [[2], [2], 1, 5, 9],
  [[2], [2], 9, 1, 6],
  [[2], [2], 6, 5, 1],
  [[2, 3], [2, 3], 17, 16, 12],
  [[2, 4], [2, 4], 64, 16, 64],
  [[5], [], 6, 7, 11],
  [[], [5], 6, 7, 11],
  [[1], [4], 7, 5, 9],
  [[4], [1], 7, 5, 9],
  [[1, 1], [1, 3], 4, 4, 4],
  [[2, 70], [2, 70], 3, 2, 5],
];

const CASES: Case[] = DIMS.flatMap(([oa, ob, m, k, n]) =>
  FLAGS.map(([ta, tb]) => {
    const [as, bs] = shapesFor(oa, ob, m, k, n, ta, tb);
    return [as, bs, ta, tb] as Case;
  }),
);

describe('BatchMatMul (2-D and batched) on patched wasm vs the cpu reference', () => {
  beforeAll(async () => {
    patchWasm();
    await tf.setBackend('wasm');
  });

  it("runs on lrfree's SIMD kernel here (otherwise these cases would test the stock kernel)", () => {
    expect(simdKernels(tf.backend())).toBeDefined();
  });

  it.each(CASES)('a %j b %j transposeA %j transposeB %j', async (as, bs, ta, tb) => {
    const f = () => tf.matMul(tf.tensor(data(as, 1), as), tf.tensor(data(bs, 2), bs), ta, tb);
    const ref = await on('cpu', f);
    const got = await on('wasm', f);
    expect(got[0].length).toBe(ref[0].length);
    expect(relErr(got[0], ref[0])).toBeLessThanOrEqual(1e-5);
    const wasmShape = tf.tidy(() => f().shape);
    await tf.setBackend('cpu');
    expect(wasmShape).toEqual(tf.tidy(() => f().shape));
  });

  it('broadcasts batch axes both ways ([2, 1] with [1, 3]) like an explicit broadcastTo on cpu', async () => {
    const [as, bs] = [
      [2, 1, 5, 6],
      [1, 3, 6, 7],
    ];
    const got = await on('wasm', () => tf.matMul(tf.tensor(data(as, 3), as), tf.tensor(data(bs, 4), bs)));
    const ref = await on('cpu', () =>
      tf.matMul(
        tf.broadcastTo(tf.tensor(data(as, 3), as), [2, 3, 5, 6]),
        tf.broadcastTo(tf.tensor(data(bs, 4), bs), [2, 3, 6, 7]),
      ),
    );
    expect(got[0].length).toBe(2 * 3 * 5 * 7);
    expect(relErr(got[0], ref[0])).toBeLessThanOrEqual(1e-5);
  });

  it('gives an empty output for empty batches and zeros for k = 0', async () => {
    await tf.setBackend('wasm');
    expect(tf.tidy(() => tf.matMul(tf.zeros([0, 3, 4]), tf.zeros([0, 4, 2])).shape)).toEqual([0, 3, 2]);
    const z = await on('wasm', () => tf.matMul(tf.ones([2, 3, 0]), tf.ones([2, 0, 5])));
    expect(Array.from(z[0])).toEqual(new Array(30).fill(0));
  });

  it('keeps the stock error for mismatched inner sizes', async () => {
    await tf.setBackend('wasm');
    expect(() => tf.tidy(() => tf.matMul(tf.ones([2, 3, 4]), tf.ones([2, 5, 2])))).toThrow(/inner shapes/);
  });

  it('gives the gradients of attention (softmax(q k^T) v) as cpu does', async () => {
    const [q, k, v] = [1, 2, 3].map((s) => data([2, 3, 10, 8], s));
    const f = () => {
      const loss = (qt: tf.Tensor, kt: tf.Tensor, vt: tf.Tensor) =>
        tf
          .matMul(tf.softmax(tf.matMul(qt, kt, false, true)), vt)
          .square()
          .sum();
      return tf.grads(loss)([q, k, v].map((x) => tf.tensor(x, [2, 3, 10, 8])));
    };
    const { err } = await wasmVsCpu(f);
    expect(err).toBeLessThanOrEqual(1e-5);
  });

  it('leaks no tensors or heap memory', async () => {
    await tf.setBackend('wasm');
    const a = tf.tensor(data([4, 20, 30], 1), [4, 20, 30]);
    const b = tf.tensor(data([4, 10, 30], 2), [4, 10, 30]);
    const c = tf.tensor(data([4, 5, 20], 3), [4, 5, 20]);
    tf.matMul(a, b, false, true).dispose();
    const before = tf.memory();
    for (let i = 0; i < 3; i++) tf.matMul(a, b, false, true).dispose();
    for (let i = 0; i < 3; i++) tf.matMul(a, c, true, true).dispose();
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numBytes).toBe(before.numBytes);
    expect(tf.engine().backend.numDataIds()).toBe(tf.memory().numDataBuffers);
    tf.dispose([a, b, c]);
  });
});

describe('batched shapes and slice indices', () => {
  const info = (shape: number[]) => ({ shape, dtype: 'float32', dataId: {} }) as tf.TensorInfo;

  it('broadcast the batch axes as NumPy does, and refuse what does not fit', () => {
    expect(batchedShapes(info([2, 1, 5, 6]), info([3, 6, 7]), false, false)?.outer).toEqual([2, 3]);
    expect(batchedShapes(info([2, 5, 6]), info([3, 6, 7]), false, false)).toBeUndefined();
    expect(batchedShapes(info([2, 5, 6]), info([2, 5, 7]), false, false)).toBeUndefined();
    expect(batchedShapes(info([2, 6, 5]), info([2, 7, 6]), true, true)).toMatchObject({ m: 5, k: 6, n: 7 });
  });

  it('map each output slice to the input slice it reads', () => {
    expect(Array.from(sliceIndices([2, 3], [2, 1]))).toEqual([0, 0, 0, 1, 1, 1]);
    expect(Array.from(sliceIndices([2, 3], [3]))).toEqual([0, 1, 2, 0, 1, 2]);
    expect(Array.from(sliceIndices([2, 3], [2, 3]))).toEqual([0, 1, 2, 3, 4, 5]);
    expect(Array.from(sliceIndices([2, 3], []))).toEqual([0, 0, 0, 0, 0, 0]);
  });
});
