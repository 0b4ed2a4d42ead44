/**
 * Gradient transforms with per-variable tensor state, shown with `transforms.ema` (an EMA of the updates):
 * the update against a float64 transcription (alone and inside a chain, where the slots are sliced per
 * child), state saved and restored bit for bit on cpu, left as it was by a skipped non-finite step, no
 * leaked tensors, and a clear error when restored into an optimizer without that state.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import * as lrfree from '../src/index.js';
import { uniformArray, useBackend } from './helpers/tf.js';

const { chain, clipByGlobalNorm, ema } = lrfree.transforms;

beforeAll(() => useBackend('cpu'));

const N = 6;
const A = Array.from(uniformArray(N, 11)).map((v) => 1 + Math.abs(v) * 3); // curvatures
const T = Array.from(uniformArray(N, 12)); // targets

/** f(w) = 0.5 sum a_i (w_i - t_i)^2, split over two variables so that state is per variable. */
function problem(seed = 13) {
  const w0 = Array.from(uniformArray(N, seed)).map(Math.fround);
  const v1 = tf.variable(tf.tensor1d(w0.slice(0, 2)), true, `emaP${seed}_${Math.random()}/a`);
  const v2 = tf.variable(tf.tensor1d(w0.slice(2)), true, `emaP${seed}_${Math.random()}/b`);
  const a = tf.tensor1d(A);
  const t = tf.tensor1d(T);
  const f =
    (poison = false) =>
    () =>
      tf.tidy(() => {
        const w = tf.concat([v1, v2]);
        const loss = tf.mul(0.5, tf.sum(tf.mul(a, tf.square(tf.sub(w, t))))) as tf.Scalar;
        return poison ? (tf.mul(loss, Number.NaN) as tf.Scalar) : loss;
      });
  const values = () => [...v1.dataSync(), ...v2.dataSync()];
  const dispose = () => tf.dispose([v1, v2, a, t]);
  return { w0, vars: [v1, v2], f, values, dispose };
}

/** float64: w <- w - lr * ema(d), d = clip(g) (the clip of all variables together, when maxNorm is given). */
function reference(
  w0: number[],
  steps: number,
  lr: number,
  decay: number,
  debias: boolean,
  maxNorm?: number,
) {
  const w = [...w0];
  const m = new Array(N).fill(0);
  const out: number[][] = [];
  for (let k = 1; k <= steps; k++) {
    let g = w.map((wi, i) => A[i] * (wi - T[i]));
    const norm = Math.sqrt(g.reduce((s, v) => s + v * v, 0));
    if (maxNorm !== undefined && norm > maxNorm) g = g.map((v) => (v * maxNorm) / norm);
    for (let i = 0; i < N; i++) {
      m[i] = decay * m[i] + (1 - decay) * g[i];
      w[i] -= lr * (debias ? m[i] / (1 - decay ** k) : m[i]);
    }
    out.push([...w]);
  }
  return out;
}

const build = (transforms: lrfree.GradientTransform) =>
  lrfree.optimizer({ transforms, direction: lrfree.directions.sgd(), step: lrfree.steps.constant(0.1) });

