/**
 * lrfree's SIMD Add, Sub, Multiply, RealDiv (broadcast operand) and Sqrt on wasm: bit-identical to the cpu
 * backend (one IEEE float32 operation per element; cpu's double-then-round is the same for these) and to
 * the stock wasm kernels, on awkward sizes; the broadcast plan; no leaks.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { patchWasm } from '../../src/backend/patchWasm.js';
import { binaryPlan } from '../../src/backend/wasm/elementwise.js';
import { isLrfreeKernel, stockKernel } from '../../src/backend/wasm/heap.js';
import { data, on } from './compare.js';

type Op = 'add' | 'sub' | 'mul' | 'div';
const OPS: Op[] = ['add', 'sub', 'mul', 'div'];
const FNS = { add: tf.add, sub: tf.sub, mul: tf.mul, div: tf.div };

// [a shape, b shape]: scalars on either side, biases (trailing axes, with and without leading 1s), sizes
// that are not multiples of 4, one element, empty, large, equal shapes (stock path) and a broadcast the
// SIMD kernel leaves to stock ([3, 1] with [1, 4]).
const SHAPES: [number[], number[]][] = [
  [[7], []],
  [[], [7]],
  [[5, 7], [7]],
  [[7], [5, 7]],
  [
    [2, 3, 5],
    [3, 5],
  ],
  [
    [2, 3, 5],
    [1, 1, 5],
  ],
  [[3], [1, 1]],
  [[1], [1]],
  [[0, 4], [4]],
  [[784, 129], []],
  [[128, 130], [130]],
  [
    [6, 6],
    [6, 6],
  ],
  [
    [3, 1],
    [1, 4],
  ],
];

/** Data with zeros, negatives and a NaN, so that division by zero, sqrt of negatives and NaN propagate. */
function values(shape: number[], seed: number): Float32Array {
  const v = data(shape, seed);
  if (v.length > 2) {
    v[0] = 0;
    v[v.length - 1] = Number.NaN;
  }
  return v;
}

const same = (a: Float32Array, b: Float32Array) =>
  a.length === b.length && a.every((x, i) => Object.is(x, b[i]));

describe('SIMD elementwise kernels on wasm vs cpu', () => {
  beforeAll(async () => {
    patchWasm();
    await tf.setBackend('wasm');
  });

  it("runs lrfree's kernels here (otherwise these cases would test the stock ones)", () => {
    for (const name of ['Add', 'Sub', 'Multiply', 'RealDiv', 'Sqrt'])
      expect(isLrfreeKernel(name, 'wasm')).toBe(true);
  });

  it.each(SHAPES.flatMap(([as, bs]) => OPS.map((op) => [op, as, bs] as const)))(
    '%s %j with %j: bit-identical to cpu, same shape',
    async (op, as, bs) => {
      const f = () => FNS[op](tf.tensor(values(as, 1), as), tf.tensor(values(bs, 2), bs));
      const ref = await on('cpu', f);
      const got = await on('wasm', f);
      expect(same(got[0], ref[0])).toBe(true);
      const shape = tf.tidy(() => f().shape);
      await tf.setBackend('cpu');
      expect(shape).toEqual(tf.tidy(() => f().shape));
    },
  );

  it.each([[[0]], [[1]], [[7]], [[784, 128]], [[3, 5, 9]]])(
    'sqrt %j: bit-identical to cpu and to stock wasm',
    async (shape) => {
      const f = () => tf.sqrt(tf.tensor(values(shape, 3), shape));
      const ref = await on('cpu', f);
      const got = await on('wasm', f);
      expect(same(got[0], ref[0])).toBe(true);
      // The stock kernel on the same input.
      const stock = stockKernel('Sqrt')!;
      const x = tf.tensor(values(shape, 3), shape);
      const out = stock.kernelFunc({ inputs: { x }, backend: tf.backend(), attrs: {} }) as tf.TensorInfo;
      const t = tf.engine().makeTensorFromTensorInfo(out);
      expect(same(t.dataSync() as Float32Array, got[0])).toBe(true);
      tf.dispose([x, t]);
    },
  );

  it('computes sqrt of negatives as NaN and keeps float32 results for int32 inputs (stock path)', async () => {
    const [r] = await on('wasm', () => tf.sqrt(tf.tensor1d([-1, 4, 0, 2.25, 9, -0])));
    expect(Array.from(r)).toEqual([Number.NaN, 2, 0, 1.5, 3, -0]);
    const [i] = await on('wasm', () => tf.add(tf.tensor1d([1, 2, 3], 'int32'), tf.scalar(2, 'int32')));
    expect(Array.from(i)).toEqual([3, 4, 5]);
  });

  it('leaks no tensors or heap memory', async () => {
    await tf.setBackend('wasm');
    const a = tf.tensor(data([9, 13], 1), [9, 13]);
    const b = tf.tensor(data([13], 2), [13]);
    tf.tidy(() => [tf.add(a, b), tf.div(2, a), tf.sqrt(a)]);
    const before = tf.memory();
    tf.dispose([tf.add(a, b), tf.sub(1, a), tf.mul(a, 3), tf.div(a, b), tf.sqrt(a)]);
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numBytes).toBe(before.numBytes);
    expect(tf.engine().backend.numDataIds()).toBe(tf.memory().numDataBuffers);
    tf.dispose([a, b]);
  });
});

describe('binaryPlan', () => {
  it('names the repeating operand and its period, or refuses', () => {
    expect(binaryPlan([5, 7], [7])).toEqual({ outShape: [5, 7], yIsA: false, period: 7 });
    expect(binaryPlan([], [5, 7])).toEqual({ outShape: [5, 7], yIsA: true, period: 1 });
    expect(binaryPlan([3], [1, 1])).toEqual({ outShape: [1, 3], yIsA: false, period: 1 });
    expect(binaryPlan([2, 3, 5], [1, 3, 5])).toEqual({ outShape: [2, 3, 5], yIsA: false, period: 15 });
    expect(binaryPlan([3, 1], [1, 4])).toBeUndefined();
    expect(binaryPlan([5, 7], [5])).toBeUndefined();
    expect(binaryPlan([5, 7], [6, 7])).toBeUndefined();
  });
});
