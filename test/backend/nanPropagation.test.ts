/**
 * NaN and ±Infinity through the wasm kernels give what the cpu backend (the reference) gives. The kernels
 * lrfree fixed (stock wasm turned NaN into a clamp bound, 0, the other operand, 1 or -Infinity):
 * ClipByValue, Relu6, Relu (a NaN with its sign bit set), Maximum, Minimum, Pow, the fused convolutions with
 * ReLU/ReLU6, 1x1 per-channel convolutions, MaxPool, AvgPool. And the important ones that already agreed,
 * so that a regression fails: Softmax, _FusedMatMul with ReLU and a bias, Conv2D, MaxPoolGrad, the
 * gradients of relu, clipByValue and maximum, and the cross-entropy of an all-NaN prediction end to end
 * (stock wasm: a finite 16.1). Inputs mix JavaScript's NaN with the sign-bit NaN that wasm arithmetic makes.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { patchWasm } from '../../src/backend/patchWasm.js';
import { CONV_NAN, clampInPlace, isPerChannel } from '../../src/backend/wasm/convNaN.js';
import { isLrfreeKernel, type WasmBackendLike } from '../../src/backend/wasm/heap.js';
import { NAN_ELEMENTWISE } from '../../src/backend/wasm/nanElementwise.js';
import { NAN_POOLS, poolLikeCpu } from '../../src/backend/wasm/nanPools.js';
import { hasNaN, hasNonFinite } from '../../src/backend/wasm/nonFinite.js';
import { data, kernel, on } from './compare.js';

const N = Number.NaN;
const I = Number.POSITIVE_INFINITY;
const M = Number.NEGATIVE_INFINITY;
/** Specials and ordinary values, 37 of them: the specials land in SIMD bodies and in scalar tails. */
const SPECIALS = [N, I, M, -3, -1, -0.5, 0, 0.5, 1, 3, 7, 1e-8, 1 - 1e-7];
const X37 = Array.from({ length: 37 }, (_, i) => SPECIALS[(i * 7 + 1) % SPECIALS.length]);
/** Every pair of SPECIALS, as a and b. */
const PAIRS_A = SPECIALS.flatMap((a) => SPECIALS.map(() => a));
const PAIRS_B = SPECIALS.flatMap(() => SPECIALS);

/**
 * A float32 copy of `v` whose NaNs at even indices have the sign bit set: the NaN wasm arithmetic makes on
 * x86 (0 * Inf, Inf - Inf, 0 / 0). Stock wasm's Relu kept JavaScript's NaN and turned that one into 0.
 */
function mixedNaN(v: ArrayLike<number>): Float32Array {
  const a = Float32Array.from(v);
  const bits = new Uint32Array(a.buffer);
  for (let i = 0; i < a.length; i += 2) if (Number.isNaN(a[i])) bits[i] = 0xffc00000;
  return a;
}
type Values = ArrayLike<number>;
type IntOrBool = 'int32' | 'bool';
// Tensors with mixed NaN signs; int32 and bool as given.
const T1 = (v: Values | boolean[], dtype?: IntOrBool) =>
  dtype ? tf.tensor1d(Array.from(v as ArrayLike<number>), dtype) : tf.tensor1d(mixedNaN(v as Values));
const T2 = (v: Values, shape: [number, number]) => tf.tensor2d(mixedNaN(v), shape);
const T3 = (v: Values, shape: [number, number, number]) => tf.tensor3d(mixedNaN(v), shape);
const T4 = (v: Values, shape: [number, number, number, number]) => tf.tensor4d(mixedNaN(v), shape);
const S = (v: number) => tf.tensor(mixedNaN([v]), []);

/** `n` uniform values in [-1, 1) with `specials` written at their indices. */
function withSpecials(n: number, seed: number, specials: [number, number][]): Float32Array {
  const v = data([n], seed);
  for (const [i, s] of specials) v[i] = s;
  return v;
}

