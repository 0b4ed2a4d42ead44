/**
 * The exhaustive, deterministic complement of the constructor fuzz (constructors.test.ts): for every
 * factory, every one of its option keys and every value of a fixed list, a build with that ONE option set
 * (the others default) is judged by the same oracle (factories.ts): an LrfreeConfigError that names the
 * given key with its value and says what is allowed, or a valid build that trains 3 steps with finite
 * weights. Then every pair of numeric keys of a factory is set to 1e30 together and to 1e-30 together
 * (cross-option checks such as min <= max): an error must name at least one of the two with its value.
 *
 * The fuzz finds this class of defect (a given option refused under another option's name, a message that
 * does not say what is allowed) only when its random seed happens to hit it; this sweep finds every one in
 * every run. Each factory's failures are reported as one list (factory, options, message).
 *
 * Size and time: 412 (factory, key) pairs x 16 values = 6592 single-option builds, and 1928 two-option
 * builds (every pair of numeric keys, 286 keys in all, x 2 values); 15-30 s on the cpu backend on a loaded
 * 2-core machine, so the pair part is not restricted.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../helpers/tf.js';
import { type Built, FACTORIES, type Factory, judgeError, trainsFinitely } from './factories.js';

/** Zero, signs, tiny, huge, beyond float32, non-finite, ordinary and wrong types. */
const VALUES: unknown[] = [
  0,
  -1,
  1e-30,
  1e30,
  1e39,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  0.5,
  2,
  1000,
  'x',
  // A numeric string: a check that compares before it checks the type (a > 0) lets it through.
  '1',
  true,
  {},
  [],
];
/** The values both keys of a pair take at once. */
const PAIR_VALUES = [1e30, 1e-30];

beforeAll(async () => {
  await useBackend('cpu');
});

/** The options as a failure shows them (NaN and +-Infinity as written, strings quoted). */
function describeOptions(options: Record<string, unknown>): string {
  return `{ ${Object.entries(options)
    .map(([k, v]) => `${k}: ${typeof v === 'number' ? String(v) : JSON.stringify(v)}`)
    .join(', ')} }`;
}

/**
 * Builds with `options` and judges the result: whether it built, and what is wrong (if anything). Besides
 * the shared oracle (factories.ts), three rules that hold here because every key is one the factory lists:
 * an "unknown option" error for a given key is wrong (the list and the factory disagree); a build that
 * accepts NaN is wrong (no option means anything with NaN: it was ignored or not checked); a configuration
 * error at the first training step is judged like one at construction.
 */
function judge(factory: Factory, options: Record<string, unknown>): { built: boolean; wrong?: string } {
  let built: Built;
  try {
    built = factory.build(options);
  } catch (e) {
    const unknown = /unknown option '([^']+)'/.exec((e as Error)?.message ?? '');
    if (unknown && unknown[1] in options) {
      return { built: false, wrong: `a listed key is refused as unknown: ${(e as Error).message}` };
    }
    try {
      judgeError(options, e);
    } catch (wrong) {
      return { built: false, wrong: (wrong as Error).message };
    }
    return { built: false };
  }
  let atStep: string | undefined;
  try {
    const finite = trainsFinitely(factory.kind, built, (e) => {
      try {
        judgeError(options, e);
      } catch (wrong) {
        atStep = `at the first step: ${(wrong as Error).message}`;
      }
    });
    if (atStep !== undefined) return { built: true, wrong: atStep };
    if (!finite) return { built: true, wrong: 'valid options, but a weight became non-finite' };
  } catch (e) {
    return { built: true, wrong: `valid options, but training threw: ${(e as Error)?.stack ?? e}` };
  }
  if (Object.values(options).some((v) => Number.isNaN(v))) {
    return { built: true, wrong: 'NaN was accepted: the option is ignored or not checked' };
  }
  return { built: true };
}

describe('single-option sweep', () => {
  it.each(FACTORIES.map((f) => [f.name, f] as const))('%s', (name, factory) => {
    factory.build({}); // the default call declares the factory's option keys
    const keys = factory.keys();
    expect(keys.length).toBeGreaterThan(0);
    const before = tf.memory().numTensors;
    const failures: string[] = [];
    const numeric = new Set<string>();
    for (const key of keys) {
      for (const value of VALUES) {
        const options = { [key]: value };
        const { built, wrong } = judge(factory, options);
        if (wrong !== undefined) failures.push(`${name}(${describeOptions(options)}): ${wrong}`);
        // A key that accepts a number is numeric; only those enter the pairs.
        if (built && typeof value === 'number') numeric.add(key);
      }
    }
    const nums = [...numeric];
    for (let i = 0; i < nums.length; i++) {
      for (let j = i + 1; j < nums.length; j++) {
        for (const value of PAIR_VALUES) {
          const options = { [nums[i]]: value, [nums[j]]: value };
          const { wrong } = judge(factory, options);
          if (wrong !== undefined) failures.push(`${name}(${describeOptions(options)}): ${wrong}`);
        }
      }
    }
    expect(failures).toEqual([]);
    expect(tf.memory().numTensors, `${name}: tensors leaked over the sweep`).toBe(before);
  });
});
