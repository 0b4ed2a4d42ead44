import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { runOne } from '../../src/bench/runner.js';
import { dataTaskInstance, MONITOR_SIZE, type Task } from '../../src/bench/task.js';
import { TASKS } from '../../src/bench/tasks/index.js';
import { linreg } from '../../src/bench/tasks/regression.js';
import { withSeededMathRandom } from '../../src/core/rng.js';
import { useBackend } from '../helpers/tf.js';

describe('benchmark tasks', () => {
  it.each(TASKS.map((t) => t.name))('%s: seeded, finite, evaluable, and frees every tensor', async (name) => {
    await useBackend('wasm');
    const task = TASKS.find((t) => t.name === name)!;
    const before = tf.memory().numTensors;
    const lossAt = (seed: number, step: number) => {
      const inst = task.create(seed, 'quick');
      const b = inst.batch(step);
      // Dropout draws from Math.random: seeded per step, as the optimizer does.
      const l = withSeededMathRandom(7, () => tf.tidy(() => b.loss().dataSync()[0]) as unknown as number);
      b.release();
      const v = inst.evaluate('validation');
      const t = inst.evaluate('test');
      inst.dispose();
      return { l, v, t, vars: inst.variables.length, spe: inst.stepsPerEpoch };
    };
    const a = lossAt(1, 3);
    const b = lossAt(1, 3);
    expect(Number.isFinite(a.l)).toBe(true);
    expect(b.l).toBe(a.l);
    expect(Number.isFinite(a.v.loss) && Number.isFinite(a.t.loss)).toBe(true);
    if (task.metricName) expect(a.v.metric).toBeGreaterThanOrEqual(0);
    expect(a.vars).toBeGreaterThan(0);
    expect(a.spe).toBeGreaterThanOrEqual(1);
    expect(task.budget.quick).toBeLessThanOrEqual(task.budget.standard);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('the monitor split', () => {
  it('is the leading monitorSize validation examples; validation and test stay whole', async () => {
    await useBackend('cpu');
    const before = tf.memory().numTensors;
    const x = tf.tensor2d(
      Array.from({ length: 20 }, (_, i) => i),
      [10, 2],
    );
    // Predicting the first feature, so each example's squared error is its own and the means differ by subset.
    const y = tf.tensor2d(
      Array.from({ length: 10 }, (_, i) => 2 * i),
      [10, 1],
    );
    const model = tf.sequential({
      layers: [tf.layers.dense({ units: 1, inputShape: [2], kernelInitializer: 'zeros', useBias: false })],
    });
    const mse = (t: tf.Tensor, p: tf.Tensor) => tf.losses.meanSquaredError(t, p) as tf.Scalar;
    const inst = dataTaskInstance({
      model,
      train: { x: x.clone(), y: y.clone() },
      validation: { x, y },
      test: { x: x.clone(), y: y.clone() },
      batchSize: 5,
      seed: 1,
      lossOf: mse,
      monitorSize: 3,
    });
    // Zero weights predict 0: the loss is the mean of the squared targets.
    expect(inst.evaluate('monitor').loss).toBeCloseTo((0 + 4 + 16) / 3, 5);
    const all = Array.from({ length: 10 }, (_, i) => (2 * i) ** 2).reduce((a, b) => a + b) / 10;
    expect(inst.evaluate('validation').loss).toBeCloseTo(all, 4);
    expect(inst.evaluate('test').loss).toBeCloseTo(all, 4);
    inst.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('is what the runner evaluates during training; the final numbers come from the whole splits', async () => {
    await useBackend('cpu');
    const seen: string[] = [];
    const spy: Task = {
      ...linreg,
      create(seed, suite) {
        const inst = linreg.create(seed, suite);
        return {
          ...inst,
          batch: (step) => inst.batch(step),
          evaluate: (split) => {
            seen.push(split);
            return inst.evaluate(split);
          },
          dispose: () => inst.dispose(),
        };
      },
    };
    const record = await runOne(
      { ...spy, budget: { ...linreg.budget, quick: 20 }, evalEvery: 10 },
      'sgd@0.01',
      1,
      'quick',
    );
    expect(record.evals.map((e) => e.step)).toEqual([0, 10, 20]);
    expect(seen).toEqual(['monitor', 'monitor', 'monitor', 'validation', 'test']);
    expect(MONITOR_SIZE.standard).toBe(2000);
  });
});

describe('char-lstm', () => {
  it("builds without TF.js's orthogonal-initializer warning, which used to fill every sweep log", async () => {
    await useBackend('cpu');
    const warnings: string[] = [];
    const warn = console.warn;
    console.warn = (...args: unknown[]) => warnings.push(String(args[0]));
    try {
      TASKS.find((t) => t.name === 'char-lstm')!
        .create(1, 'quick')
        .dispose();
    } finally {
      console.warn = warn;
    }
    expect(warnings.filter((w) => /Orthogonal initializer/.test(w))).toEqual([]);
    expect(console.warn).toBe(warn);
  });
});
