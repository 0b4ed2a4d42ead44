import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  compileWat,
  derivedModules,
  relaxedMaddVariant,
  renderModule,
  SIMD_DIR,
  watFiles,
} from '../../scripts/wasm.js';
import { patchWasm } from '../../src/backend/patchWasm.js';
import { FUSED_ADAM, fusedAdamAvailable } from '../../src/backend/wasm/fusedAdam.js';
import { isLrfreeKernel } from '../../src/backend/wasm/heap.js';
import { adamMoments } from '../../src/directions/adamMoments.js';
import { adamSls } from '../../src/optimizers/lineSearch.js';
import { snapshotWeights, tinyMlp, toyClassification } from '../helpers/tf.js';
import { data, kernel } from './compare.js';

describe('the embedded wasm modules', () => {
  it('match a fresh compile of their .wat sources (rerun `npx tsx scripts/wasm.ts` after editing one)', async () => {
    const files = watFiles();
    expect(files).toContain('kernels.wat');
    for (const file of files) {
      const bytes = await compileWat(join(SIMD_DIR, file));
      expect(readFileSync(join(SIMD_DIR, file.replace(/\.wat$/, '.wasm.ts')), 'utf8')).toBe(
        renderModule(file, bytes),
      );
    }
    const derived = await derivedModules();
    expect(derived.map((d) => d.name)).toEqual(['kernelsRelaxed.wat']);
    for (const { name, from, bytes } of derived) {
      expect(readFileSync(join(SIMD_DIR, name.replace(/\.wat$/, '.wasm.ts')), 'utf8')).toBe(
        renderModule(name, bytes, from),
      );
    }
  });

  it("derives the relaxed-SIMD module by rewriting exactly the product tile's 8 accumulations", () => {
    const wat = readFileSync(join(SIMD_DIR, 'kernels.wat'), 'utf8');
    const relaxed = relaxedMaddVariant(wat);
    expect(relaxed.match(/f32x4\.relaxed_madd/g)).toHaveLength(8);
    expect(relaxed.length).toBeLessThan(wat.length);
    // Only the tile changed: the text outside its accumulations is the same.
    const strip = (t: string) => t.replace(/\(f32x4\.(add|relaxed_madd)[^\n]*/g, '');
    expect(strip(relaxed)).toBe(strip(wat));
    expect(() =>
      relaxedMaddVariant(wat.replace('(local.get $c00) (f32x4.mul', '(local.get $c00) (f32x4.sub')),
    ).toThrow(/expected the 4x8 tile's 8 accumulations in kernels.wat, found 7/);
  });
});

/** Moments of one Adam step on random data, on the chosen path, as plain arrays. */
function moments(shape: number[], step: number, withSearch: boolean, path: 'auto' | 'ops'): Float32Array[] {
  return tf.tidy(() => {
    const g = tf.tensor(data(shape, 1), shape);
    const m0 = tf.tensor(data(shape, 2), shape);
    const v0 = tf.abs(tf.tensor(data(shape, 3), shape));
    const out = adamMoments(g, m0, v0, { beta1: 0.9, beta2: 0.999, epsilon: 1e-7, step }, withSearch, path);
    return [out.m, out.v, out.d, ...(out.s ? [out.s] : [])].map((t) => Float32Array.from(t.dataSync()));
  });
}

describe('fused Adam kernel on patched wasm', () => {
  beforeAll(async () => {
    expect(patchWasm()).toContain(FUSED_ADAM);
    await tf.setBackend('wasm');
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('is installed and used on wasm, and not on cpu', async () => {
    expect(isLrfreeKernel(FUSED_ADAM, 'wasm')).toBe(true);
    expect(fusedAdamAvailable()).toBe(true);
    await tf.setBackend('cpu');
    expect(fusedAdamAvailable()).toBe(false);
    await tf.setBackend('wasm');
  });

  it.each([
    [[1], 1, true],
    [[3], 2, false],
    [[5], 7, true],
    [[7, 9], 50, true],
    [[784, 128], 3, true],
    [[784, 128], 1000, false],
  ])(
    'gives bit-identical m, v, d, s to the TF.js ops (shape %j, step %d, search %s)',
    (shape, step, search) => {
      const fused = moments(shape, step, search, 'auto');
      const ops = moments(shape, step, search, 'ops');
      expect(fused.length).toBe(search ? 4 : 3);
      for (let i = 0; i < ops.length; i++) {
        expect(fused[i].length).toBe(ops[i].length);
        let differing = 0;
        for (let j = 0; j < ops[i].length; j++) if (!Object.is(fused[i][j], ops[i][j])) differing++;
        expect(differing).toBe(0);
      }
      // Not trivially equal: the direction is finite and non-zero.
      expect(fused[2].some((x) => x !== 0 && Number.isFinite(x))).toBe(true);
    },
  );

  it('leaks no tensors over many steps', () => {
    const g = tf.tensor(data([300], 4));
    let m = tf.zerosLike(g);
    let v = tf.zerosLike(g);
    const before = tf.memory().numTensors;
    for (let k = 1; k <= 200; k++) {
      const out = adamMoments(g, m, v, { beta1: 0.9, beta2: 0.999, epsilon: 1e-7, step: k }, true);
      tf.dispose([m, v, out.d, out.s!]);
      m = out.m;
      v = out.v;
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([g, m, v]);
  });

  it('rejects mismatched shapes and non-float inputs with a clear error', () => {
    const attrs = { beta1: 0.9, beta2: 0.999, epsilon: 1e-7, c1: 0.1, c2: 0.001, withSearch: false };
    const g = tf.zeros([4]);
    expect(() => kernel(FUSED_ADAM, { g, m: tf.zeros([5]), v: tf.zeros([4]) }, attrs)).toThrow(
      /m has shape \[5\], the gradient \[4\]/,
    );
    expect(() => kernel(FUSED_ADAM, { g, m: tf.zeros([4], 'int32'), v: tf.zeros([4]) }, attrs)).toThrow(
      /m must be float32, got int32/,
    );
  });

  it('trains adamSls to the same weights with and without the fused kernel', () => {
    const train = (): Float32Array[] => {
      const model = tinyMlp(6, 8, 3);
      const { x, y } = toyClassification(64, 6, 3, 5);
      const opt = adamSls({ seed: 3 });
      const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
      const f = () =>
        tf.mean(tf.metrics.categoricalCrossentropy(y, model.apply(x) as tf.Tensor)) as tf.Scalar;
      for (let s = 0; s < 20; s++) opt.minimize(f, false, vars);
      const w = snapshotWeights(model);
      tf.dispose([x, y]);
      opt.dispose();
      model.dispose();
      return w;
    };
    const fused = train();
    const stock = tf.getKernel(FUSED_ADAM, 'wasm')!;
    tf.unregisterKernel(FUSED_ADAM, 'wasm');
    try {
      expect(fusedAdamAvailable()).toBe(false);
      const ops = train();
      expect(fused.map((w) => Array.from(w))).toEqual(ops.map((w) => Array.from(w)));
    } finally {
      tf.registerKernel(stock);
    }
    expect(fusedAdamAvailable()).toBe(true);
  });
});