/**
 * Equal as cpu means: NaN where cpu has NaN, the same infinities, finite values within 1e-5 relative
 * (float32 order of operations) and the same shape.
 */
function expectLikeCpu(got: Float32Array, ref: Float32Array, what: string): void {
  expect(got.length, what).toBe(ref.length);
  const bad: string[] = [];
  for (let i = 0; i < ref.length; i++) {
    const [g, r] = [got[i], ref[i]];
    const ok = Number.isNaN(r)
      ? Number.isNaN(g)
      : Number.isFinite(r)
        ? Math.abs(g - r) <= 1e-5 * Math.max(1, Math.abs(r))
        : g === r;
    if (!ok) bad.push(`[${i}] cpu ${r} wasm ${g}`);
  }
  expect(bad.slice(0, 5), what).toEqual([]);
}

/** Runs `f` on cpu and on wasm and compares every output as {@link expectLikeCpu}; returns wasm's. */
async function likeCpu(what: string, f: () => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
  const ref = await on('cpu', f);
  const got = await on('wasm', f);
  expect(got.length).toBe(ref.length);
  ref.forEach((r, i) => {
    expectLikeCpu(got[i], r, `${what} output ${i}`);
  });
  return got;
}

const img = (seed = 11) =>
  T4(
    withSpecials(2 * 6 * 6 * 3, seed, [
      [0, N],
      [20, I],
      [50, M],
      [130, N],
      [200, I],
    ]),
    [2, 6, 6, 3],
  );
/** A 4x4 image of 19 channels (more than one SIMD lane's worth) with NaN and infinities in it. */
const wideImg = () =>
  T4(
    withSpecials(4 * 4 * 19, 21, [
      [0, N],
      [98, N],
      [207, N],
      [56, I],
      [75, M],
    ]),
    [1, 4, 4, 19],
  );
const filter = () => T4(data([3, 3, 3, 4], 12), [3, 3, 3, 4]);

