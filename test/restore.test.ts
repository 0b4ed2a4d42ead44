/**
 * Restore by name and shape (issue #20, item 4): saved state records each variable's name and shape and
 * binds by name (or by name without TF.js's `_n` suffix, or by shape-checked position); a different order
 * restores onto the right variables, a different model fails clearly, and every var list's state is saved.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import * as lrfree from '../src/index.js';
import { bitEqual, useBackend } from './helpers/tf.js';

beforeAll(async () => {
  await useBackend('cpu');
});

let counter = 0;
/** Two equal-shaped variables with different gradients, so swapped moments change the result. */
function pair(prefix = `restore${counter++}`): { a: tf.Variable; b: tf.Variable } {
  return {
    a: tf.variable(tf.tensor1d([0.5, -1, 2]), true, `${prefix}/a`),
    b: tf.variable(tf.tensor1d([1, 0.25, -3]), true, `${prefix}/b`),
  };
}
const loss = (a: tf.Variable, b: tf.Variable) => () =>
  tf.tidy(() =>
    tf.add(tf.sum(tf.square(tf.sub(a, 1))), tf.mul(3, tf.sum(tf.square(tf.add(b, 2))))),
  ) as tf.Scalar;
const values = (...vs: tf.Variable[]) => vs.map((v) => v.dataSync().slice() as Float32Array);

/** Trains 3 steps; returns the saved state (cloned into `restored`) and the reference after 2 more steps. */
async function trainAndRestore(restored: lrfree.LrfreeOptimizer) {
  const { a, b } = pair();
  const opt = lrfree.adam(0.1);
  for (let s = 0; s < 3; s++) opt.minimize(loss(a, b), false, [a, b]);
  await restored.setWeights(await opt.getWeights());
  const at3 = values(a, b);
  for (let s = 0; s < 2; s++) opt.minimize(loss(a, b), false, [a, b]);
  const reference = values(a, b);
  opt.dispose();
  return { a, b, at3, reference };
}

