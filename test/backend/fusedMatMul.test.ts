import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patchWasm } from '../../src/backend/patchWasm.js';
import { biasClampInPlace } from '../../src/backend/wasm/fusedMatMul.js';
import { isLrfreeKernel } from '../../src/backend/wasm/heap.js';
import { data, on, wasmVsCpu } from './compare.js';

type Activation = 'linear' | 'relu' | 'relu6' | 'sigmoid' | 'leakyrelu' | 'elu';

/** A fused product on fixed data; scale 4 sends some outputs past relu6's cap. */
function fused(
  m: number,
  k: number,
  n: number,
  activation: Activation,
  withBias: boolean,
  transposeB = false,
) {
  return () =>
    tf.fused.matMul({
      a: tf.mul(tf.tensor2d(data([m, k], 1), [m, k]), 4),
      b: transposeB ? tf.tensor2d(data([n, k], 2), [n, k]) : tf.tensor2d(data([k, n], 2), [k, n]),
      transposeB,
      bias: withBias ? tf.tensor1d(data([n], 3)) : undefined,
      activation,
    });
}

describe('_FusedMatMul on patched wasm', () => {
  beforeAll(() => {
    expect(patchWasm()).toContain('_FusedMatMul');
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it("is lrfree's kernel after patchWasm", () => {
    expect(isLrfreeKernel('_FusedMatMul', 'wasm')).toBe(true);
  });

  it.each([
    [5, 7, 3, 'linear', true],
    [5, 7, 3, 'relu', true],
    [5, 7, 3, 'relu6', true],
    [5, 7, 3, 'relu', false],
    [128, 784, 16, 'relu', true],
    [1, 9, 4, 'relu6', false],
  ] as const)('%dx%dx%d %s (bias %s) matches cpu', async (m, k, n, act, bias) => {
    const { err, sizes } = await wasmVsCpu(fused(m, k, n, act, bias));
    expect(sizes).toEqual([m * n]);
    expect(err).toBeLessThan(1e-5);
  });

  it('computes exactly BatchMatMul, then the bias, then the activation (the unfused ops, bit for bit)', async () => {
    const args = { m: 33, k: 50, n: 20 };
    const a = () => tf.mul(tf.tensor2d(data([args.m, args.k], 1), [args.m, args.k]), 4);
    const b = () => tf.tensor2d(data([args.k, args.n], 2), [args.k, args.n]);
    const bias = () => tf.tensor1d(data([args.n], 3));
    const [got] = await on('wasm', fused(args.m, args.k, args.n, 'relu', true));
    const [ref] = await on('wasm', () => tf.relu(tf.add(tf.matMul(a(), b()), bias())));
    expect(Array.from(got)).toEqual(Array.from(ref));
    expect(got.some((x) => x === 0) && got.some((x) => x > 0)).toBe(true);
  });

  it.each([
    ['sigmoid', false],
    ['leakyrelu', false],
    ['elu', false],
    ['relu', true],
    ['relu6', true],
    ['linear', true],
  ] as const)('%s (transposed b: %s) matches cpu', async (act, t) => {
    const { err } = await wasmVsCpu(fused(6, 5, 4, act, true, t));
    expect(err).toBeLessThan(1e-5);
  });

  it('broadcasts a one-value bias over 6 columns (one SIMD block and a tail), matching cpu', async () => {
    const f = () =>
      tf.fused.matMul({
        a: tf.tensor2d(data([9, 5], 1), [9, 5]),
        b: tf.tensor2d(data([5, 6], 2), [5, 6]),
        bias: tf.tensor1d([0.25]),
        activation: 'relu',
      });
    const { err, sizes } = await wasmVsCpu(f);
    expect(sizes).toEqual([54]);
    expect(err).toBeLessThan(1e-5);
  });

  it('prelu matches cpu', async () => {
    const f = () =>
      tf.fused.matMul({
        a: tf.tensor2d(data([6, 5], 1), [6, 5]),
        b: tf.tensor2d(data([5, 4], 2), [5, 4]),
        bias: tf.tensor1d(data([4], 3)),
        activation: 'prelu',
        preluActivationWeights: tf.tensor1d([0.1, 0.2, 0.3, 0.4]),
      });
    const { err } = await wasmVsCpu(f);
    expect(err).toBeLessThan(1e-5);
  });

  it('adds the bias once when the shared dimension exceeds 48 with a transposed operand (stock adds it per block)', async () => {
    const { err } = await wasmVsCpu(fused(7, 100, 5, 'linear', true, true));
    expect(err).toBeLessThan(1e-5);
  });

  it('handles batched products with a bias, matching cpu', async () => {
    const f = () =>
      tf.fused.matMul({
        a: tf.tensor3d(data([2, 3, 5], 4), [2, 3, 5]),
        b: tf.tensor3d(data([2, 5, 4], 5), [2, 5, 4]),
        bias: tf.tensor1d(data([4], 6)),
        activation: 'relu',
      });
    const { err, sizes } = await wasmVsCpu(f);
    expect(sizes).toEqual([24]);
    expect(err).toBeLessThan(1e-5);
  });
});

describe('biasClampInPlace', () => {
  it('adds the bias per column and clamps', () => {
    const out = Float32Array.from([1, -2, 3, -4, 5, 10]);
    biasClampInPlace(out, 3, Float32Array.from([0.5, 1, -1]), 0, 6);
    expect(Array.from(out)).toEqual([1.5, 0, 2, 0, 6, 6]);
  });

  it('broadcasts a one-value bias', () => {
    const out = Float32Array.from([1, -2, 3, -4]);
    biasClampInPlace(out, 2, Float32Array.from([1]), Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY);
    expect(Array.from(out)).toEqual([2, -1, 4, -3]);
  });

  it('leaves values alone with no bias and no clamp', () => {
    const out = Float32Array.from([1, -2]);
    biasClampInPlace(out, 2, undefined, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY);
    expect(Array.from(out)).toEqual([1, -2]);
  });
});
