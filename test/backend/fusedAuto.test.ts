/**
 * auto()'s fused direction-and-step kernel (LrfreeFusedAuto, src/backend/wasm/fusedAuto.ts) against the TF.js
 * ops path it replaces, on wasm and on cpu: random shapes (odd sizes, size 1, large), every switch of the
 * chain (clipping above and below RMS 1, eta 0, weight decay, averaging off).
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patchWasm } from '../../src/backend/patchWasm.js';
import { FUSED_AUTO, fusedAutoAvailable } from '../../src/backend/wasm/fusedAuto.js';
import { stepFrom } from '../../src/core/eta.js';
import { createDirection } from '../../src/core/registry.js';
import type { DirectionContext } from '../../src/core/types.js';
import '../../src/optimizers/auto.js';
import { data as freshData, kernel } from './compare.js';

const made = new Map<string, Float32Array>();
/** The test data (uniform in [-1, 1)), made once per shape and seed: the large shapes take a while. */
function data(shape: number[], seed: number): Float32Array {
  const key = `${shape}:${seed}`;
  if (!made.has(key)) made.set(key, freshData(shape, seed));
  return made.get(key)!;
}

/** One case: the direction's settings, its scalar state and the scale of v0 (small: RMS of u above 1). */
interface Case {
  weightDecay: number;
  beta: number;
  clip: boolean;
  average: boolean;
  eta: number;
  k: number;
  lrMax: number;
  weightSum: number;
  v0Scale: number;
}
const BASE: Case = {
  weightDecay: 0,
  beta: 0.9,
  clip: true,
  average: true,
  eta: 0.01,
  k: 7,
  lrMax: 0.01,
  weightSum: 3e-4,
  v0Scale: 1,
};

/** [update, search, z, x, y, v] of one step of the autoSf direction on the current backend. */
function oneStep(shape: number[], c: Case, seed: number): Float32Array[] {
  const outs = tf.tidy(() => {
    const dir = createDirection({
      kind: 'autoSf',
      config: { weightDecay: c.weightDecay, beta: c.beta, clip: c.clip, average: c.average },
    }) as ReturnType<typeof createDirection> & { scale: number };
    dir.scale = c.eta;
    const t = (s: number) => tf.tensor(data(shape, seed * 10 + s), shape);
    const y = tf.variable(t(5), false);
    const ctx = {
      step: c.k + 1,
      params: [y],
      grads: [t(1)],
      slots: [[t(2), t(3), y, tf.mul(tf.abs(t(4)), c.v0Scale)]],
      scalars: { k: c.k, lrMax: c.lrMax, weightSum: c.weightSum },
    } as unknown as DirectionContext;
    const r = dir.compute(ctx);
    y.dispose();
    // After z, x, y, v: conjugate gradients' (s, gPrev), scalar placeholders but at the first move.
    expect(r.slots[0].slice(4).map((s) => s.rank)).toEqual([0, 0]);
    return [r.update[0], r.search![0], ...r.slots[0].slice(0, 4)];
  });
  // Read outside tidy: tidy walks its result, element by element for typed arrays.
  const values = outs.map((x) => Float32Array.from(x.dataSync()));
  tf.dispose(outs);
  return values;
}

/** Runs `f` with the fused kernel unregistered (the ops path on wasm). */
function withoutFused<T>(f: () => T): T {
  const config = tf.getKernel(FUSED_AUTO, 'wasm')!;
  tf.unregisterKernel(FUSED_AUTO, 'wasm');
  try {
    expect(fusedAutoAvailable()).toBe(false);
    return f();
  } finally {
    tf.registerKernel(config);
  }
}

const maxAbs = (a: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
};
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

/** The same step in float64 from the same float32 inputs: [update, u, z, x, committed y, v]. */
function reference(shape: number[], c: Case, seed: number): Float64Array[] {
  const [g, z0, x0, v0s, y] = [1, 2, 3, 4, 5].map((s) => data(shape, seed * 10 + s));
  const v0 = v0s.map((a) => Math.fround(Math.abs(a) * c.v0Scale));
  const n = g.length;
  const B2 = 0.999;
  const bc2 = 1 - B2 ** (c.k + 1);
  const v = Float64Array.from(g, (gi, i) => v0[i] * B2 + gi * gi * (1 - B2));
  const eps = Math.sqrt(v.reduce((a, b) => a + b / bc2, 0) / n) * 1e-8 + 1e-30;
  const u = Float64Array.from(g, (gi, i) => gi / (Math.sqrt(v[i] / bc2) + eps));
  const rms = c.clip ? Math.max(Math.sqrt(u.reduce((a, b) => a + b * b, 0) / n), 1) : 1;
  for (let i = 0; i < n; i++) u[i] /= rms;
  const lrMax = Math.max(c.lrMax, c.eta);
  const w = lrMax * lrMax;
  const cc = !c.average ? 1 : c.weightSum + w > 0 ? w / (c.weightSum + w) : 0;
  const z = Float64Array.from(z0, (zi, i) =>
    c.eta > 0 ? zi - (c.weightDecay > 0 ? c.eta * c.weightDecay * y[i] : 0) - c.eta * u[i] : zi,
  );
  const x = Float64Array.from(x0, (xi, i) => (cc > 0 ? xi * (1 - cc) + z[i] * cc : xi));
  const d = Float64Array.from(y, (yi, i) => yi - (c.average ? x[i] * c.beta + z[i] * (1 - c.beta) : z[i]));
  const yc = Float64Array.from(y, (yi, i) => yi - d[i]);
  return [d, u, z, x, yc, v];
}