describe('NaN and infinities on wasm vs the cpu reference', () => {
  beforeAll(async () => {
    patchWasm();
    await tf.setBackend('wasm');
  });

  it("runs lrfree's kernels here (otherwise these cases would test the stock ones)", () => {
    const names = patchWasm();
    for (const name of [...NAN_ELEMENTWISE, ...CONV_NAN, ...NAN_POOLS]) {
      expect(isLrfreeKernel(name, 'wasm'), name).toBe(true);
      expect(names).toContain(name);
    }
  });

  describe('kernels that masked NaN on stock wasm', () => {
    it('ClipByValue keeps NaN and clips the infinities (stock: NaN became the lower bound)', async () => {
      const [small] = await likeCpu('clip', () => tf.clipByValue(T1([N, 0.5, I, M, 2]), 1e-7, 1 - 1e-7));
      expect(Array.from(small)).toEqual([
        N,
        0.5,
        Math.fround(1 - 1e-7),
        Math.fround(1e-7),
        Math.fround(1 - 1e-7),
      ]);
      for (const [lo, hi] of [
        [1e-7, 1 - 1e-7],
        [-1, 1],
        [M, 0],
        [0, I],
      ]) {
        await likeCpu(`clip [${lo}, ${hi}]`, () => tf.clipByValue(T1(X37), lo, hi));
      }
      await likeCpu('clip 784x129', () =>
        tf.clipByValue(
          T2(
            withSpecials(784 * 129, 3, [
              [5, N],
              [784 * 129 - 1, N],
              [999, I],
            ]),
            [784, 129],
          ),
          -0.5,
          0.5,
        ),
      );
    });

    it("ClipByValue and Relu6 of int32 give cpu's numbers (stock ClipByValue read the ints as floats)", async () => {
      const x = () => T1([-5, 0, 3, 9, -1, 2, 100, -2147483648], 'int32');
      const [c, f, r] = await likeCpu('int32', () => [
        tf.clipByValue(x(), -1, 4),
        tf.clipByValue(x(), -1.5, 4.5),
        tf.relu6(x()),
      ]);
      expect(Array.from(c)).toEqual([-1, 0, 3, 4, -1, 2, 4, -1]);
      expect(Array.from(f)).toEqual([-1, 0, 3, 4, -1, 2, 4, -1]);
      expect(Array.from(r)).toEqual([0, 0, 3, 6, 0, 2, 6, 0]);
      await tf.setBackend('wasm');
      expect(tf.tidy(() => tf.clipByValue(x(), -1, 4).dtype)).toBe('int32');
    });

    it('Relu keeps a NaN of either sign (stock: 0 for the sign-bit NaN that 0 * Inf or Inf - Inf make)', async () => {
      const [r, made] = await likeCpu('relu', () => [
        tf.relu(T1([N, N, -1, 2, I, M])),
        // NaN made by wasm arithmetic (Inf - Inf), then through Relu.
        tf.relu(tf.sub(T1([I, 1, M]), T1([I, 1, M]))),
      ]);
      expect(Array.from(r)).toEqual([N, N, 0, 2, I, 0]);
      expect(Array.from(made)).toEqual([N, 0, N]);
      await likeCpu('relu 37', () => tf.relu(T1(X37)));
      await likeCpu('relu 784x129', () =>
        tf.relu(
          T2(
            withSpecials(784 * 129, 3, [
              [4, N],
              [5, N],
              [784 * 129 - 2, N],
              [999, M],
            ]),
            [784, 129],
          ),
        ),
      );
      const [i] = await on('wasm', () => tf.relu(T1([1, -2, 3], 'int32')));
      expect(Array.from(i)).toEqual([1, 0, 3]);
    });

    it('Relu6 keeps NaN (stock: 0)', async () => {
      const [r] = await likeCpu('relu6', () => tf.relu6(T1([N, -1, 3, 7, I, M])));
      expect(Array.from(r)).toEqual([N, 0, 3, 6, 6, 0]);
      await likeCpu('relu6 37', () => tf.relu6(T1(X37)));
    });

    it('Maximum and Minimum give NaN when either operand is NaN (stock: the other operand), any broadcast', async () => {
      const [mx, mn] = await likeCpu('max/min', () => [
        tf.maximum(T1([1, N, N, I]), T1([N, 2, N, N])),
        tf.minimum(T1([1, N, N, M]), T1([N, 2, N, N])),
      ]);
      expect(Array.from(mx)).toEqual([N, N, N, N]);
      expect(Array.from(mn)).toEqual([N, N, N, N]);
      for (const [name, f] of [
        ['maximum', tf.maximum],
        ['minimum', tf.minimum],
      ] as const) {
        await likeCpu(`${name} pairs`, () => f(T1(PAIRS_A), T1(PAIRS_B)));
        await likeCpu(`${name} x, scalar NaN`, () => f(T1(X37), S(N)));
        await likeCpu(`${name} scalar 2, x`, () => f(tf.scalar(2), T1(X37)));
        await likeCpu(`${name} [13,13] with bias`, () => f(T2(PAIRS_A, [13, 13]), T1(SPECIALS)));
        await likeCpu(`${name} bias with [13,13]`, () => f(T1(SPECIALS), T2(PAIRS_B, [13, 13])));
        await likeCpu(`${name} [13,1] with [1,13]`, () => f(T2(SPECIALS, [13, 1]), T2(SPECIALS, [1, 13])));
        await likeCpu(`${name} [2,1,3] with [4,1]`, () =>
          f(T3([N, 1, 2, 3, I, -1], [2, 1, 3]), T2([0, N, 5, M], [4, 1])),
        );
        await likeCpu(`${name} finite`, () => f(T2(data([9, 13], 4), [9, 13]), T1(data([13], 5))));
      }
      const [i] = await on('wasm', () => tf.maximum(T1([1, -2, 3], 'int32'), tf.scalar(0, 'int32')));
      expect(Array.from(i)).toEqual([1, 0, 3]);
    });

    it('Pow gives NaN for 1^NaN, 1^±Inf and (-1)^±Inf as cpu does (stock: 1)', async () => {
      const [p] = await likeCpu('pow', () =>
        tf.pow(T1([1, 1, 1, -1, -1, N, 2, 0.5]), T1([N, I, M, I, M, 0, I, M])),
      );
      expect(Array.from(p)).toEqual([N, N, N, N, N, 1, I, I]);
      await likeCpu('pow pairs', () => tf.pow(T1(PAIRS_A), T1(PAIRS_B)));
      await likeCpu('pow x^NaN', () => tf.pow(T1(X37), S(N)));
      await likeCpu('pow bias^[13,13]', () => tf.pow(T1(SPECIALS), T2(PAIRS_B, [13, 13])));
      await likeCpu('pow x^2', () => tf.pow(T1(X37), tf.scalar(2)));
    });

    it.each(['relu', 'relu6', 'linear', 'elu', 'leakyrelu', 'sigmoid'] as const)(
      'FusedConv2D and FusedDepthwiseConv2D with %s keep NaN from pixels and biases (stock ReLU: 0)',
      async (activation) => {
        await likeCpu(`conv ${activation}`, () => [
          tf.fused.conv2d({
            x: img(),
            filter: filter(),
            strides: 1,
            pad: 'same',
            bias: T1([0.1, N, -0.2, I]),
            activation,
            leakyreluAlpha: 0.2,
          }),
          tf.fused.conv2d({
            x: img(),
            filter: filter(),
            strides: 2,
            pad: 'valid',
            activation,
            leakyreluAlpha: 0.3,
          }),
          tf.fused.depthwiseConv2d({
            x: img(),
            filter: T4(data([3, 3, 3, 2], 15), [3, 3, 3, 2]),
            strides: 1,
            pad: 'same',
            bias: T1([0.1, N, 0, 0, 0, I]),
            activation,
            leakyreluAlpha: 0.2,
          }),
        ]);
      },
    );

    it('FusedConv2D with ReLU: an all-NaN image gives all NaN, a finite one the stock numbers', async () => {
      const [nan, finite] = await likeCpu('conv relu', () => [
        tf.fused.conv2d({
          x: tf.fill([1, 4, 4, 3], N) as tf.Tensor4D,
          filter: filter(),
          activation: 'relu',
          pad: 'same',
          strides: 1,
        }),
        tf.fused.conv2d({
          x: T4(data([2, 5, 5, 3], 7), [2, 5, 5, 3]),
          filter: filter(),
          bias: T1([0.1, -0.1, 0, 0.3]),
          activation: 'relu6',
          pad: 'same',
          strides: 1,
        }),
      ]);
      expect(nan.every(Number.isNaN)).toBe(true);
      expect(finite.every((v) => v >= 0 && v <= 6)).toBe(true);
      expect(finite.some((v) => v > 0)).toBe(true);
    });

    it.each([
      ['Conv2D 1 -> 1 channel', false, 1],
      ['DepthwiseConv2dNative, 1 channel', true, 1],
      ['DepthwiseConv2dNative, 5 channels', true, 5],
    ] as const)(
      '%s with a 1x1 filter keeps NaN (stock: -Infinity even when linear)',
      async (_, depthwise, C) => {
        const x = () =>
          T4(
            withSpecials(2 * 3 * 4 * C, 5, [
              [0, N],
              [7 * C - 1, N],
              [2 * C, I],
              [3 * C, M],
              [12 * C, N],
            ]),
            [2, 3, 4, C],
          );
        const w = (specials: [number, number][] = []) => T4(withSpecials(C, 6, specials), [1, 1, C, 1]);
        const conv = (xx: tf.Tensor4D, ww: tf.Tensor4D) =>
          depthwise ? tf.depthwiseConv2d(xx, ww, 1, 'same') : tf.conv2d(xx, ww, [1, 1], 'valid');
        const fused = (
          activation: tf.fused.Activation,
          xx: tf.Tensor4D,
          ww: tf.Tensor4D,
          bias?: tf.Tensor,
        ) => {
          const a = {
            x: xx,
            filter: ww,
            strides: 1,
            pad: 'same' as const,
            bias,
            activation,
            leakyreluAlpha: 0.2,
          };
          const withPrelu = activation === 'prelu' ? { ...a, preluActivationWeights: S(0.1) } : a;
          return depthwise ? tf.fused.depthwiseConv2d(withPrelu) : tf.fused.conv2d(withPrelu);
        };
        const [plain] = await likeCpu('per-channel conv', () => [
          conv(x(), w()),
          conv(T4(data([2, 3, 4, C], 7), [2, 3, 4, C]), w([[0, N]])),
          conv(T4(data([2, 3, 4, C], 7), [2, 3, 4, C]), w([[0, 0]])),
          conv(T4(data([2, 3, 4, C], 7), [2, 3, 4, C]), w()),
        ]);
        expect(Number.isNaN(plain[0]) && Number.isNaN(plain[7 * C - 1]) && Number.isNaN(plain[12 * C])).toBe(
          true,
        );
        for (const activation of [
          'linear',
          'relu',
          'relu6',
          'elu',
          'sigmoid',
          'leakyrelu',
          'prelu',
        ] as const) {
          await likeCpu(`per-channel fused ${activation}`, () => [
            fused(activation, x(), w()),
            fused(activation, x(), w(), T1(withSpecials(C, 8, [[C - 1, N]]))),
            fused(activation, T4(data([2, 3, 4, C], 7), [2, 3, 4, C]), w(), T1(withSpecials(C, 8, [[0, I]]))),
            fused(activation, T4(withSpecials(2 * 3 * 4 * C, 7, [[1, I]]), [2, 3, 4, C]), w([[1 % C, 0]])),
            fused(activation, T4(data([2, 3, 4, C], 7), [2, 3, 4, C]), w(), T1(data([C], 9))),
          ]);
        }
      },
    );

    it('isPerChannel names the convolutions XNNPACK runs as a per-channel multiply-add', () => {
      const t = (shape: number[]): tf.TensorInfo => ({ dataId: {}, shape, dtype: 'float32' });
      const x = t([2, 5, 5, 3]);
      const same = { strides: 1, pad: 'same' as const };
      expect(isPerChannel(true, x, t([1, 1, 3, 1]), same)).toBe(true);
      expect(isPerChannel(true, x, t([1, 1, 3, 1]), { strides: [1, 1], pad: 'valid', dilations: 2 })).toBe(
        true,
      );
      expect(isPerChannel(false, t([2, 5, 5, 1]), t([1, 1, 1, 1]), same)).toBe(true);
      expect(isPerChannel(true, x, t([1, 1, 3, 2]), same)).toBe(false);
      expect(isPerChannel(true, x, t([3, 3, 3, 1]), same)).toBe(false);
      expect(isPerChannel(true, x, t([1, 1, 3, 1]), { strides: 2, pad: 'same' })).toBe(false);
      expect(isPerChannel(true, x, t([1, 1, 3, 1]), { strides: 1, pad: 1 })).toBe(false);
      expect(isPerChannel(false, x, t([1, 1, 3, 3]), same)).toBe(false);
      expect(isPerChannel(true, x, t([1, 1, 3, 1]), { ...same, dataFormat: 'NCHW' })).toBe(false);
    });

    it('MaxPool skips NaN as cpu does (stock: -Infinity, or even a smaller value: [1, 9, 5, NaN] gave 5)', async () => {
      const [w] = await likeCpu('maxPool windows', () =>
        tf.maxPool(T4([1, 9, 5, N, N, 1, 5, 9, N, N, N, N, N, M, M, N], [4, 2, 2, 1]), 2, 2, 'valid'),
      );
      expect(Array.from(w)).toEqual([9, 9, M, M]);
      // Every order of NaN, 1, 5 and 9 in a 2x2 window and in a 3x3 one.
      const orders: number[][] = [];
      const walk = (a: number[], rest: number[]) => {
        if (!rest.length) orders.push(a);
        rest.forEach((v, i) => {
          walk(
            [...a, v],
            rest.filter((_, j) => j !== i),
          );
        });
      };
      walk([], [N, 1, 5, 9]);
      const [two, three] = await likeCpu('maxPool orders', () => [
        tf.maxPool(T4(orders.flat(), [orders.length, 2, 2, 1]), 2, 2, 'valid'),
        tf.maxPool(
          T4(
            orders.flatMap((o) => [...o, 0, 0, 0, 0, 0]),
            [orders.length, 3, 3, 1],
          ),
          3,
          3,
          'valid',
        ),
      ]);
      expect(Array.from(two)).toEqual(orders.map(() => 9));
      expect(Array.from(three)).toEqual(orders.map(() => 9));
      await likeCpu('maxPool shapes', () => [
        tf.maxPool(img(), 2, 2, 'valid'),
        tf.maxPool(img(), 3, 1, 'same'),
        tf.maxPool(img(), [2, 3], [1, 2], 'same'),
        tf.maxPool(img(), 1, 1, 'valid'),
        tf.maxPool(img(), 1, 2, 'valid'),
        tf.maxPool(wideImg(), 2, 2, 'same'),
      ]);
    });

    it('AvgPool gives NaN for a window with a NaN or both infinities (stock: -Infinity)', async () => {
      const [w] = await likeCpu('avgPool windows', () =>
        tf.avgPool(T4([N, 1, 2, 3, I, M, 0, 0, I, 1, 2, 3, M, M, 0, 0], [4, 2, 2, 1]), 2, 2, 'valid'),
      );
      expect(Array.from(w)).toEqual([N, N, I, M]);
      await likeCpu('avgPool shapes', () => [
        tf.avgPool(img(), 2, 2, 'valid'),
        tf.avgPool(img(), 3, 1, 'same'),
        tf.avgPool(img(), 1, 1, 'valid'),
        tf.avgPool(wideImg(), 3, 1, 'same'),
        tf.avgPool(T4(data([2, 8, 8, 5], 3), [2, 8, 8, 5]), 2, 2, 'same'),
      ]);
    });

    it('pools leave finite inputs to the stock kernels (same numbers as cpu)', async () => {
      await likeCpu('pools finite', () => {
        const x = T4(data([3, 9, 9, 7], 8), [3, 9, 9, 7]);
        return [tf.maxPool(x, 3, 2, 'same'), tf.avgPool(x, 3, 2, 'same')];
      });
    });
  });

  describe('kernels that already agreed', () => {
    it('Softmax and LogSoftmax on rows with NaN and infinities', async () => {
      const rows = () => T2([N, 1, 2, 3, 1, 2, 3, I, M, 0, 1, 2, I, M, 0, 1, N, N, N, N, 1, 2, 3, 4], [6, 4]);
      const [relu, softmax] = await likeCpu('relu/softmax', () => [
        tf.relu(T1(X37)),
        tf.softmax(rows()),
        tf.logSoftmax(rows()),
      ]);
      expect(Array.from(relu.slice(0, 3))).toEqual([I, 1, 0]);
      expect(Array.from(relu)).toEqual(X37.map((v) => (Number.isNaN(v) ? N : Math.max(0, Math.fround(v)))));
      expect(softmax.slice(0, 4).every(Number.isNaN)).toBe(true);
      expect(softmax.slice(20).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    });

    it.each(['relu', 'relu6', 'linear', 'elu', 'sigmoid', 'leakyrelu'] as const)(
      '_FusedMatMul with %s and a bias holding NaN and Inf',
      async (activation) => {
        const a = () =>
          T2(
            withSpecials(9 * 17, 3, [
              [5, N],
              [40, I],
              [100, M],
            ]),
            [9, 17],
          );
        const b = () => T2(withSpecials(17 * 11, 4, [[3, N]]), [17, 11]);
        const [out] = await likeCpu(`fused matMul ${activation}`, () => [
          tf.fused.matMul({
            a: a(),
            b: b(),
            bias: T1(
              withSpecials(11, 9, [
                [2, N],
                [5, I],
                [9, M],
              ]),
            ),
            activation,
            leakyreluAlpha: 0.2,
          }),
          tf.fused.matMul({ a: a(), b: b().transpose(), transposeB: true, activation }),
        ]);
        expect(out.some(Number.isNaN)).toBe(true);
      },
    );

    it('Conv2D and MaxPoolGrad with NaN and infinities in the input', async () => {
      await likeCpu('conv2d', () => [
        tf.conv2d(img(), filter(), 1, 'same'),
        tf.conv2d(img(), filter(), 2, 'valid'),
      ]);
      await likeCpu('maxPoolGrad', () => {
        const x = img();
        const dy = T4(withSpecials(2 * 3 * 3 * 3, 5, [[1, N]]), [2, 3, 3, 3]);
        return kernel(
          'MaxPoolGrad',
          { dy, input: x, output: tf.maxPool(x, 2, 2, 'valid') },
          {
            filterSize: 2,
            strides: 2,
            pad: 'valid',
          },
        );
      });
    });

    it('gradients of relu, relu6, clipByValue, maximum, minimum, maxPool and avgPool', async () => {
      const x = () => T1(X37);
      const dy = () => T1(withSpecials(37, 6, [[2, N]]));
      await likeCpu('grads', () => [
        tf.grad((t: tf.Tensor) => tf.relu(t))(x()),
        tf.grad((t: tf.Tensor) => tf.relu6(t))(x(), dy()),
        tf.grad((t: tf.Tensor) => tf.clipByValue(t, 1e-7, 1 - 1e-7))(x()),
        tf.grad((t: tf.Tensor) => tf.clipByValue(t, -1, 1))(x(), dy()),
        ...tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.maximum(p, q))([T1(PAIRS_A), T1(PAIRS_B)]),
        ...tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.minimum(p, q))([T1(PAIRS_A), T1(PAIRS_B)]),
        tf.grad((t: tf.Tensor) => tf.maxPool(t as tf.Tensor4D, 2, 2, 'valid'))(img()),
        tf.grad((t: tf.Tensor) => tf.avgPool(t as tf.Tensor4D, 3, 1, 'same'))(img()),
      ]);
    });

    it('categoricalCrossentropy of an all-NaN prediction is NaN, its finite rows the same numbers', async () => {
      const labels = () => T2([1, 0, 0, 0, 0, 1, 0, 1, 0, 1, 0, 0], [4, 3]);
      const probs = () => T2([N, N, N, 0.2, 0.3, 0.5, 0.1, 0.8, 0.1, I, 0, 0], [4, 3]);
      const [loss, bce, grad] = await likeCpu('cross-entropy', () => [
        tf.metrics.categoricalCrossentropy(labels(), probs()),
        tf.metrics.binaryCrossentropy(labels(), probs()),
        tf.grad((p: tf.Tensor) => tf.mean(tf.metrics.categoricalCrossentropy(labels(), p)))(probs()),
      ]);
      expect(Number.isNaN(loss[0])).toBe(true);
      expect(loss[1]).toBeCloseTo(-Math.log(0.5), 5);
      expect(loss[2]).toBeCloseTo(-Math.log(0.8), 5);
      expect(Number.isNaN(bce[0])).toBe(true);
      expect(grad.slice(0, 3).every(Number.isNaN)).toBe(true);
      // The mean over the batch, as a training loss: NaN, not 16.1.
      const [mean] = await on('wasm', () => tf.mean(tf.metrics.categoricalCrossentropy(labels(), probs())));
      expect(Number.isNaN(mean[0])).toBe(true);
    });
  });

  it('leaks no tensors or heap memory on the NaN paths', async () => {
    await tf.setBackend('wasm');
    const x = T4(
      withSpecials(2 * 4 * 4 * 3, 2, [
        [0, N],
        [7, I],
      ]),
      [2, 4, 4, 3],
    );
    const f = T4(data([3, 3, 3, 2], 3), [3, 3, 3, 2]);
    const run = () => [
      tf.clipByValue(x, 0, 1),
      tf.relu6(x),
      tf.maximum(x, S(N)),
      tf.minimum(x, 0.5),
      tf.pow(x, S(N)),
      tf.fused.conv2d({ x, filter: f, activation: 'relu', pad: 'same', strides: 1 }),
      tf.maxPool(x, 2, 2, 'valid'),
      tf.avgPool(x, 2, 2, 'valid'),
    ];
    tf.dispose(tf.tidy(run));
    const before = tf.memory();
    tf.dispose(tf.tidy(run));
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numBytes).toBe(before.numBytes);
    expect(tf.engine().backend.numDataIds()).toBe(tf.memory().numDataBuffers);
    tf.dispose([x, f]);
  });
});

