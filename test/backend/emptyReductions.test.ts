/**
 * Reductions over an empty axis on wasm return what the cpu backend returns (the stock wasm kernels
 * returned uninitialised heap memory), with the same shape and dtype; non-empty reductions are unchanged.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { patchWasm } from '../../src/backend/patchWasm.js';
import { EMPTY_REDUCTIONS } from '../../src/backend/wasm/emptyReductions.js';

interface Case {
  shape: number[];
  axis?: number | number[];
  keepDims?: boolean;
}
const CASES: Case[] = [
  { shape: [0] },
  { shape: [2, 0], axis: 1 },
  { shape: [2, 0], axis: 1, keepDims: true },
  { shape: [0, 3], axis: 0 },
  { shape: [3, 0, 4], axis: [1] },
  { shape: [3, 0, 4], axis: [0, 1] },
  { shape: [0, 3], axis: 1 },
];

/** The reduction `name` of `x` through its op (what a user calls). */
function reduce(name: string, x: tf.Tensor, c: Case): tf.Tensor {
  const axis = c.axis;
  const keep = c.keepDims ?? false;
  switch (name) {
    case 'Sum':
      return tf.sum(x, axis, keep);
    case 'Prod':
      return tf.prod(x, axis, keep);
    case 'Max':
      return tf.max(x, axis, keep);
    case 'Min':
      return tf.min(x, axis, keep);
    case 'Mean':
      return tf.mean(x, axis, keep);
    case 'All':
      return tf.all(tf.cast(x, 'bool'), axis, keep);
    case 'Any':
      return tf.any(tf.cast(x, 'bool'), axis, keep);
    case 'ArgMax':
      return tf.argMax(x, typeof axis === 'number' ? axis : 0);
    default:
      return tf.argMin(x, typeof axis === 'number' ? axis : 0);
  }
}

async function run(backend: 'cpu' | 'wasm', name: string, c: Case, dtype: 'float32' | 'int32') {
  await tf.setBackend(backend);
  const out = tf.tidy(() => reduce(name, tf.zeros(c.shape, dtype), c));
  const result = { shape: out.shape, dtype: out.dtype, values: Array.from(out.dataSync()) };
  out.dispose();
  return result;
}

describe('reductions over an empty axis on wasm vs the cpu reference', () => {
  beforeAll(() => {
    patchWasm();
  });

  it('covers every reduction kernel it names', () => {
    expect(EMPTY_REDUCTIONS).toEqual(['Sum', 'Prod', 'Max', 'Min', 'Mean', 'All', 'Any', 'ArgMax', 'ArgMin']);
  });

  for (const name of EMPTY_REDUCTIONS) {
    it.each(CASES)(
      `${name} of zeros %j: same shape, dtype and values as cpu (float32 and int32)`,
      async (c) => {
        if ((name === 'ArgMax' || name === 'ArgMin') && Array.isArray(c.axis)) return;
        for (const dtype of ['float32', 'int32'] as const) {
          const ref = await run('cpu', name, c, dtype);
          // Twice: garbage from the heap differs from call to call, a fixed value does not.
          for (let i = 0; i < 2; i++) {
            const got = await run('wasm', name, c, dtype);
            expect({ ...got, name, dtype }).toEqual({ ...ref, name, dtype });
          }
        }
      },
    );
  }

  it('leaves non-empty reductions to the stock kernels (same values as cpu)', async () => {
    const x = () => tf.tensor2d([1, -2, 3, 4, 0.5, -6], [2, 3]);
    for (const name of EMPTY_REDUCTIONS) {
      const c = { shape: [2, 3], axis: 1 };
      await tf.setBackend('cpu');
      const ref = tf.tidy(() => Array.from(reduce(name, x(), c).dataSync()));
      await tf.setBackend('wasm');
      const got = tf.tidy(() => Array.from(reduce(name, x(), c).dataSync()));
      expect(got).toHaveLength(ref.length);
      for (const [i, v] of got.entries()) {
        expect(Math.abs(v - ref[i])).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(ref[i])));
      }
    }
  });
});
