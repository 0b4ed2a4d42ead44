import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { runOne } from '../../src/bench/runner.js';
import { ALRAO_WRAPPED } from '../../src/bench/specs.js';
import { planRuns } from '../../src/bench/suites.js';
import { taskByName } from '../../src/bench/tasks/index.js';
import { useBackend } from '../helpers/tf.js';

describe('Alrao as its authors run it: the wrapped model with classifier copies and the switch', () => {
  it('trains on a classification task, learns, frees its tensors; planned on classification tasks only', async () => {
    await useBackend('wasm');
    const before = tf.memory().numTensors;
    const r = await runOne(taskByName('mnist-mlp'), ALRAO_WRAPPED, 1, 'quick');
    expect(r.refused).toBeUndefined();
    expect(r.steps).toBe(100);
    expect(r.cost).toBe(300);
    expect(r.evals.length).toBeGreaterThan(2);
    // Better than chance (10%) after 100 steps of 6400 images.
    expect(r.final.test.metric!).toBeGreaterThan(0.5);
    // Nothing leaks: wrap() used to leave its heads' two initial-value tensors behind.
    expect(tf.memory().numTensors - before).toBe(0);
    const plan = planRuns({
      suite: 'quick',
      tasks: ['linreg', 'mnist-mlp'],
      optimizers: [ALRAO_WRAPPED],
      seeds: [1],
    });
    expect(plan.map((p) => p.task)).toEqual(['mnist-mlp']);
    const refused = await runOne(taskByName('linreg'), ALRAO_WRAPPED, 1, 'quick');
    expect(refused.refused).toMatch(/needs a classification task/);
  }, 300_000);
});