/**
 * Each output within `tol` of the float64 reference, relative to its largest value (the update, a
 * difference of y's, relative to y's largest value).
 */
function expectNear(got: Float32Array[], ref: Float64Array[], tol: number): void {
  const [d, ...rest] = got;
  const [dR, ...restR] = ref;
  for (let i = 0; i < got.length; i++) expect(got[i].length).toBe(ref[i].length);
  rest.forEach((a, i) => {
    expect(maxDiff(a, restR[i])).toBeLessThanOrEqual(tol * maxAbs(restR[i]));
  });
  expect(maxDiff(d, dR)).toBeLessThanOrEqual(tol * maxAbs(ref[4]));
  // Not trivially equal: the update is finite and u is not zero.
  expect(d.every(Number.isFinite) && got[1].some((a) => a !== 0)).toBe(true);
}

/** Element-wise only, v is the same float32 computation on both paths: bit for bit. */
const sameV = (a: Float32Array[], b: Float32Array[]) => a[5].every((x, i) => Object.is(x, b[5][i]));

const SHAPES: number[][] = [[1], [3], [5], [7, 9], [257], [784, 128], [100003]];
const CASES: [string, Partial<Case>][] = [
  ['defaults', {}],
  ['RMS of u above 1 (clipped)', { v0Scale: 1e-6 }],
  ['RMS of u below 1', { v0Scale: 10 }],
  ['no clipping', { clip: false, v0Scale: 1e-6 }],
  ['calibration step (eta 0, x and z unchanged)', { eta: 0, k: 0, lrMax: 0, weightSum: 0, v0Scale: 0 }],
  ['weight decay', { weightDecay: 0.1 }],
  ['no averaging', { average: false }],
];

describe('fused auto() kernel on patched wasm', () => {
  beforeAll(async () => {
    expect(patchWasm()).toContain(FUSED_AUTO);
    await tf.setBackend('wasm');
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('is installed and used on wasm, and not on cpu', async () => {
    expect(fusedAutoAvailable()).toBe(true);
    const profile = await tf.profile(() => {
      oneStep([7, 9], BASE, 1);
    });
    const names = profile.kernels.map((k) => k.name);
    expect(names.filter((n) => n === FUSED_AUTO)).toHaveLength(1);
    expect(names).not.toContain('Sqrt');
    await tf.setBackend('cpu');
    expect(fusedAutoAvailable()).toBe(false);
    await tf.setBackend('wasm');
  });

  for (const [label, patch] of CASES) {
    it.each(SHAPES.map((s) => [s]))(
      `is within float32 round-off of a float64 reference; the TF.js ops on wasm and cpu are too, to their float32 sums (${label}, shape %j)`,
      async (shape) => {
        const c = { ...BASE, ...patch };
        const seed = shape.reduce((a, b) => a + b, 0);
        const ref = reference(shape, c, seed);
        const fused = oneStep(shape, c, seed);
        // The fused kernel sums in float64: a few float32 ulps of each output's size.
        expectNear(fused, ref, 2e-6);
        // TF.js sums n float32 terms one after the other: its RMS and mean carry up to ~n ulps.
        const opsTol = 2e-6 + shape.reduce((a, b) => a * b, 1) * 2 ** -24;
        const ops = withoutFused(() => oneStep(shape, c, seed));
        expectNear(ops, ref, opsTol);
        expect(sameV(fused, ops)).toBe(true);
        await tf.setBackend('cpu');
        const cpu = oneStep(shape, c, seed);
        await tf.setBackend('wasm');
        expectNear(cpu, ref, opsTol);
        expect(sameV(fused, cpu)).toBe(true);
        if (c.eta === 0) {
          // z and x are the old ones, bit for bit (data seeds 2 and 3).
          const z0 = data(shape, seed * 10 + 2);
          const x0 = data(shape, seed * 10 + 3);
          expect(fused[2].every((a, i) => Object.is(a, z0[i]))).toBe(true);
          expect(fused[3].every((a, i) => Object.is(a, x0[i]))).toBe(true);
        }
      },
    );
  }

  it('returns as committed y exactly the point the core commits, y - 1*update', () => {
    for (const shape of [[1], [7, 9], [784, 128]]) {
      const seed = 3;
      const [d, , , , yc] = oneStep(shape, BASE, seed);
      const committed = tf.tidy(() =>
        Float32Array.from(
          stepFrom(tf.tensor(data(shape, seed * 10 + 5), shape), tf.tensor(d, shape), 1).dataSync(),
        ),
      );
      expect(yc.every((a, i) => Object.is(a, committed[i]))).toBe(true);
    }
  });

  it('leaks no tensors over many steps', () => {
    const before = tf.memory().numTensors;
    for (let s = 0; s < 50; s++) oneStep([33], BASE, s);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects mismatched shapes and non-float inputs with a clear error', () => {
    const attrs = {
      beta2: 0.999,
      bc2: 0.5,
      epsRel: 1e-8,
      epsFloor: 1e-30,
      clip: true,
      eta: 0.1,
      weightDecay: 0,
      c: 0.5,
      average: true,
      beta: 0.9,
    };
    const g = tf.zeros([4]);
    const ok = tf.zeros([4]);
    expect(() => kernel(FUSED_AUTO, { g, v0: ok, z0: tf.zeros([5]), x0: ok, y: ok }, attrs)).toThrow(
      /z0 has shape \[5\], the gradient \[4\]/,
    );
    expect(() => kernel(FUSED_AUTO, { g, v0: tf.zeros([4], 'int32'), z0: ok, x0: ok, y: ok }, attrs)).toThrow(
      /v0 must be float32, got int32/,
    );
  });
});
