/**
 * Fuzzes every exported optimizer, preset, direction, step rule and schedule factory (issue #20, item 2):
 * random values of every option (NaN, +-Infinity, 1e39, negative, zero, wrong types, unknown keys) either
 * fail with an LrfreeConfigError that names the parameter, its value and what is allowed, or are valid
 * and then train a few steps without a non-finite weight.
 *
 * Bounded time: a fixed number of runs per factory and a time limit per factory. On failure the message
 * carries the fast-check seed and path; rerun with FUZZ_SEED=<seed> to reproduce.
 */
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { knownOptionKeys } from '../../src/core/validate.js';
import * as lrfree from '../../src/index.js';
import { useBackend } from '../helpers/tf.js';

const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Date.now() % 2 ** 31;
const RUNS = 12;
const MS_PER_FACTORY = 700;
const COMMON = ['seed', 'schedule', 'stepsPerEpoch', 'model'];

beforeAll(async () => {
  await useBackend('cpu');
});

type Built = lrfree.LrfreeOptimizer | lrfree.Direction | lrfree.StepRule | lrfree.Schedule;
interface Factory {
  name: string;
  kind: 'optimizer' | 'direction' | 'method' | 'step' | 'schedule';
  /** Option keys to fuzz ('$eta', '$beta': positional arguments). */
  keys: () => string[];
  build: (o: Record<string, unknown>) => Built;
}

/** The keys a factory's own check declared (validate.ts registry), after one default call. */
const keysOf = (...owners: string[]) => owners.flatMap((w) => [...(knownOptionKeys(w) ?? [])]);
const unique = (a: string[]) => [...new Set(a)];
const opt = (o: Record<string, unknown>) => o as never;

