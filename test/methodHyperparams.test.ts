/**
 * Methods' own knobs as run-time hyperparameters: Prodigy's `lr` and `dCoef`, Schedule-Free's `lr` and
 * `beta` (opt.hyperparams.set), validated, read at the next step, saved and restored with the state.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import * as lrfree from '../src/index.js';
import { uniformArray, useBackend } from './helpers/tf.js';

beforeAll(() => useBackend('cpu'));

/** A least-squares problem on two variables. */
function problem(seed: number) {
  const w = tf.variable(
    tf.tensor2d(uniformArray(12, seed), [4, 3]),
    true,
    `mh${seed}_${Math.random()}/kernel`,
  );
  const b = tf.variable(tf.zeros([3]), true, `${w.name.split('/')[0]}/bias`);
  const x = tf.tensor2d(uniformArray(40, seed + 1), [10, 4]);
  const y = tf.tensor2d(uniformArray(30, seed + 2), [10, 3]);
  const f = () => tf.tidy(() => tf.mean(tf.square(tf.sub(tf.add(tf.matMul(x, w), b), y))) as tf.Scalar);
  return { vars: [w, b], f, dispose: () => tf.dispose([w, b, x, y]) };
}

describe('methods: their own knobs at run time', () => {
  it("Prodigy: set('dCoef') changes d-hat = dCoef * r / sum|s| from the next step on; validated; saved", async () => {
    const p = problem(3);
    const opt = lrfree.optimizer({ method: lrfree.methods.prodigy() });
    expect(opt.hyperparams.names().sort()).toEqual(['method.dCoef', 'method.lr']);
    expect(opt.hyperparams.get('dCoef')).toBe(1);
    for (let k = 0; k < 3; k++) opt.minimize(p.f, false, p.vars);
    let s = opt.directionState() as Record<string, number>;
    expect(s.dHat).toBe((1 * s.r) / s.denom);
    opt.hyperparams.set('dCoef', 0.25);
    opt.minimize(p.f, false, p.vars);
    s = opt.directionState() as Record<string, number>;
    expect(s.r).toBeGreaterThan(0);
    expect(s.dHat).toBe((0.25 * s.r) / s.denom);
    expect(() => opt.hyperparams.set('dCoef', 0)).toThrow(/dCoef/);
    expect(() => opt.hyperparams.set('dCoef', Number.NaN)).toThrow(/dCoef/);
    // The lr knob scales the committed step: lastStep.eta is d*lr.
    opt.hyperparams.set('lr', 0.5);
    const d = (opt.directionState() as Record<string, number>).d;
    opt.minimize(p.f, false, p.vars);
    expect(opt.lastStep.eta).toBe(d * 0.5);
    const saved = await opt.getWeights();
    const restored = lrfree.optimizer({ method: lrfree.methods.prodigy() });
    await restored.setWeights(saved);
    expect(restored.hyperparams.get('dCoef')).toBe(0.25);
    expect(restored.hyperparams.get('lr')).toBe(0.5);
    tf.dispose([saved[0].tensor, saved[saved.length - 1].tensor]);
    opt.dispose();
    restored.dispose();
    p.dispose();
  });

  it.each(['scheduleFreeSgd', 'scheduleFreeAdamW'] as const)(
    "%s: set('beta') moves y = beta*x + (1-beta)*z at the next step and in train() after eval(); validated",
    async (name) => {
      const p = problem(5);
      const opt = lrfree.optimizer({ method: lrfree.methods[name]() }) as lrfree.ScheduleFreeOptimizer;
      expect(opt.hyperparams.names().sort()).toEqual(['method.beta', 'method.lr']);
      expect(opt.hyperparams.get('beta')).toBe(0.9);
      const yOf = async (beta: number) => {
        const ws = await opt.getWeights();
        const slot = (v: tf.Variable, n: string) => ws.find((w) => w.name === `${v.name}/${n}`)!.tensor;
        const out = p.vars.map((v) =>
          tf.tidy(() =>
            Array.from(tf.add(tf.mul(slot(v, 'x'), beta), tf.mul(slot(v, 'z'), 1 - beta)).dataSync()),
          ),
        );
        tf.dispose([ws[0].tensor, ws[ws.length - 1].tensor]);
        return out;
      };
      for (let k = 0; k < 3; k++) opt.minimize(p.f, false, p.vars);
      opt.eval();
      const at0 = await yOf(0.9);
      opt.train();
      expect(p.vars.map((v) => Array.from(v.dataSync()))).toEqual(at0);
      opt.hyperparams.set('beta', 0.5);
      opt.minimize(p.f, false, p.vars);
      // The step itself put y with the new beta into the model (w - (y - yNew): equal up to rounding).
      const afterStep = p.vars.map((v) => Array.from(v.dataSync()));
      opt.eval();
      const at1 = await yOf(0.5);
      afterStep.flat().forEach((v, i) => {
        expect(v).toBeCloseTo(at1.flat()[i], 6);
      });
      opt.train();
      expect(p.vars.map((v) => Array.from(v.dataSync()))).toEqual(at1);
      opt.eval();
      expect(await yOf(0.9)).not.toEqual(at1); // the new beta is a real change
      opt.train();
      expect(() => opt.hyperparams.set('beta', 1)).toThrow(/beta/);
      expect(() => opt.hyperparams.set('beta', 0)).toThrow(/beta/);
      opt.dispose();
      p.dispose();
    },
  );
});
