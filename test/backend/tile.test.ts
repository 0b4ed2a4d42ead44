import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { patchWasm } from '../../src/backend/patchWasm.js';
import { isLrfreeKernel } from '../../src/backend/wasm/heap.js';
import { tileInto } from '../../src/backend/wasm/tile.js';
import { data, kernel, on, wasmVsCpu } from './compare.js';

describe('Tile on patched wasm vs the cpu reference', () => {
  beforeAll(() => {
    patchWasm();
  });

  it("is lrfree's kernel after patchWasm", () => {
    expect(isLrfreeKernel('Tile', 'wasm')).toBe(true);
  });

  it.each([
    [[5], [3]],
    [
      [1, 256],
      [64, 1],
    ],
    [
      [3, 4],
      [2, 3],
    ],
    [
      [2, 1, 3],
      [1, 4, 2],
    ],
    [
      [1, 1, 1, 7],
      [2, 3, 1, 2],
    ],
    [
      [4, 3],
      [1, 1],
    ],
    [
      [2, 3, 4, 5],
      [2, 1, 3, 1],
    ],
  ] as [number[], number[]][])('x %j reps %j equals cpu exactly', async (shape, reps) => {
    const f = () => kernel('Tile', { x: tf.tensor(data(shape, 3), shape) }, { reps });
    const { err, sizes } = await wasmVsCpu(f);
    expect(sizes[0]).toBe(shape.reduce((a, b, i) => a * b * reps[i], 1));
    expect(err).toBe(0);
  });

  it('tiles int32 and bool tensors, keeping the dtype', async () => {
    await tf.setBackend('wasm');
    const i = tf.tile(tf.tensor2d([1, -2, 3, 4], [2, 2], 'int32'), [2, 1]);
    expect(i.dtype).toBe('int32');
    expect(Array.from(i.dataSync())).toEqual([1, -2, 3, 4, 1, -2, 3, 4]);
    const b = tf.tile(tf.tensor1d([true, false, true], 'bool'), [2]);
    expect(b.dtype).toBe('bool');
    expect(Array.from(b.dataSync())).toEqual([1, 0, 1, 1, 0, 1]);
    tf.dispose([i, b]);
  });

  it('gives broadcasting tf.where and the BatchNorm gradient the cpu numbers', async () => {
    const f = () => {
      const cond = tf.tensor3d([1, 0, 1], [1, 3, 1]).cast('bool');
      const a = tf.tensor(data([4, 3, 2], 5), [4, 3, 2]);
      const w = tf.where(cond, a, tf.scalar(0));
      const x = tf.tensor(data([8, 6], 6), [8, 6]);
      const { mean, variance } = tf.moments(x, 0);
      const scale = tf.tensor1d(data([6], 7));
      // The rank-1 statistics make FusedBatchNorm's dx tile 1/sqrt(var) over the batch.
      const g = tf.grad((t: tf.Tensor) =>
        tf
          .batchNorm(t, mean, variance, tf.zeros([6]), scale, 1e-3)
          .square()
          .sum(),
      )(x);
      return [w, g];
    };
    const { err } = await wasmVsCpu(f);
    expect(err).toBeLessThanOrEqual(1e-5);
  });

  it('leaves empty outputs empty and handles scalars', async () => {
    const [empty] = await on('wasm', () => tf.tile(tf.zeros([0, 3]), [2, 2]));
    expect(empty.length).toBe(0);
    const [s] = await on('wasm', () => kernel('Tile', { x: tf.scalar(4.5) }, { reps: [] }));
    expect(Array.from(s)).toEqual([4.5]);
  });
});

describe('tileInto', () => {
  it('matches a per-element index reference on random shapes', () => {
    let seed = 1;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return 1 + (seed % n);
    };
    for (let trial = 0; trial < 50; trial++) {
      const r = rnd(4);
      const shape = Array.from({ length: r }, () => rnd(4));
      const reps = Array.from({ length: r }, () => rnd(3));
      const n = shape.reduce((a, b) => a * b, 1);
      const src = Float32Array.from({ length: n }, (_, i) => i + 0.5);
      const out = shape.map((s, a) => s * reps[a]);
      const dst = new Float32Array(out.reduce((a, b) => a * b, 1));
      tileInto(src, shape, reps, dst);
      for (let k = 0; k < dst.length; k++) {
        // Unravel k in the output, fold each coordinate back into the source.
        let rest = k;
        let idx = 0;
        let stride = 1;
        for (let a = r - 1; a >= 0; a--) {
          const c = rest % out[a];
          rest = Math.floor(rest / out[a]);
          idx += (c % shape[a]) * stride;
          stride *= shape[a];
        }
        expect(dst[k]).toBe(src[idx]);
      }
    }
  });
});