describe('restore binds state by name and shape', () => {
  it('the same variables in another order get their own Adam moments (bit-equal continuation)', async () => {
    const restored = lrfree.adam(0.1);
    const { a, b, at3, reference } = await trainAndRestore(restored);
    a.assign(tf.tensor1d(at3[0]));
    b.assign(tf.tensor1d(at3[1]));
    // The step lists b before a: by position the moments would be swapped.
    for (let s = 0; s < 2; s++) restored.minimize(loss(a, b), false, [b, a]);
    expect(bitEqual(values(a, b), reference)).toBe(true);
    const state = await restored.getWeights();
    expect(state.map((w) => w.name)).toContain(`${a.name}/m`);

    // The test can fail: binding by position (saved order a, b onto b, a) gives other numbers.
    const positional = lrfree.adam(0.1);
    const again = await trainAndRestore(positional);
    const c = tf.variable(tf.tensor1d(again.at3[1]), true, 'other/c'); // plays b, bound to a's moments
    const d = tf.variable(tf.tensor1d(again.at3[0]), true, 'other/d'); // plays a
    for (let s = 0; s < 2; s++) positional.minimize(loss(d, c), false, [c, d]);
    expect(bitEqual(values(d, c), again.reference)).toBe(false);
    restored.dispose();
    positional.dispose();
    tf.dispose([a, b, c, d, again.a, again.b]);
  });

  it("renamed variables (TF.js's `_n` suffix after a load in the same process), reordered, bind by base name", async () => {
    const restored = lrfree.adam(0.1);
    const { a, b, at3, reference } = await trainAndRestore(restored);
    const a1 = tf.variable(tf.tensor1d(at3[0]), true, `${a.name}_1`);
    const b1 = tf.variable(tf.tensor1d(at3[1]), true, `${b.name}_1`);
    for (let s = 0; s < 2; s++) restored.minimize(loss(a1, b1), false, [b1, a1]);
    expect(bitEqual(values(a1, b1), reference)).toBe(true);
    restored.dispose();
    tf.dispose([a, b, a1, b1]);
  });

  it('unrelated names bind by position, shape-checked', async () => {
    const restored = lrfree.adam(0.1);
    const { a, b, at3, reference } = await trainAndRestore(restored);
    const x = tf.variable(tf.tensor1d(at3[0]), true, 'fresh/x');
    const y = tf.variable(tf.tensor1d(at3[1]), true, 'fresh/y');
    for (let s = 0; s < 2; s++) restored.minimize(loss(x, y), false, [x, y]);
    expect(bitEqual(values(x, y), reference)).toBe(true);
    restored.dispose();
    tf.dispose([a, b, x, y]);
  });

  it('a model whose variables differ in shape or count fails, naming both sides', async () => {
    for (const make of [
      () => [tf.variable(tf.zeros([4]), true, 'wrong/a'), tf.variable(tf.zeros([3]), true, 'wrong/b')],
      () => [tf.variable(tf.zeros([3])), tf.variable(tf.zeros([3])), tf.variable(tf.zeros([3]))],
    ]) {
      const restored = lrfree.adam(0.1);
      const { a, b } = await trainAndRestore(restored);
      const vars = make();
      const n = tf.memory().numTensors;
      const f = () => tf.addN(vars.map((v) => tf.sum(tf.square(v)))) as tf.Scalar;
      const err = (() => {
        try {
          restored.minimize(f, false, vars);
        } catch (e) {
          return e as Error;
        }
        return undefined;
      })();
      expect(err).toBeInstanceOf(lrfree.LrfreeConfigError);
      expect(err?.message).toMatch(/restored optimizer state does not fit/);
      expect(err?.message).toContain(`${a.name} [3]`);
      expect(err?.message).toMatch(
        vars.length === 2 ? /'wrong\/a' has shape \[4\]/ : /2 variables were saved/,
      );
      expect(tf.memory().numTensors).toBeLessThanOrEqual(n); // the restored slots were freed
      restored.dispose();
      tf.dispose([a, b, ...vars]);
    }
  });

  it("every var list's state is saved, not only the last one's", async () => {
    const g = tf.variable(tf.tensor1d([1, 2]), true, 'lists/g');
    const h = tf.variable(tf.tensor2d([[1, -1]]), true, 'lists/h');
    const fg = () => tf.sum(tf.square(tf.sub(g, 3))) as tf.Scalar;
    const fh = () => tf.sum(tf.square(tf.add(h, 1))) as tf.Scalar;
    const opt = lrfree.adam(0.1);
    for (let s = 0; s < 3; s++) {
      opt.minimize(fg, false, [g]);
      opt.minimize(fh, false, [h]);
    }
    const saved = await opt.getWeights();
    expect(saved.map((w) => w.name).slice(1, -1)).toEqual([
      'lists/g/m',
      'lists/g/v',
      'lists/h/m',
      'lists/h/v',
    ]);
    const restored = lrfree.adam(0.1);
    await restored.setWeights(saved);
    const start = values(g, h);
    opt.minimize(fg, false, [g]);
    opt.minimize(fh, false, [h]);
    const reference = values(g, h);
    g.assign(tf.tensor1d(start[0]));
    h.assign(tf.tensor2d(start[1], [1, 2]));
    // The first step binds g's state; h's waits, still saved, for the step that trains h.
    restored.minimize(fg, false, [g]);
    expect((await restored.getWeights()).map((w) => w.name).slice(1, -1)).toEqual([
      'lists/g/m',
      'lists/g/v',
      'lists/h/m',
      'lists/h/v',
    ]);
    restored.minimize(fh, false, [h]);
    expect(bitEqual(values(g, h), reference)).toBe(true);
    opt.dispose();
    restored.dispose();
    tf.dispose([g, h]);
  });
});