const FACTORIES: Factory[] = [
  // Presets: the common options plus their components' own.
  {
    name: 'sgd',
    kind: 'optimizer',
    keys: () => ['$eta', ...COMMON, 'weightDecay'],
    build: ({ $eta, ...o }) => lrfree.sgd(($eta as number) ?? 0.1, opt(o)),
  },
  {
    name: 'momentum',
    kind: 'optimizer',
    keys: () => ['$eta', '$beta', ...COMMON, 'nesterov', 'weightDecay'],
    build: ({ $eta, $beta, ...o }) => lrfree.momentum(($eta as number) ?? 0.05, $beta as number, opt(o)),
  },
  {
    name: 'adam',
    kind: 'optimizer',
    keys: () => ['$eta', ...COMMON, ...keysOf('adam')],
    build: ({ $eta, ...o }) => lrfree.adam($eta as number, opt(o)),
  },
  {
    name: 'sls',
    kind: 'optimizer',
    keys: () => unique([...COMMON, ...keysOf('armijo'), 'betaF', 'lineSearch', 'weightDecay']),
    build: (o) => lrfree.sls(opt(o)),
  },
  {
    name: 'adamSls',
    kind: 'optimizer',
    keys: () => unique([...COMMON, ...keysOf('armijo', 'adam')]),
    build: (o) => lrfree.adamSls(opt(o)),
  },
  {
    name: 'plasls',
    kind: 'optimizer',
    keys: () => unique([...COMMON, ...keysOf('armijo', 'adam', 'perLayer')]),
    build: (o) => lrfree.plasls(opt(o)),
  },
  {
    name: 'salsa',
    kind: 'optimizer',
    keys: () => unique([...COMMON, ...keysOf('smoothedArmijo', 'adam'), 'direction']),
    build: (o) => lrfree.salsa(opt(o)),
  },
  {
    name: 'sps',
    kind: 'optimizer',
    keys: () => unique([...COMMON, ...keysOf('polyak'), 'weightDecay']),
    build: (o) => lrfree.sps(opt(o)),
  },
  {
    name: 'walk',
    kind: 'optimizer',
    keys: () => unique([...COMMON, ...keysOf('walk'), 'direction', 'adam']),
    build: (o) => lrfree.walk(opt(o)),
  },
  {
    name: 'keepStepping',
    kind: 'optimizer',
    keys: () => unique([...COMMON, ...keysOf('keepStepping')]),
    build: (o) => lrfree.keepStepping(opt(o)),
  },
  {
    name: 'keepVaulting',
    kind: 'optimizer',
    keys: () => unique([...COMMON, ...keysOf('vault')]),
    build: (o) => lrfree.keepVaulting(opt(o)),
  },
  {
    name: 'pal',
    kind: 'optimizer',
    keys: () => unique([...COMMON, ...keysOf('parabolic'), 'beta']),
    build: (o) => lrfree.pal(opt(o)),
  },
  {
    name: 'newton',
    kind: 'optimizer',
    keys: () => unique([...COMMON, ...keysOf('newton'), 'guard']),
    build: (o) => lrfree.newton(opt(o)),
  },
  {
    name: 'prodigy',
    kind: 'optimizer',
    keys: () => unique([...COMMON, ...keysOf('prodigy')]),
    build: (o) => lrfree.prodigy(opt(o)),
  },
  {
    name: 'dadaptAdam',
    kind: 'optimizer',
    keys: () => unique([...COMMON, ...keysOf('dadaptAdam')]),
    build: (o) => lrfree.dadaptAdam(opt(o)),
  },
  {
    name: 'dadaptSgd',
    kind: 'optimizer',
    keys: () => unique([...COMMON, ...keysOf('dadaptSgd')]),
    build: (o) => lrfree.dadaptSgd(opt(o)),
  },
  {
    name: 'dog',
    kind: 'optimizer',
    keys: () => unique([...COMMON, ...keysOf('dog')]),
    build: (o) => lrfree.dog(opt(o)),
  },
  {
    name: 'ldog',
    kind: 'optimizer',
    keys: () => unique([...COMMON, ...keysOf('ldog')]),
    build: (o) => lrfree.ldog(opt(o)),
  },
  {
    name: 'scheduleFreeSgd',
    kind: 'optimizer',
    keys: () => unique([...COMMON, ...keysOf('scheduleFreeSgd')]),
    build: (o) => lrfree.scheduleFreeSgd(opt(o)),
  },
  {
    name: 'scheduleFreeAdamW',
    kind: 'optimizer',
    keys: () => unique([...COMMON, ...keysOf('scheduleFreeAdamW')]),
    build: (o) => lrfree.scheduleFreeAdamW(opt(o)),
  },
  {
    name: 'alraoSgd',
    kind: 'optimizer',
    keys: () => unique([...COMMON, 'minLr', 'maxLr', 'granularity', 'lstmRateSharing']),
    build: (o) => lrfree.alraoSgd(opt(o)),
  },
  {
    name: 'alraoAdam',
    kind: 'optimizer',
    keys: () => unique([...COMMON, 'minLr', 'maxLr', 'granularity', 'lstmRateSharing']),
    build: (o) => lrfree.alraoAdam(opt(o)),
  },
  {
    name: 'optimizer',
    kind: 'optimizer',
    keys: () => ['seed', 'stepsPerEpoch', 'schedule', 'model', 'name'],
    build: (o) =>
      lrfree.optimizer(opt({ direction: lrfree.directions.sgd(), step: lrfree.constant(0.05), ...o })),
  },
  // Directions.
  {
    name: 'directions.sgd',
    kind: 'direction',
    keys: () => keysOf('sgd'),
    build: (o) => lrfree.directions.sgd(opt(o)),
  },
  {
    name: 'directions.momentum',
    kind: 'direction',
    keys: () => keysOf('momentum'),
    build: (o) => lrfree.directions.momentum(opt(o)),
  },
  {
    name: 'directions.adam',
    kind: 'direction',
    keys: () => keysOf('adam'),
    build: (o) => lrfree.directions.adam(opt(o)),
  },
  {
    name: 'directions.newton',
    kind: 'direction',
    keys: () => keysOf('newton'),
    build: (o) => lrfree.directions.newton(opt(o)),
  },
  {
    name: 'prodigyDirection',
    kind: 'method',
    keys: () => keysOf('prodigy'),
    build: (o) => lrfree.prodigyDirection(opt(o)),
  },
  {
    name: 'dadaptAdamDirection',
    kind: 'method',
    keys: () => keysOf('dadaptAdam'),
    build: (o) => lrfree.dadaptAdamDirection(opt(o)),
  },
  {
    name: 'dadaptSgdDirection',
    kind: 'method',
    keys: () => keysOf('dadaptSgd'),
    build: (o) => lrfree.dadaptSgdDirection(opt(o)),
  },
  {
    name: 'dogDirection',
    kind: 'method',
    keys: () => keysOf('ldog'),
    build: (o) => lrfree.dogDirection(opt(o)),
  },
  {
    name: 'scheduleFreeDirection',
    kind: 'method',
    keys: () => keysOf('scheduleFreeAdamW'),
    build: (o) => lrfree.scheduleFreeDirection('adamw', opt(o)),
  },
  // Step rules.
  {
    name: 'constant',
    kind: 'step',
    keys: () => ['$eta'],
    build: ({ $eta }) => lrfree.constant(($eta as number) ?? 0.1),
  },
  {
    name: 'scheduled',
    kind: 'step',
    keys: () => ['$eta'],
    build: ({ $eta }) => lrfree.scheduled(($eta as number) ?? 0.1, lrfree.warmup({ steps: 2 })),
  },
  { name: 'armijo', kind: 'step', keys: () => keysOf('armijo'), build: (o) => lrfree.armijo(opt(o)) },
  {
    name: 'goldstein',
    kind: 'step',
    keys: () => keysOf('goldstein'),
    build: (o) => lrfree.goldstein(opt(o)),
  },
  {
    name: 'perLayer',
    kind: 'step',
    keys: () => keysOf('perLayer'),
    build: (o) => lrfree.perLayer(lrfree.armijo(), opt(o)),
  },
  {
    name: 'smoothedArmijo',
    kind: 'step',
    keys: () => keysOf('smoothedArmijo'),
    build: (o) => lrfree.smoothedArmijo(opt(o)),
  },
  { name: 'polyak', kind: 'step', keys: () => keysOf('polyak'), build: (o) => lrfree.polyak(opt(o)) },
  { name: 'walk (rule)', kind: 'step', keys: () => keysOf('walk'), build: (o) => lrfree.steps.walk(opt(o)) },
  {
    name: 'keepStepping (rule)',
    kind: 'step',
    keys: () => keysOf('keepStepping'),
    build: (o) => lrfree.steps.keepStepping(opt(o)),
  },
  { name: 'vault', kind: 'step', keys: () => keysOf('vault'), build: (o) => lrfree.vault(opt(o)) },
  {
    name: 'parabolic',
    kind: 'step',
    keys: () => keysOf('parabolic'),
    build: (o) => lrfree.parabolic(opt(o)),
  },
  {
    name: 'alraoRates',
    kind: 'step',
    keys: () => keysOf('alraoRates'),
    build: (o) => lrfree.alraoRates(opt(o)),
  },
  // Schedules.
  {
    name: 'warmup',
    kind: 'schedule',
    keys: () => keysOf('warmup'),
    build: (o) => lrfree.warmup(opt({ steps: 3, ...o })),
  },
  {
    name: 'cosine',
    kind: 'schedule',
    keys: () => keysOf('cosine'),
    build: (o) => lrfree.cosine(opt({ totalSteps: 10, ...o })),
  },
  {
    name: 'powerDecay',
    kind: 'schedule',
    keys: () => keysOf('powerDecay'),
    build: (o) => lrfree.powerDecay(opt({ plateauEpochs: 1, ...o })),
  },
  {
    name: 'cyclical',
    kind: 'schedule',
    keys: () => keysOf('cyclical'),
    build: (o) => lrfree.cyclical(opt({ periodEpochs: 2, ...o })),
  },
];

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

