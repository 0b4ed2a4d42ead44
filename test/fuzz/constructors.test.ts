/**
 * Fuzzes every exported optimizer, preset, direction, step rule and schedule factory (issue #20, item 2):
 * random values of every option (NaN, +-Infinity, 1e39, negative, zero, wrong types, unknown keys) either
 * fail with an LrfreeConfigError that names the parameter, its value and what is allowed, or are valid
 * and then train a few steps without a non-finite weight. The factories and the oracle are in factories.ts,
 * shared with the exhaustive single-option sweep (singleOption.test.ts).
 *
 * Bounded time: a fixed number of runs per factory and a time limit per factory. On failure the message
 * carries the fast-check seed and path; rerun with FUZZ_SEED=<seed> to reproduce.
 */
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import * as lrfree from '../../src/index.js';
import { useBackend } from '../helpers/tf.js';
import { type Built, FACTORIES, judgeError, trainsFinitely } from './factories.js';

const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Date.now() % 2 ** 31;
const RUNS = 12;
const MS_PER_FACTORY = 700;

beforeAll(async () => {
  await useBackend('cpu');
});

/** Values that break things: non-finite, float32 overflow, signs, zero, wrong types. */
const VALUE = fc.oneof(
  fc.constantFrom(
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    1e39,
    -1e39,
    1e30,
    -1,
    0,
    1e-12,
    0.5,
    0.9,
    0.999,
    1,
    2,
    3,
    10,
    100,
  ),
  fc.double(),
  fc.integer({ min: -3, max: 50 }),
  fc.constantFrom<unknown>(
    'false',
    'true',
    '',
    '1',
    'sgd',
    'adam',
    'armijo',
    'goldstein',
    'smooth',
    'sps',
    'cycle',
    'feature',
    'doubleEvery',
    true,
    false,
    null,
    [],
    {},
    [0.9, 0.999],
    [Number.NaN, 0.9],
    [0.9],
    { every: 2 },
  ),
);

/** Up to three of the keys with random values (few keys: valid combinations are common enough to train), sometimes a typo key. */
function optionsArb(keys: string[]): fc.Arbitrary<Record<string, unknown>> {
  const known = fc
    .subarray(keys, { minLength: 0, maxLength: Math.min(3, keys.length) })
    .chain((ks) =>
      fc.tuple(...ks.map(() => VALUE)).map((vs) => Object.fromEntries(ks.map((k, i) => [k, vs[i]]))),
    );
  const typo = fc.option(fc.constantFrom('learningRate', 'betas2', 'momentun', 'nesterov_'), {
    nil: undefined,
    freq: 6,
  });
  return fc.tuple(known, typo, VALUE).map(([o, t, v]) => (t === undefined ? o : { ...o, [t]: v }));
}

