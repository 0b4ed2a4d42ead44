/**
 * Every preset has one list of option keys, equal to the keys of its options type (written out below from
 * the types, so a type change without a runtime change fails): knownOptionKeys(name) returns it after one
 * default build, an unknown key is refused naming exactly it, and `transforms` (a common option) takes
 * effect.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { knownOptionKeys } from '../src/core/validate.js';
import * as lrfree from '../src/index.js';

const COMMON = ['transforms', 'schedule', 'seed', 'stepsPerEpoch', 'model'];
const SEARCH = [
  'initStepSize',
  'c',
  'betaB',
  'gamma',
  'resetOption',
  'nBatchesPerEpoch',
  'etaMax',
  'maxBacktracks',
  'weightDecay',
];
const ADAM_VOCABULARY = ['beta1', 'beta2', 'epsilon'];
const SF_COMMON = ['lr', 'weightDecay', 'warmupSteps', 'r', 'weightLrPower'];
const RATES = ['minLr', 'maxLr', 'granularity', 'lstmRateSharing'];

type Build = (o: Record<string, unknown>) => lrfree.LrfreeOptimizer;
const o = (x: Record<string, unknown>) => x as never;

/** name, its type's keys besides COMMON, and a build. */
const PRESETS: [string, string[], Build][] = [
  ['sgd', ['weightDecay'], (x) => lrfree.sgd(0.1, o(x))],
  ['momentum', ['nesterov', 'weightDecay'], (x) => lrfree.momentum(0.05, 0.9, o(x))],
  ['adam', ['beta1', 'beta2', 'epsilon', 'weightDecay'], (x) => lrfree.adam(0.001, o(x))],
  ['sls', [...SEARCH, 'betaF', 'lineSearch'], (x) => lrfree.sls(o(x))],
  ['adamSls', [...SEARCH, ...ADAM_VOCABULARY], (x) => lrfree.adamSls(o(x))],
  [
    'plasls',
    [...SEARCH, ...ADAM_VOCABULARY, 'strategy', 'jointSteps', 'plaslsVariant'],
    (x) => lrfree.plasls(o(x)),
  ],
  [
    'salsa',
    [
      'direction',
      'initStepSize',
      'c',
      'beta',
      'beta1',
      'beta2',
      'epsilon',
      'growth',
      'shrink',
      'speedUp',
      'mode',
      'maxBacktracks',
      'useMomentumInSearch',
      'weightDecay',
    ],
    (x) => lrfree.salsa(o(x)),
  ],
  [
    'sps',
    ['c', 'fStar', 'variant', 'etaMax', 'gamma', 'nBatchesPerEpoch', 'initStepSize', 'eps', 'weightDecay'],
    (x) => lrfree.sps(o(x)),
  ],
  [
    'walk',
    [
      'eta0',
      'ratio',
      'halfWidth',
      'walkEvery',
      'etaMin',
      'etaMax',
      'includeZero',
      'refine',
      'along',
      'direction',
      'adam',
    ],
    (x) => lrfree.walk(o(x)),
  ],
  [
    'keepStepping',
    ['lr', 'maxSteps', 'scaleI', 'maxStepMultiplier', 'originalBugs', 'along'],
    (x) => lrfree.keepStepping(o(x)),
  ],
  [
    'keepVaulting',
    ['lr', 'maxSteps', 'tMax', 'revertIfWorse', 'originalFormula'],
    (x) => lrfree.keepVaulting(o(x)),
  ],
  ['pal', ['mu', 'sMax', 'alpha', 'along', 'beta'], (x) => lrfree.pal(o(x))],
  [
    'newton',
    [
      'damping',
      'adaptive',
      'lmTrials',
      'hvp',
      'solver',
      'maxDenseParams',
      'maxParams',
      'cgIterations',
      'cgTolerance',
      'fdScale',
      'guard',
    ],
    (x) => lrfree.newton(o(x)),
  ],
  [
    'prodigy',
    [
      'lr',
      'betas',
      'beta3',
      'eps',
      'weightDecay',
      'decouple',
      'useBiasCorrection',
      'safeguardWarmup',
      'd0',
      'dCoef',
      'growthRate',
      ...ADAM_VOCABULARY,
    ],
    (x) => lrfree.prodigy(o(x)),
  ],
  [
    'dadaptAdam',
    [
      'lr',
      'betas',
      'eps',
      'weightDecay',
      'decouple',
      'useBiasCorrection',
      'd0',
      'growthRate',
      'layerScale',
      ...ADAM_VOCABULARY,
    ],
    (x) => lrfree.dadaptAdam(o(x)),
  ],
  ['dadaptSgd', ['lr', 'momentum', 'weightDecay', 'd0', 'growthRate'], (x) => lrfree.dadaptSgd(o(x))],
  ['dog', ['repsRel', 'lr', 'weightDecay', 'eps', 'initEta', 'average'], (x) => lrfree.dog(o(x))],
  ['ldog', ['repsRel', 'lr', 'weightDecay', 'eps', 'initEta', 'average'], (x) => lrfree.ldog(o(x))],
  ['scheduleFreeSgd', [...SF_COMMON, 'momentum'], (x) => lrfree.scheduleFreeSgd(o(x))],
  [
    'scheduleFreeAdamW',
    [...SF_COMMON, 'betas', 'eps', 'decayAtZ', ...ADAM_VOCABULARY],
    (x) => lrfree.scheduleFreeAdamW(o(x)),
  ],
  [
    'prodigyScheduleFree',
    [
      'lr',
      'betas',
      'beta3',
      'weightDecay',
      'weightDecayByLr',
      'd0',
      'dCoef',
      'dLimiter',
      'prodigySteps',
      'schedulefreeC',
      'eps',
      'factored',
      'useBiasCorrection',
      'useStableAdamW',
    ],
    (x) => lrfree.prodigyScheduleFree(o(x)),
  ],
  [
    'scheduleFreePlus',
    [
      'lr',
      'betas',
      'sfBeta1',
      'eps',
      'weightDecay',
      'r',
      'weightLrPower',
      'polyakBeta',
      'cWarmup',
      'sfBeta1AnnealSteps',
      'sfBeta1Max',
    ],
    (x) => lrfree.scheduleFreePlus(o(x)),
  ],
  ['alraoSgd', [...RATES, 'momentum', 'clipNorm'], (x) => lrfree.alraoSgd(o(x))],
  ['alraoAdam', RATES, (x) => lrfree.alraoAdam(o(x))],
  ['auto', ['weightDecay', 'probeEvery', 'beta', 'totalSteps', 'clip'], (x) => lrfree.auto(o(x))],
];