describe('transforms with per-variable state: ema', () => {
  it.each([
    ['ema, debiased', () => ema({ decay: 0.8 }), 0.8, true, undefined],
    ['ema, not debiased', () => ema({ decay: 0.5, debias: false }), 0.5, false, undefined],
    [
      'chain(clip, ema): slots sliced per child',
      () => chain(clipByGlobalNorm(0.5), ema({ decay: 0.8 })),
      0.8,
      true,
      0.5,
    ],
  ] as const)('%s: 8 steps equal a float64 transcription', (_name, make, decay, debias, maxNorm) => {
    const p = problem();
    const opt = build(make());
    const want = reference(p.w0, 8, 0.1, decay, debias, maxNorm);
    for (let k = 0; k < 8; k++) {
      opt.minimize(p.f(), false, p.vars);
      p.values().forEach((v, i) => {
        expect(v).toBeCloseTo(want[k][i], 5);
      });
    }
    // Without the EMA the first step would be w - lr*g: the smoothing is real.
    const plain = reference(p.w0, 1, 0.1, 0, false, maxNorm)[0];
    const noDebias = reference(p.w0, 1, 0.1, decay, false, maxNorm)[0];
    expect(Math.abs(want[0][0] - (debias ? noDebias[0] : plain[0]))).toBeGreaterThan(1e-3);
    opt.dispose();
    p.dispose();
  });

  it('state saved and restored bit for bit: a resumed run equals the uninterrupted one', async () => {
    const a = problem(21);
    const b = problem(21);
    const optA = build(chain(clipByGlobalNorm(5), ema({ decay: 0.7 })));
    const optB = build(chain(clipByGlobalNorm(5), ema({ decay: 0.7 })));
    for (let k = 0; k < 3; k++) {
      optA.minimize(a.f(), false, a.vars);
      optB.minimize(b.f(), false, b.vars);
    }
    const saved = (await optB.getWeights()).map((w) => ({ name: w.name, tensor: w.tensor.clone() }));
    expect(saved.map((w) => w.name).filter((n) => /\/1:(ema|count)$/.test(n))).toHaveLength(4);
    const count = saved.find((w) => w.name.endsWith('/1:count'))!;
    expect(count.tensor.dataSync()[0]).toBe(3);
    optB.dispose();
    const resumed = build(chain(clipByGlobalNorm(5), ema({ decay: 0.7 })));
    await resumed.setWeights(saved);
    tf.dispose(saved.map((w) => w.tensor));
    for (let k = 0; k < 4; k++) {
      optA.minimize(a.f(), false, a.vars);
      resumed.minimize(b.f(), false, b.vars);
    }
    expect(b.values()).toEqual(a.values()); // bit for bit (cpu)
    const [wa, wb] = [await optA.getWeights(), await resumed.getWeights()];
    for (const [i, w] of wa.entries()) {
      if (!/(ema|count)$/.test(w.name)) continue;
      expect(Array.from(wb[i].tensor.dataSync())).toEqual(Array.from(w.tensor.dataSync()));
    }
    optA.dispose();
    resumed.dispose();
    a.dispose();
    b.dispose();
  });

  it('a skipped non-finite step leaves the state as it was; no tensor leaks; dispose frees it all', async () => {
    const p = problem(31);
    const before = tf.memory().numTensors;
    // A transform after the EMA that can make the committed update non-finite: the EMA's new state is
    // computed that step, then must be dropped with the skip.
    let poisonUpdate = false;
    const poison: lrfree.GradientTransform = {
      kind: 'poisonForTest',
      config: {},
      initScalars: () => ({}),
      update: (_ctx, d) => d.map((t) => (poisonUpdate ? tf.mul(t, Number.POSITIVE_INFINITY) : t)),
    };
    const opt = build(chain(ema({ decay: 0.9 }), poison));
    opt.minimize(p.f(), false, p.vars);
    opt.minimize(p.f(), false, p.vars);
    const snap = async () => {
      const ws = await opt.getWeights();
      const out = ws.filter((w) => /(ema|count)$/.test(w.name)).map((w) => Array.from(w.tensor.dataSync()));
      // The iterations and the encoded scalars are new tensors; the slots are the live state.
      tf.dispose([ws[0].tensor, ws[ws.length - 1].tensor]);
      return out;
    };
    const state = await snap();
    const weights = p.values();
    const warn = console.warn;
    console.warn = () => undefined;
    try {
      opt.minimize(p.f(true), false, p.vars);
    } finally {
      console.warn = warn;
    }
    expect(opt.lastStep.skipped).toBe(true);
    expect(await snap()).toEqual(state);
    expect(p.values()).toEqual(weights);
    poisonUpdate = true;
    opt.minimize(p.f(), false, p.vars);
    poisonUpdate = false;
    expect(opt.lastStep.skipReason).toBe('update');
    expect(await snap()).toEqual(state);
    expect(p.values()).toEqual(weights);
    const held = tf.memory().numTensors;
    for (let k = 0; k < 20; k++) opt.minimize(p.f(), false, p.vars);
    expect(tf.memory().numTensors).toBe(held);
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before);
    p.dispose();
  });

  it('refuses state with transform slots in an optimizer without them (and bad options), naming the fix', async () => {
    const p = problem(41);
    const opt = build(ema());
    opt.minimize(p.f(), false, p.vars);
    const saved = await opt.getWeights();
    const other = build(clipByGlobalNorm(1));
    await expect(other.setWeights(saved)).rejects.toThrow(
      /0\+0\+2 direction\+rule\+transform slots.*same direction, step rule and transforms/,
    );
    expect(() => ema({ decay: 1 })).toThrow(/decay/);
    expect(() => ema({ decay: 0.9, typo: 1 } as never)).toThrow(/typo/);
    opt.dispose();
    other.dispose();
    p.dispose();
  });
});