describe(`constructor fuzz (seed ${SEED})`, () => {
  it.each(FACTORIES.map((f) => [f.name, f] as const))('%s', (_name, factory) => {
    factory.build({}); // the default call declares the factory's option keys
    const keys = factory.keys();
    expect(keys.length).toBeGreaterThan(0);
    const before = tf.memory().numTensors;
    const result = fc.check(
      fc.property(optionsArb(keys), (options) => {
        let built: Built;
        try {
          built = factory.build(options);
        } catch (e) {
          judgeError(options, e);
          return true;
        }
        if (!trainsFinitely(factory.kind, built))
          throw new Error('valid options, but a weight became non-finite');
        return true;
      }),
      { seed: SEED, numRuns: RUNS, interruptAfterTimeLimit: MS_PER_FACTORY, markInterruptAsFailure: false },
    );
    if (result.failed) {
      throw new Error(
        `${factory.name}: ${fc.defaultReportMessage(result)}\n${String(result.errorInstance)}\nReproduce: FUZZ_SEED=${SEED} npx vitest run test/fuzz/constructors.test.ts`,
      );
    }
    expect(result.numRuns).toBeGreaterThan(0);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("the issue's examples, fixed cases", () => {
  it.each([
    [
      () => lrfree.constant(Number.POSITIVE_INFINITY),
      /constant: eta = Infinity is not allowed; eta must be \(0, inf\)/,
    ],
    [
      () => lrfree.adam(0.1, { weightDecay: Number.POSITIVE_INFINITY }),
      /adam: weightDecay = Infinity is not allowed/,
    ],
    [() => lrfree.sgd(1e39), /constant: eta = 1e\+39 is not allowed; .*float32/],
    [() => lrfree.adam(0.1, { epsilon: -1e39 }), /adam: epsilon = -1e\+39/],
    [
      () => lrfree.momentum(0.1, 0.9, { nesterov: 'false' as never }),
      /momentum: nesterov = "false" .* true or false/,
    ],
    [() => lrfree.prodigy({ decouple: 1 as never }), /prodigy: decouple = 1 .* true or false/],
    [() => lrfree.sgd(0.1, { momentun: 0.9 } as never), /sgd: unknown option 'momentun'; known options are /],
    [() => lrfree.sls({ initStepsize: 1 } as never), /sls: unknown option 'initStepsize'/],
    [
      () => lrfree.sgd(0.1, { schedule: 5 as never }),
      /sgd: schedule = 5 is not allowed; schedule must be a schedule/,
    ],
    [() => lrfree.directions.adam('fast' as never), /adam: options = "fast" is not allowed/],
    // Found by the fuzz (seed 2076125113): an object that is neither a schedule nor a saved one.
    [
      () => lrfree.directions.dadaptSgdDirection({ schedule: {} as never }),
      /schedule = \{\} is not allowed; schedule must be a schedule/,
    ],
    [
      () => lrfree.directions.dadaptSgdDirection({ schedule: { kind: 'cosinus' } as never }),
      /cannot rebuild schedule 'cosinus': it is not registered; kind must be one of .*cosine/,
    ],
    // Found by the fuzz (seed 2139520601): a given bound that collides with another option's default is
    // named, not the default.
    [
      () => lrfree.steps.walk({ etaMin: 1e30 }),
      /walk: etaMin = 1e\+30 is not allowed with the default etaMax = 1000; etaMin must be at most etaMax/,
    ],
    [
      () => lrfree.steps.walk({ etaMin: 1, etaMax: 2 }),
      /walk: eta0 = 0.01 \(the default\) is not allowed; eta0 must be in \[etaMin, etaMax\] = \[1, 2\]/,
    ],
    // Found by the fuzz (seed 993610537): a component's options given as a number inside walk.
    [
      () => lrfree.walk({ ratio: 2, direction: 'adam', adam: 0 as never }),
      /adam: options = 0 is not allowed; options must be an object \(or undefined\) with some of beta1/,
    ],
    // Found by the single-option sweep: a given value shown as the caller wrote it (a string quoted, NaN
    // and +-Infinity not as JSON's null, an object or array as JSON, not [object Object] or nothing).
    [
      () => lrfree.sgd(0.1, { schedule: {} as never }),
      /sgd: schedule = \{\} is not allowed; schedule must be/,
    ],
    [() => lrfree.sgd(0.1, { model: 'x' as never }), /sgd: model = "x" is not allowed; model must be the/],
    [
      () =>
        lrfree.optimizer({
          direction: lrfree.directions.sgd(),
          step: lrfree.constant(0.1),
          name: [] as never,
        }),
      /optimizer: name = \[\] is not allowed; name must be a string/,
    ],
    [
      () => lrfree.prodigy({ schedule: Number.NaN as never }),
      /prodigy: schedule = NaN is not allowed; schedule must be a schedule/,
    ],
    [
      () => lrfree.warmup({ steps: 3, after: Number.POSITIVE_INFINITY as never }),
      /warmup: after = Infinity is not allowed; after must be a schedule/,
    ],
    [
      () => lrfree.prodigy({ betas: Number.NaN as never }),
      /prodigy: betas = NaN is not allowed; give \[beta1/,
    ],
    [
      () => lrfree.sls({ lineSearch: Number.NaN as never }),
      /sls: lineSearch = NaN; use 'armijo' or 'goldstein'/,
    ],
    [
      () => lrfree.salsa({ direction: Number.NEGATIVE_INFINITY as never }),
      /salsa: direction = -Infinity; use/,
    ],
    [() => lrfree.sls({ betaF: 'x' as never }), /sls: betaF = "x" applies only with lineSearch: 'goldstein'/],
    // Found by the single-option sweep: a numeric string reached a cross-option check (weightDecay > 0)
    // before its own check.
    [
      () => lrfree.salsa({ weightDecay: '1' as never }),
      /salsa: weightDecay = "1" is not allowed; weightDecay must be \[0, inf\)/,
    ],
    // Found by the single-option sweep: an option that was accepted (even NaN) and then ignored.
    [
      () => lrfree.walk({ adam: Number.NaN as never }),
      /walk: adam = NaN applies only with direction: 'adam'; give direction: 'adam' too, or leave adam out/,
    ],
    [
      () => lrfree.walk({ adam: { beta1: 0.8 } }),
      /walk: adam = \{"beta1":0.8\} applies only with direction: 'adam'/,
    ],
    [() => lrfree.dog({ layerwise: true } as never), /dog: unknown option 'layerwise'; known options are /],
    [
      () => lrfree.ldog({ layerwise: Number.NaN } as never),
      /ldog: unknown option 'layerwise'; known options are /,
    ],
    [
      () => lrfree.prodigyDirection({ stepsPerEpoch: Number.NaN }),
      /prodigy: stepsPerEpoch = NaN is not allowed; stepsPerEpoch must be an integer in \[1, inf\)/,
    ],
    [
      () => lrfree.scheduleFreeDirection('adamw', { stepsPerEpoch: 'x' as never }),
      /scheduleFreeAdamW: stepsPerEpoch = "x" is not allowed; stepsPerEpoch must be an integer/,
    ],
  ])('%#', (make, message) => {
    expect(make).toThrow(lrfree.LrfreeConfigError);
    expect(make).toThrow(message);
  });

  it('a layerScale that does not fit the model says what it must be (found by the single-option sweep)', () => {
    const opt = lrfree.dadaptAdam({ layerScale: [] });
    const w = tf.variable(tf.ones([2]));
    try {
      expect(() => opt.minimize(() => tf.sum(tf.square(w)) as tf.Scalar, false, [w])).toThrow(
        /dadaptAdam: layerScale = \[\] is not allowed with this model; layerScale must be one number, or one per parameter group: 0 given, the optimizer has 1/,
      );
    } finally {
      opt.dispose();
      w.dispose();
    }
  });

  it('a default derived from another option stays a float32 number', () => {
    // vault's default tMax is 1e4 * lr: capped at float32's largest, not refused, when lr is huge.
    expect(lrfree.steps.vault({ lr: 1e36 }).config.tMax).toBeCloseTo(3.4028234663852886e38, -30);
    expect(lrfree.steps.vault({ lr: 0.01 }).config.tMax).toBe(100);
  });

  it('+Infinity stays allowed where it means "no cap"', () => {
    expect(() => lrfree.prodigy({ growthRate: Number.POSITIVE_INFINITY })).not.toThrow();
    expect(() => lrfree.armijo({ etaMax: Number.POSITIVE_INFINITY })).not.toThrow();
    expect(() => lrfree.polyak({ etaMax: Number.POSITIVE_INFINITY })).not.toThrow();
  });
});