const sorted = (a: readonly string[]) => [...new Set(a)].sort();

describe('preset option keys', () => {
  it.each(PRESETS)(
    '%s: knownOptionKeys equals its type keys; a typo names exactly them',
    (name, own, build) => {
      build({}).dispose();
      const expected = sorted([...own, ...COMMON]);
      expect(sorted(knownOptionKeys(name) ?? [])).toEqual(expected);
      let message = '';
      try {
        build({ notAnOption: 1 }).dispose();
      } catch (e) {
        expect(e).toBeInstanceOf(lrfree.LrfreeConfigError);
        message = (e as Error).message;
      }
      const m = /^(\w+): unknown option 'notAnOption'; known options are (.*)\.$/.exec(message);
      expect(m, message).not.toBeNull();
      expect(m?.[1]).toBe(name);
      expect(sorted(m?.[2].split(', ') ?? [])).toEqual(expected);
      expect(m?.[2].split(', ').length).toBe(expected.length);
    },
  );

  it.each([
    ['adam', 'direction', (x: Record<string, unknown>) => lrfree.adam(0.001, o(x))],
    ['sgd', 'step', (x: Record<string, unknown>) => lrfree.sgd(0.1, o(x))],
    ['sls', 'name', (x: Record<string, unknown>) => lrfree.sls(o(x))],
    ['prodigy', 'method', (x: Record<string, unknown>) => lrfree.prodigy(o(x))],
    ['dog', 'layerwise', (x: Record<string, unknown>) => lrfree.dog(o(x))],
  ] as const)('%s refuses %s, which it decides itself, as unknown', (name, key, build) => {
    expect(() => build({ [key]: lrfree.directions.sgd() })).toThrow(
      new RegExp(`^${name}: unknown option '${key}'; known options are `),
    );
  });
});

/** Two steps on a tiny least-squares problem with a large gradient; the weights after. */
function weightsAfter(opt: lrfree.LrfreeOptimizer): number[] {
  const w = tf.variable(tf.tensor1d([3, -2, 1]));
  const x = tf.tensor2d([1, 2, -1, 0.5, 0, 1, 2, -1, 0.3], [3, 3]);
  const y = tf.tensor1d([10, -4, 7]);
  const f = () => tf.losses.meanSquaredError(y, tf.squeeze(tf.matMul(x, tf.expandDims(w, 1)))) as tf.Scalar;
  try {
    for (let s = 0; s < 2; s++) opt.minimize(f, false, [w]);
    return Array.from(w.dataSync());
  } finally {
    opt.dispose();
    tf.dispose([w, x, y]);
  }
}

describe('transforms reach every preset', () => {
  // Clipping alone leaves the scale-invariant methods (Prodigy, D-Adapt) unchanged; the decay moves them.
  const clip = () =>
    lrfree.transforms.chain(
      lrfree.transforms.clipByGlobalNorm(1e-3),
      lrfree.transforms.decoupledWeightDecay({ rate: 0.1, mask: 'all' }),
    );
  it.each(PRESETS.filter(([name]) => name !== 'alraoSgd' && name !== 'alraoAdam'))(
    '%s: transforms change the update',
    (name, _own, build) => {
      const plain = weightsAfter(build({ seed: 1 }));
      const clipped = weightsAfter(build({ seed: 1, transforms: clip() }));
      expect(plain.every(Number.isFinite) && clipped.every(Number.isFinite), name).toBe(true);
      expect(clipped, name).not.toEqual(plain);
    },
  );

  it('alraoSgd / alraoAdam: transforms change the update', () => {
    for (const build of [lrfree.alraoSgd, lrfree.alraoAdam]) {
      const plain = weightsAfter(build({ seed: 1 }));
      const clipped = weightsAfter(build({ seed: 1, transforms: clip() }));
      expect(clipped).not.toEqual(plain);
    }
  });

  it('adam with transforms equals the low-level optimizer built with the same transform', () => {
    const preset = weightsAfter(lrfree.adam(0.01, { transforms: clip() }));
    const low = weightsAfter(
      lrfree.optimizer({
        transforms: clip(),
        direction: lrfree.directions.adam({ epsilon: 1e-7 }),
        step: lrfree.steps.constant(0.01),
      }),
    );
    expect(preset).toEqual(low);
  });

  it('walk with transforms equals the low-level optimizer built with the same transform', () => {
    const preset = weightsAfter(lrfree.walk({ transforms: clip() }));
    const low = weightsAfter(
      lrfree.optimizer({ transforms: clip(), direction: lrfree.directions.sgd(), step: lrfree.steps.walk() }),
    );
    expect(preset).toEqual(low);
  });
});
