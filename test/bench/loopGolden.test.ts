import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { useBackend } from '../helpers/tf.js';
import { goldenNumbers, helperNumbers } from './loopGolden.shared.js';

const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../fixtures/loop/${name}`, import.meta.url), 'utf8')) as Record<
    string,
    unknown
  >;

// The numbers were recorded on cpu from the code before the four training loops became one
// (test/bench/loopGolden.record.ts); the v2 benchmark's stored runs are combined with later runs of the
// same code paths, so every stored number must stay bit-identical.
describe('one training loop: the same numbers as the four loops it replaced', () => {
  it('bench runner and the wrapped Alrao runner: every stored metric bit-identical (quick suite, seed 1, cpu)', async () => {
    await useBackend('cpu');
    const before = tf.memory().numTensors;
    const now = await goldenNumbers();
    const then = fixture('golden.json');
    expect(Object.keys(now)).toEqual(Object.keys(then));
    for (const key of Object.keys(then)) expect(now[key], key).toEqual(then[key]);
    // The wrapped Alrao run leaves its two initial head tensors behind (test/bench/alraoWrapped.test.ts).
    expect(tf.memory().numTensors - before).toBeLessThanOrEqual(2);
  }, 600_000);

  it('classification helper, diagnostics epoch loop and AlraoModel.fit: bit-identical on toy data', async () => {
    await useBackend('cpu');
    const now = await helperNumbers();
    const then = fixture('helpers.json');
    for (const key of Object.keys(then)) expect(now[key], key).toEqual(then[key]);
  });
});