function display(v: unknown): string[] {
  if (typeof v === 'string') return [JSON.stringify(v), v];
  if (typeof v === 'number') return [String(v), JSON.stringify(v)];
  return [String(v)];
}

/** Trains 3 steps of a tiny model with the built component; returns true when every weight stays finite. */
function trainsFinitely(kind: Factory['kind'], built: Built): boolean {
  const optimizer =
    kind === 'optimizer'
      ? (built as lrfree.LrfreeOptimizer)
      : kind === 'method'
        ? lrfree.optimizer({ method: built as unknown as lrfree.Method, stepsPerEpoch: 2 })
        : lrfree.optimizer({
            direction: kind === 'direction' ? (built as lrfree.Direction) : lrfree.directions.sgd(),
            step: kind === 'step' ? (built as lrfree.StepRule) : lrfree.constant(0.05),
            schedule: kind === 'schedule' ? (built as lrfree.Schedule) : undefined,
            stepsPerEpoch: 2,
          });
  const w = tf.tidy(() => tf.variable(tf.tensor2d([0.3, -0.2, 0.1, 0.5, -0.4, 0.2], [3, 2])));
  const b = tf.tidy(() => tf.variable(tf.zeros([2])));
  const x = tf.tensor2d([1, 2, -1, 0.5, 0, 1, 2, -1, 0.3, 1, 1, 0], [4, 3]);
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d([0, 1, 1, 0], 'int32'), 2));
  const f = () => tf.losses.softmaxCrossEntropy(y, tf.add(tf.matMul(x, w), b)) as tf.Scalar;
  try {
    for (let s = 0; s < 3; s++) optimizer.minimize(f, false, [w, b]);
    return [w, b].every((v) => v.dataSync().every(Number.isFinite));
  } catch (e) {
    // An error at the first step is acceptable only when it is a clear configuration error.
    if (e instanceof lrfree.LrfreeConfigError) return true;
    throw e;
  } finally {
    optimizer.dispose();
    tf.dispose([w, b, x, y]);
  }
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
          if (!(e instanceof lrfree.LrfreeConfigError)) {
            throw new Error(`not an LrfreeConfigError: ${(e as Error)?.stack ?? e}`);
          }
          const msg = e.message;
          if (/unknown option '([^']+)'; known options are \w/.test(msg)) return true;
          // Names a parameter that was given, with its value (primitive values) and what is allowed.
          const named = Object.entries(options).filter(([k]) => msg.includes(k.replace('$', '')));
          const withValue = named.filter(
            ([, v]) => typeof v === 'object' || display(v).some((d) => msg.includes(d)),
          );
          if (withValue.length === 0)
            throw new Error(`the error names no given parameter with its value: ${msg}`);
          if (
            !/must be|use one of|\buse |give |greater than|at least|at most|less than|only with|applies only|needs/.test(
              msg,
            )
          ) {
            throw new Error(`the error does not say what is allowed: ${msg}`);
          }
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
  ])('%#', (make, message) => {
    expect(make).toThrow(lrfree.LrfreeConfigError);
    expect(make).toThrow(message);
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