describe('the JavaScript paths (no wasm SIMD) and the pooling loop', () => {
  /** A backend without SIMD kernels whose heap view of any tensor is `v`. */
  const heapOf = (v: Float32Array) => ({ typedArrayFromHeap: () => v }) as unknown as WasmBackendLike;
  const info = (n: number): tf.TensorInfo => ({ dataId: {}, shape: [n], dtype: 'float32' });

  it('hasNaN and hasNonFinite scan every position', () => {
    for (let n = 1; n <= 9; n++) {
      for (let i = 0; i < n; i++) {
        for (const [s, nan] of [
          [N, true],
          [I, false],
          [M, false],
        ] as const) {
          const v = new Float32Array(n).fill(0.5);
          v[i] = s;
          expect(hasNaN(heapOf(v), info(n))).toBe(nan);
          expect(hasNonFinite(heapOf(v), info(n))).toBe(true);
        }
      }
      expect(hasNonFinite(heapOf(new Float32Array(n).fill(3e38)), info(n))).toBe(false);
    }
    expect(hasNaN(heapOf(new Float32Array(0)), info(0))).toBe(false);
  });

  it('clampInPlace keeps NaN', () => {
    const v = Float32Array.from([N, -1, 0.5, 7, I, M]);
    clampInPlace(heapOf(v), info(6), 0, 6);
    expect(Array.from(v)).toEqual([N, 0, 0.5, 6, 6, 0]);
  });

  it('poolLikeCpu equals the cpu kernels on NaN and infinities', async () => {
    const shape: [number, number, number, number] = [2, 5, 5, 3];
    const x = withSpecials(2 * 5 * 5 * 3, 4, [
      [0, N],
      [3, I],
      [17, M],
      [40, N],
      [41, N],
      [44, N],
      [90, I],
      [91, M],
    ]);
    for (const [size, stride, pad] of [
      [2, 2, 'valid'],
      [3, 1, 'same'],
      [3, 2, 'same'],
      [1, 1, 'valid'],
      [1, 2, 'same'],
    ] as const) {
      const i = tf.backend_util.computePool2DInfo(shape, size, stride, 1, pad);
      const [max, avg] = await on('cpu', () => [
        tf.maxPool(T4(x, shape), size, stride, pad),
        tf.avgPool(T4(x, shape), size, stride, pad),
      ]);
      for (const [type, ref] of [
        ['max', max],
        ['avg', avg],
      ] as const) {
        const out = new Float32Array(ref.length);
        poolLikeCpu(x, i, type, out);
        expectLikeCpu(out, ref, `${type} ${size} ${stride} ${pad}`);
      }
    }
  });
});
