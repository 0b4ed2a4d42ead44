import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { runOne } from '../../src/bench/runner.js';
import { suiteDefaults } from '../../src/bench/suites.js';
import { taskByName } from '../../src/bench/tasks/index.js';
import { charTransformerTask } from '../../src/bench/tasks/transformer.js';
import {
  CHAR_TRANSFORMER,
  charTransformer,
  type TransformerConfig,
  transformerStep,
} from '../../src/bench/tasks/transformerModel.js';
import { mulberry32 } from '../../src/core/rng.js';
import { relErr } from '../backend/compare.js';
import { useBackend } from '../helpers/tf.js';

const SMALL: TransformerConfig = { vocab: 11, context: 12, width: 16, heads: 4, blocks: 2 };

/** int32 ids [batch, time] from a seed. */
function ids(batch: number, time: number, vocab: number, seed: number): number[] {
  const r = mulberry32(seed);
  return Array.from({ length: batch * time }, () => Math.floor(r() * vocab));
}

describe('charTransformer (the model)', () => {
  it('sees no future token: changing token t changes logits at t and later only', async () => {
    await useBackend('wasm');
    const model = charTransformer(SMALL, 3);
    const base = ids(2, 12, 11, 1);
    const changed = [...base];
    const t = 7;
    changed[t] = (changed[t] + 5) % 11; // first sequence, position 7
    changed[12 + t] = (changed[12 + t] + 3) % 11; // second sequence
    const logitsOf = (x: number[]) =>
      tf.tidy(() => model.logits(tf.tensor2d(x, [2, 12], 'int32')).arraySync() as number[][][]);
    const [a, b] = [logitsOf(base), logitsOf(changed)];
    for (let s = 0; s < 2; s++) {
      for (let p = 0; p < t; p++) expect(b[s][p]).toEqual(a[s][p]);
      for (const p of [t, t + 1, 11]) expect(relErr(b[s][p], a[s][p])).toBeGreaterThan(1e-4);
    }
    model.dispose();
  });

  it('accepts shorter sequences, and its first positions equal those of the full context', async () => {
    await useBackend('wasm');
    const model = charTransformer(SMALL, 4);
    const x = ids(3, 12, 11, 2);
    const short = x.flatMap((v, i) => (i % 12 < 5 ? [v] : []));
    const [full, part] = tf.tidy(() => [
      model
        .logits(tf.tensor2d(x, [3, 12], 'int32'))
        .slice([0, 0, 0], [3, 5, 11])
        .dataSync(),
      model.logits(tf.tensor2d(short, [3, 5], 'int32')).dataSync(),
    ]);
    expect(relErr(part, full)).toBeLessThanOrEqual(1e-6);
    model.dispose();
  });

  it('has finite gradients for every variable, equal on cpu and patched wasm', async () => {
    const gradsOn = async (backend: 'cpu' | 'wasm') => {
      await useBackend(backend);
      const model = charTransformer(SMALL, 5);
      const x = tf.tensor2d(ids(4, 12, 11, 3), [4, 12], 'int32');
      const y = tf.tensor2d(ids(4, 12, 11, 4), [4, 12], 'int32');
      const { value, grads } = tf.variableGrads(() => model.loss(x, y), model.variables);
      const out = {
        loss: value.dataSync()[0],
        grads: model.variables.map((v) => Float32Array.from(grads[v.name].dataSync())),
      };
      tf.dispose([value, x, y, ...Object.values(grads)]);
      model.dispose();
      return out;
    };
    const cpu = await gradsOn('cpu');
    const wasm = await gradsOn('wasm');
    expect(cpu.grads).toHaveLength(2 + 12 * 2 + 4);
    expect(Math.abs(wasm.loss - cpu.loss)).toBeLessThan(1e-5);
    // Near log(11): the initial logits are small.
    expect(cpu.loss).toBeGreaterThan(Math.log(11) - 0.1);
    expect(cpu.loss).toBeLessThan(Math.log(11) + 0.1);
    cpu.grads.forEach((g, i) => {
      expect(g.every(Number.isFinite)).toBe(true);
      expect(g.some((v) => v !== 0)).toBe(true);
      expect(relErr(wasm.grads[i], g)).toBeLessThanOrEqual(1e-4);
    });
  });

  it('learns: the loss of a learnable sequence falls on a tiny budget, and no tensor leaks', async () => {
    await useBackend('wasm');
    const before = tf.memory().numTensors;
    const model = charTransformer(SMALL, 6);
    // Each token is the previous one plus one (mod 11): learnable from one step of context.
    const start = ids(8, 1, 11, 5);
    const seq = start.flatMap((s) => Array.from({ length: 13 }, (_, j) => (s + j) % 11));
    const all = tf.tensor2d(seq, [8, 13], 'int32');
    const x = all.slice([0, 0], [8, 12]) as tf.Tensor2D;
    const y = all.slice([0, 1], [8, 12]) as tf.Tensor2D;
    const adam = tf.train.adam(1e-2);
    const losses: number[] = [];
    let afterFirst = 0;
    for (let i = 0; i < 40; i++) {
      const l = adam.minimize(() => model.loss(x, y), true, model.variables)!;
      losses.push(l.dataSync()[0]);
      l.dispose();
      if (i === 0) afterFirst = tf.memory().numTensors;
    }
    expect(tf.memory().numTensors).toBe(afterFirst);
    expect(losses[0]).toBeGreaterThan(2);
    expect(losses[39]).toBeLessThan(0.5 * losses[0]);
    adam.dispose();
    tf.dispose([all, x, y]);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses bad shapes with a message that names the fix', () => {
    expect(() => charTransformer({ ...SMALL, heads: 3 }, 1)).toThrow(/heads \(3\) must divide width \(16\)/);
    expect(() => charTransformer({ ...SMALL, blocks: 0 }, 1)).toThrow(/blocks must be a positive integer/);
    const model = charTransformer(SMALL, 1);
    expect(() => model.logits(tf.zeros([2, 13], 'int32') as tf.Tensor2D)).toThrow(/1 <= time <= 12/);
    model.dispose();
  });

  it('builds the same weights from the same seed', async () => {
    await useBackend('wasm');
    const [a, b, c] = [1, 1, 2].map((s) => charTransformer(SMALL, s));
    // Every randomly initialised weight: the embeddings, then each block's four kernels, then the head.
    for (const i of [0, 1, 4, 6, 10, 12, 28]) {
      expect(relErr(a.variables[i].dataSync(), b.variables[i].dataSync())).toBe(0);
      expect(relErr(a.variables[i].dataSync(), c.variables[i].dataSync())).toBeGreaterThan(0.1);
    }
    for (const m of [a, b, c]) m.dispose();
  });

  it('transformerStep times one training step of the task model and frees it', async () => {
    await useBackend('wasm');
    const before = tf.memory().numTensors;
    const s = transformerStep({ batch: 2 });
    expect(s.model.config).toMatchObject(CHAR_TRANSFORMER);
    const l0 = s.step();
    const l1 = s.step();
    expect(Math.abs(l0 - Math.log(96))).toBeLessThan(0.1);
    expect(l1).toBeLessThan(l0);
    s.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('the char-transformer task', () => {
  it('is in the quick and standard suites', () => {
    expect(taskByName('char-transformer')).toBe(charTransformerTask);
    expect(suiteDefaults('quick').tasks).toContain('char-transformer');
    expect(suiteDefaults('standard').tasks).toContain('char-transformer');
  });

  it('trains with an lrfree optimizer (sls) through the benchmark runner: the loss falls', async () => {
    await useBackend('wasm');
    const before = tf.memory().numTensors;
    const task = { ...charTransformerTask, budget: { quick: 5, standard: 5, full: 5 }, evalEvery: 5 };
    const r = await runOne(task, 'sls', 1, 'quick');
    expect(r.refused).toBeUndefined();
    expect(r.diverged).toBe(false);
    expect(r.steps).toBe(5);
    expect(r.backwards).toBeGreaterThanOrEqual(5);
    // Starts near log(96) = 4.56 and leaves it within a few line-search steps.
    expect(r.evals[0].loss).toBeGreaterThan(4.4);
    expect(r.evals[r.evals.length - 1].loss).toBeLessThan(r.evals[0].loss - 0.1);
    expect(r.final.validation.metric).toBeGreaterThan(0);
    expect(tf.memory().numTensors).toBe(before);
    // Seconds on an idle machine; the timeout leaves room for a shared one.
  }, 600_000);
});
