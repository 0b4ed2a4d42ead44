import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { patchWasm } from '../../src/backend/patchWasm.js';
import { gatherInto } from '../../src/backend/wasm/gather.js';
import { isLrfreeKernel } from '../../src/backend/wasm/heap.js';
import { sliceInto } from '../../src/backend/wasm/slice.js';
import { data, on, wasmVsCpu } from './compare.js';

describe('Slice and GatherV2 on patched wasm vs the cpu reference', () => {
  beforeAll(() => {
    expect(patchWasm()).toEqual(expect.arrayContaining(['Slice', 'GatherV2']));
  });

  it("are lrfree's kernels after patchWasm", () => {
    expect(isLrfreeKernel('Slice', 'wasm')).toBe(true);
    expect(isLrfreeKernel('GatherV2', 'wasm')).toBe(true);
  });

  it.each([
    [[10], [3], [4]],
    [
      [50, 7],
      [20, 0],
      [5, 7],
    ],
    [
      [50, 7],
      [3, 2],
      [10, 4],
    ],
    [
      [4, 5, 6],
      [1, 0, 0],
      [2, 5, 6],
    ],
    [
      [4, 5, 6],
      [0, 2, 1],
      [4, 3, 5],
    ],
    [
      [2, 3, 4, 5],
      [1, 1, 0, 2],
      [1, 2, 4, -1],
    ],
    [
      [3, 4],
      [0, 0],
      [3, 4],
    ],
  ] as [number[], number[], number[]][])(
    'slice of %j at %j size %j equals cpu exactly',
    async (shape, begin, size) => {
      const { err, sizes } = await wasmVsCpu(() => tf.slice(tf.tensor(data(shape, 2), shape), begin, size));
      const expected = size.map((s, i) => (s === -1 ? shape[i] - begin[i] : s)).reduce((a, b) => a * b, 1);
      expect(sizes[0]).toBe(expected);
      expect(err).toBe(0);
    },
  );

  it.each([
    [[6, 4], [5, 0, 0, 3], 0],
    [[6, 40], [5, 0, 2], 0],
    [[3, 5, 2], [4, 4, 1], 1],
    [[3, 5, 2], [1, 0], 2],
    [[7], [6, 1, 1, 0, 2], 0],
  ] as [number[], number[], number][])(
    'gather of %j at %j on axis %i equals cpu exactly',
    async (shape, idx, axis) => {
      const f = () => tf.gather(tf.tensor(data(shape, 3), shape), tf.tensor1d(idx, 'int32'), axis);
      const { err, sizes } = await wasmVsCpu(f);
      expect(sizes[0]).toBe((shape.reduce((a, b) => a * b, 1) / shape[axis]) * idx.length);
      expect(err).toBe(0);
    },
  );

  it('gathers with batchDims 1 and 2 like cpu', async () => {
    const f = () => [
      tf.gather(
        tf.tensor(data([3, 4, 5], 8), [3, 4, 5]),
        tf.tensor2d([3, 0, 1, 1, 2, 2], [3, 2], 'int32'),
        1,
        1,
      ),
      tf.gather(
        tf.tensor(data([2, 3, 4, 6], 9), [2, 3, 4, 6]),
        tf.tensor3d([0, 3, 1, 2, 2, 2, 3, 0, 1, 1, 0, 0], [2, 3, 2], 'int32'),
        2,
        2,
      ),
    ];
    const { err, sizes } = await wasmVsCpu(f);
    expect(sizes).toEqual([3 * 2 * 5, 2 * 3 * 2 * 6]);
    expect(err).toBe(0);
  });

  it('gathers with 2-D indices (an Embedding layer) and its gradient matches cpu', async () => {
    const f = () => {
      const table = tf.tensor(data([12, 16], 4), [12, 16]);
      const ids = tf.tensor2d([1, 11, 0, 5, 5, 3], [2, 3], 'int32');
      const g = tf.grad((t: tf.Tensor) => tf.gather(t, ids).square().sum())(table);
      return [tf.gather(table, ids), g];
    };
    const { err, sizes } = await wasmVsCpu(f);
    expect(sizes).toEqual([2 * 3 * 16, 12 * 16]);
    expect(err).toBeLessThanOrEqual(1e-6);
  });

  it('keeps int32 and bool dtypes, and batchDims > 0 gives the cpu numbers (stock wasm did not); strings still slice', async () => {
    await tf.setBackend('wasm');
    const i = tf.slice(tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2], 'int32'), [1, 0], [2, 2]);
    expect(i.dtype).toBe('int32');
    expect(Array.from(i.dataSync())).toEqual([3, 4, 5, 6]);
    const b = tf.gather(tf.tensor1d([true, false, true], 'bool'), tf.tensor1d([2, 1], 'int32'));
    expect(b.dtype).toBe('bool');
    expect(Array.from(b.dataSync())).toEqual([1, 0]);
    const batched = tf.gather(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([1, 0], [2, 1], 'int32'), 1, 1);
    expect(Array.from(batched.dataSync())).toEqual([2, 3]);
    // Strings have no heap view: they go to the stock kernels.
    const s = tf.slice(tf.tensor1d(['a', 'b', 'c']), [1], [2]);
    expect(s.dataSync()).toEqual(['b', 'c']);
    tf.dispose([i, b, batched, s]);
  });

  it('refuses an out-of-range index with the index in the message, and leaves empty slices empty', async () => {
    await tf.setBackend('wasm');
    expect(() => tf.gather(tf.tensor1d([1, 2, 3]), tf.tensor1d([3], 'int32'))).toThrow(/index value 3/);
    const [empty] = await on('wasm', () => tf.slice(tf.zeros([4, 3]), [1, 0], [0, 3]));
    expect(empty.length).toBe(0);
  });
});

describe('sliceInto and gatherInto', () => {
  it('sliceInto matches a per-element reference on random boxes', () => {
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let trial = 0; trial < 60; trial++) {
      const r = 1 + rnd(4);
      const shape = Array.from({ length: r }, () => 1 + rnd(5));
      const begin = shape.map((s) => rnd(s));
      const size = shape.map((s, a) => 1 + rnd(s - begin[a]));
      const src = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => i);
      const dst = new Float32Array(size.reduce((a, b) => a * b, 1));
      sliceInto(src, shape, begin, size, dst);
      for (let k = 0; k < dst.length; k++) {
        let rest = k;
        let idx = 0;
        let stride = 1;
        for (let a = r - 1; a >= 0; a--) {
          const c = rest % size[a];
          rest = Math.floor(rest / size[a]);
          idx += (begin[a] + c) * stride;
          stride *= shape[a];
        }
        expect(dst[k]).toBe(src[idx]);
      }
    }
  });

  it('gatherInto copies wide and narrow rows alike', () => {
    for (const row of [1, 5, 31, 32, 100]) {
      const src = Float32Array.from({ length: 2 * 4 * row }, (_, i) => i);
      const dst = new Float32Array(2 * 3 * row);
      gatherInto(src, { batch: 1, outer: 2, dim: 4, row }, [3, 0, 3], dst);
      const expected = [0, 1].flatMap((o) =>
        [3, 0, 3].flatMap((i) => Array.from({ length: row }, (_, j) => (o * 4 + i) * row + j)),
      );
      expect(Array.from(dst)).toEqual(expected);
    }
  });
});
