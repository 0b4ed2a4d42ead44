import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patchWasm } from '../../src/backend/patchWasm.js';
import { isLrfreeKernel } from '../../src/backend/wasm/heap.js';
import { data, on } from './compare.js';

describe('Identity and Cast on patched wasm', () => {
  beforeAll(async () => {
    expect(patchWasm()).toEqual(expect.arrayContaining(['Identity', 'Cast']));
    await tf.setBackend('wasm');
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('are installed', () => {
    expect(isLrfreeKernel('Identity', 'wasm')).toBe(true);
    expect(isLrfreeKernel('Cast', 'wasm')).toBe(true);
  });

  it.each([[[]], [[1]], [[5]], [[0]], [[7, 9]], [[2, 3, 4]]])(
    'clone and same-dtype cast share the data and keep it alive after the original goes (%j)',
    (shape) => {
      for (const dtype of ['float32', 'int32', 'bool'] as const) {
        const values = Array.from(data(shape, 1), (v) => (dtype === 'float32' ? v : v > 0 ? 1 : 0));
        const x = tf.tensor(values, shape, dtype);
        const buffers = tf.memory().numDataBuffers;
        const c = x.clone();
        const k = tf.cast(x, dtype);
        expect(tf.memory().numDataBuffers).toBe(buffers);
        x.dispose();
        expect(c.shape).toEqual(shape);
        expect(k.dtype).toBe(dtype);
        expect(Array.from(c.dataSync())).toEqual(values);
        expect(Array.from(k.dataSync())).toEqual(values);
        c.dispose();
        expect(Array.from(k.dataSync())).toEqual(values);
        k.dispose();
        expect(tf.memory().numDataBuffers).toBe(buffers - 1);
      }
    },
  );

  it('a clone of a variable keeps the old values after assign', () => {
    const v = tf.variable(tf.tensor([1, 2, 3]));
    const c = v.clone();
    v.assign(tf.tensor([4, 5, 6]));
    expect(Array.from(c.dataSync())).toEqual([1, 2, 3]);
    expect(Array.from(v.dataSync())).toEqual([4, 5, 6]);
    tf.dispose([v, c]);
  });

  it('casts between dtypes and clones strings as cpu does', async () => {
    // Numbers that truncate to 0 or wrap modulo 256 in a byte, NaN and infinities.
    const values = [...Array.from(data([13], 2), (v) => v * 5), 0.5, -0.5, 256, -1, 512, NaN, Infinity, -0];
    const f = () => [
      tf.cast(tf.tensor(values), 'bool'),
      tf.cast(tf.tensor([256, -1, 0, 512, 1], [5], 'int32'), 'bool'),
      tf.cast(tf.tensor(values), 'int32'),
      tf.cast(tf.tensor(values), 'bool'),
      tf.cast(tf.cast(tf.tensor(values), 'int32'), 'float32'),
      tf.cast(tf.tensor([true, false, true], [3], 'bool'), 'float32'),
      tf.cast(tf.tensor([3, -2, 0], [3], 'int32'), 'bool'),
    ];
    const cpu = await on('cpu', f);
    const wasm = await on('wasm', f);
    expect(wasm.map((a) => Array.from(a))).toEqual(cpu.map((a) => Array.from(a)));
    const s = tf.tensor(['a', 'bc']);
    const sc = s.clone();
    s.dispose();
    expect(sc.dataSync()).toEqual(['a', 'bc']);
    sc.dispose();
  });

  it('gradients through clones and casts match cpu', async () => {
    const f = () => {
      const x = tf.tensor(data([4, 6], 3), [4, 6]);
      const w = tf.tensor(data([6, 3], 4), [6, 3]);
      const g = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.relu(tf.matMul(tf.cast(a.clone(), 'float32'), b.clone()))),
      )([x, w]);
      return g;
    };
    const cpu = await on('cpu', f);
    const wasm = await on('wasm', f);
    for (let i = 0; i < cpu.length; i++) {
      for (let j = 0; j < cpu[i].length; j++) expect(wasm[i][j]).toBeCloseTo(cpu[i][j], 5);
    }
  });

  it('leak nothing over many calls', () => {
    const x = tf.tensor(data([100], 5));
    const before = tf.memory();
    for (let i = 0; i < 100; i++) {
      tf.dispose([x.clone(), tf.cast(x, 'float32'), tf.cast(x, 'int32')]);
    }
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numDataBuffers).toBe(before.numDataBuffers);
    expect(tf.memory().numBytes).toBe(before.numBytes);
    x.dispose();
  });
});
