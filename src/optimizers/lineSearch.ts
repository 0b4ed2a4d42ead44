/**
 * The stochastic line-search family as presets with the reference defaults (ALGORITHMS.md §1-§4):
 * `sls` (SGD + Armijo or Goldstein), `adamSls` (Adam + Armijo), `plasls` (Adam + per-layer Armijo),
 * `salsa` (Adam or SGD + smoothed Armijo) and `sps` (SGD + stochastic Polyak step).
 */
import { LrfreeOptimizer } from '../core/optimizer.js';
import { checkKnownKeys, checkNumber, LrfreeConfigError, showValue } from '../core/validate.js';
import { adam as adamDirection } from '../directions/adam.js';
import { sgd as sgdDirection } from '../directions/sgd.js';
import { armijo } from '../steps/armijo.js';
import { goldstein } from '../steps/goldstein.js';
import type { ResetOption } from '../steps/lineSearchCommon.js';
import { type PerLayerOptions, perLayer } from '../steps/perLayer.js';
import { type PolyakVariant, polyak } from '../steps/polyak.js';
import { smoothedArmijo } from '../steps/smoothedArmijo.js';
import { type CommonOptions, presetKeys, withDecay } from './baselines.js';
import type { CatalogEntry } from './catalogEntry.js';

/** Options shared by the Armijo-type presets; names mirror the reference `Sls` class. */
export interface SlsOptions extends CommonOptions {
  /** First trial step size. Default 1 (sls), 0.1 (adamSls, plasls). */
  initStepSize?: number;
  /** Armijo constant. Default 0.1 (sls), 0.2 (adamSls, plasls). */
  c?: number;
  /** Backtracking factor. Default 0.9. */
  betaB?: number;
  /** Growth base of reset option 1. Default 2. */
  gamma?: number;
  /** Goldstein growth factor (lineSearch `goldstein` only). Default 2. */
  betaF?: number;
  /** Reset option 0-3 or `doubleEvery` (ALGORITHMS.md §1.3). Default 1. */
  resetOption?: ResetOption;
  /** n of the reset rule. Default: `stepsPerEpoch` when given, else 500 (set one of them!). */
  nBatchesPerEpoch?: number;
  /** Cap on the trial step size. Default Infinity for Armijo, 10 for Goldstein (the reference). */
  etaMax?: number;
  /** Trial forwards per step at most. Default 100. */
  maxBacktracks?: number;
  /** `armijo` (default) or `goldstein` (sls only). */
  lineSearch?: 'armijo' | 'goldstein';
  /**
   * Decoupled weight decay, d <- d + weightDecay*w on every variable, through the one
   * `transforms.decoupledWeightDecay` (mask 'all'): the line search probes along the decayed direction, the
   * loss it tests has no L2 term. Default 0.
   */
  weightDecay?: number;
}

/** Options of {@link adamSls} and {@link plasls}. */
export interface AdamSlsOptions extends Omit<SlsOptions, 'lineSearch' | 'betaF'> {
  /** Momentum of the committed step. Default 0.9. */
  beta1?: number;
  /** Second-moment decay. Default 0.999. */
  beta2?: number;
  /** Added to sqrt(v-hat). Default 1e-8 (the references). */
  epsilon?: number;
}

/** Armijo's options the sls presets take (not commitAlong: each preset fixes what it commits along). */
const SEARCH_KEYS = [
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
const SLS_KEYS = presetKeys('sls', [...SEARCH_KEYS, 'betaF', 'lineSearch']);
const ADAM_SLS_KEYS = presetKeys('adamSls', [...SEARCH_KEYS, 'beta1', 'beta2', 'epsilon']);
const PLASLS_KEYS = presetKeys('plasls', [
  ...SEARCH_KEYS,
  'beta1',
  'beta2',
  'epsilon',
  'strategy',
  'jointSteps',
  'plaslsVariant',
]);
const SALSA_KEYS = presetKeys('salsa', [
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
]);
const SPS_KEYS = presetKeys('sps', [
  'c',
  'fStar',
  'variant',
  'etaMax',
  'gamma',
  'nBatchesPerEpoch',
  'initStepSize',
  'eps',
  'weightDecay',
]);

function split<T extends SlsOptions>(o: T) {
  const {
    initStepSize,
    c,
    betaB,
    gamma,
    betaF,
    resetOption,
    nBatchesPerEpoch,
    etaMax,
    maxBacktracks,
    lineSearch,
    weightDecay,
    ...rest
  } = o;
  const search = { initStepSize, c, betaB, gamma, resetOption, nBatchesPerEpoch, etaMax, maxBacktracks };
  return { search, betaF, lineSearch, weightDecay, rest };
}

/**
 * SLS: SGD with a stochastic Armijo (or Goldstein) line search on each mini-batch (Vaswani et al. 2019,
 * reference `IssamLaradji/sls`). Each step starts from eta_{k-1} * gamma^(1/n) and backtracks
 * eta <- betaB*eta until f_B(w - eta*g) <= f_B(w) - c*eta*||g||^2. Defaults: initStepSize 1, c 0.1,
 * betaB 0.9, gamma 2, resetOption 1, nBatchesPerEpoch = stepsPerEpoch (else 500), maxBacktracks 100.
 * Cost per step: 1 forward/backward + (1 + backtracks) forwards. `lastStep.eta` is the accepted step.
 *
 * @example
 * ```ts
 * const opt = lrfree.sls({ stepsPerEpoch: Math.ceil(60000 / 128) });
 * model.compile({ optimizer: opt, loss: 'categoricalCrossentropy' });
 * await model.fit(x, y, { batchSize: 128, epochs: 5 });
 * ```
 */
export function sls(options: SlsOptions = {}): LrfreeOptimizer {
  checkKnownKeys('sls', options, SLS_KEYS);
  const { search, betaF, lineSearch, weightDecay, rest } = split(options);
  const step =
    (lineSearch ?? 'armijo') === 'goldstein'
      ? goldstein({ ...search, betaF })
      : (() => {
          if (betaF !== undefined)
            throw new LrfreeConfigError(
              `sls: betaF = ${showValue(betaF)} applies only with lineSearch: 'goldstein'; leave it out for armijo.`,
            );
          if (lineSearch !== undefined && lineSearch !== 'armijo') {
            throw new LrfreeConfigError(
              `sls: lineSearch = ${showValue(lineSearch)}; use 'armijo' or 'goldstein'.`,
            );
          }
          return armijo(search);
        })();
  return new LrfreeOptimizer({
    ...withDecay('sls', rest, weightDecay),
    direction: sgdDirection(),
    step,
    name: 'sls',
  });
}

function adamParts(who: string, options: AdamSlsOptions) {
  const { beta1, beta2, epsilon, ...others } = options;
  const { search, weightDecay, rest } = split(others);
  const direction = adamDirection({ beta1, beta2, epsilon: epsilon ?? 1e-8 });
  const searchOptions = { ...search, initStepSize: search.initStepSize ?? 0.1, c: search.c ?? 0.2 };
  return { direction, searchOptions, rest: withDecay(who, rest, weightDecay) };
}

/**
 * AdamSLS: Armijo line search along the preconditioned gradient P*g with s = g'Pg, then the Adam momentum
 * step P*m-hat at the accepted eta (Kenneweg et al. 2023 `AdamSLS`; Vaswani et al. 2020 `ada_sls`;
 * trap T5). Defaults (Kenneweg's class): initStepSize 0.1, c 0.2, beta1 0.9, beta2 0.999, epsilon 1e-8,
 * betaB 0.9, gamma 2, resetOption 1, maxBacktracks 100. Cost: as sls.
 *
 * @example
 * ```ts
 * const opt = lrfree.adamSls({ stepsPerEpoch: 469 });
 * ```
 */
export function adamSls(options: AdamSlsOptions = {}): LrfreeOptimizer {
  checkKnownKeys('adamSls', options, ADAM_SLS_KEYS);
  const { direction, searchOptions, rest } = adamParts('adamSls', options);
  return new LrfreeOptimizer({ ...rest, direction, step: armijo(searchOptions), name: 'adamSls' });
}

/**
 * PLASLS: AdamSLS with one step size per layer (Kenneweg et al. 2023). After `jointSteps` joint searches,
 * one layer per step (round robin) is searched with the other layers held fixed; every layer takes its
 * own momentum step. Pass `model` (or let model.fit attach variables named by layer) for layer groups.
 * Defaults: those of adamSls plus strategy `cycle`, jointSteps 6 and `plaslsVariant: 'newer'`
 * (`'paper'`: the reference's paper version, jointSteps 1; see {@link perLayer}). `lastStep.eta` is per layer.
 *
 * @example
 * ```ts
 * const opt = lrfree.plasls({ model, stepsPerEpoch: 469 });
 * ```
 */
export function plasls(options: AdamSlsOptions & PerLayerOptions = {}): LrfreeOptimizer {
  checkKnownKeys('plasls', options, PLASLS_KEYS);
  const { strategy, jointSteps, plaslsVariant, ...others } = options;
  const { direction, searchOptions, rest } = adamParts('plasls', others);
  const step = perLayer(armijo(searchOptions), { strategy, jointSteps, plaslsVariant });
  return new LrfreeOptimizer({ ...rest, direction, step, name: 'plasls' });
}

/** Options of {@link salsa}. */
export interface SalsaOptions extends CommonOptions {
  /** `adam` (default, the reference) or `sgd`. */
  direction?: 'adam' | 'sgd';
  /** Default 1. */
  initStepSize?: number;
  /** Default 0.5. */
  c?: number;
  /** Smoothing factor (the reference's beta3). Default 0.9. */
  beta?: number;
  /** Adam momentum. Default 0.9. */
  beta1?: number;
  /** Adam second-moment decay. Default 0.999. */
  beta2?: number;
  /** Adam epsilon. Default 1e-8. */
  epsilon?: number;
  /** Default 1.1. */
  growth?: number;
  /** Default 0.8. */
  shrink?: number;
  /** Default true. */
  speedUp?: boolean;
  /** `backtrack` (default) or `noBacktrack` (the slides' variant). */
  mode?: 'backtrack' | 'noBacktrack';
  /** Default 100. */
  maxBacktracks?: number;
  /** Default false. */
  useMomentumInSearch?: boolean;
  /**
   * Decoupled weight decay in the direction (inside the searched direction too). Default 0. With the Adam
   * direction it requires `useMomentumInSearch: true`.
   */
  weightDecay?: number;
}

/**
 * SaLSa: Adam (or SGD) with the smoothed Armijo line search and its amortised cadence (Kenneweg et al.
 * 2024, reference `SaLSA` class). Defaults: initStepSize 1, c 0.5, beta 0.9, growth 1.1, shrink 0.8,
 * speedUp true, Adam betas 0.9/0.999, epsilon 1e-8. Cost: 1 forward/backward per step plus the trials of
 * the searched steps (every step for the first 9, then as rarely as 1 in 10).
 *
 * @example
 * ```ts
 * const opt = lrfree.salsa();                       // Adam direction
 * const plain = lrfree.salsa({ direction: 'sgd' }); // SGD direction
 * ```
 */
export function salsa(options: SalsaOptions = {}): LrfreeOptimizer {
  checkKnownKeys('salsa', options, SALSA_KEYS);
  const {
    direction,
    beta1,
    beta2,
    epsilon,
    weightDecay,
    initStepSize,
    c,
    beta,
    growth,
    shrink,
    speedUp,
    mode,
    maxBacktracks,
    useMomentumInSearch,
    ...rest
  } = options;
  const kind = direction ?? 'adam';
  if (kind !== 'adam' && kind !== 'sgd') {
    throw new LrfreeConfigError(`salsa: direction = ${showValue(direction)}; use 'adam' or 'sgd'.`);
  }
  // Checked before the cross-option check below, which would compare a string such as "1" as a number.
  if (weightDecay !== undefined) checkNumber('salsa', 'weightDecay', weightDecay, { min: 0 });
  if (kind === 'adam' && (weightDecay ?? 0) > 0 && !useMomentumInSearch) {
    // Searched steps end at w - eta*P*g, which carries no decay term: decay would act on cheap steps only.
    throw new LrfreeConfigError(
      `salsa: weightDecay = ${showValue(weightDecay)} with the Adam direction needs useMomentumInSearch: true ` +
        '(searched steps otherwise end at the no-momentum point w - eta*P*g, which has no decay term).',
    );
  }
  const dir = kind === 'adam' ? adamDirection({ beta1, beta2, epsilon: epsilon ?? 1e-8 }) : sgdDirection();
  const step = smoothedArmijo({
    initStepSize,
    c,
    beta,
    growth,
    shrink,
    speedUp,
    mode,
    maxBacktracks,
    useMomentumInSearch,
  });
  return new LrfreeOptimizer({
    ...withDecay('salsa', rest, weightDecay),
    direction: dir,
    step,
    name: 'salsa',
  });
}

/** Options of {@link sps}. */
export interface SpsOptions extends CommonOptions {
  /** Default 0.5 (reference class; the deep-learning experiments used 0.2). */
  c?: number;
  /** Default 0. */
  fStar?: number;
  /** Default `smooth` (the reference's `smooth_iter`). */
  variant?: PolyakVariant;
  /** Default Infinity. */
  etaMax?: number;
  /** Default 2. */
  gamma?: number;
  /** Default: stepsPerEpoch, else 500. */
  nBatchesPerEpoch?: number;
  /** Default 1. */
  initStepSize?: number;
  /** Default 1e-8. */
  eps?: number;
  /**
   * Decoupled weight decay through `transforms.decoupledWeightDecay` (mask 'all'), kept out of the Polyak
   * numerator (trap T11). Default 0.
   */
  weightDecay?: number;
}

/**
 * SPS: SGD with the stochastic Polyak step eta = (f_B(w) - f*) / (c*||g||^2), bounded (Loizou et al.
 * 2021, reference `IssamLaradji/sps`). Defaults: c 0.5, fStar 0, variant `smooth` (eta may at most double
 * per epoch), initStepSize 1, eps 1e-8. Cost: 1 forward/backward per step, no extra forward.
 *
 * @example
 * ```ts
 * const opt = lrfree.sps({ c: 0.2, stepsPerEpoch: 469 });
 * ```
 */
export function sps(options: SpsOptions = {}): LrfreeOptimizer {
  checkKnownKeys('sps', options, SPS_KEYS);
  const { c, fStar, variant, etaMax, gamma, nBatchesPerEpoch, initStepSize, eps, weightDecay, ...rest } =
    options;
  const step = polyak({ c, fStar, variant, etaMax, gamma, nBatchesPerEpoch, initStepSize, eps });
  return new LrfreeOptimizer({
    ...withDecay('sps', rest, weightDecay),
    direction: sgdDirection(),
    step,
    name: 'sps',
  });
}

/** Catalog entries: each preset at its defaults, with n of the reset rules = the run's steps per epoch. */
export const CATALOG: CatalogEntry[] = [
  {
    name: 'sls',
    description: 'SGD + stochastic Armijo line search (Vaswani et al. 2019), reference defaults',
    family: 'line-search',
    make: ({ seed, stepsPerEpoch, startEta }) => sls({ seed, stepsPerEpoch, initStepSize: startEta }),
    startEta: true,
  },
  {
    name: 'adamSls',
    description: 'Adam + Armijo line search along P*g, momentum step at the accepted eta',
    family: 'line-search',
    make: ({ seed, stepsPerEpoch, startEta }) => adamSls({ seed, stepsPerEpoch, initStepSize: startEta }),
    startEta: true,
  },
  {
    name: 'plasls',
    description: 'AdamSLS with one step size per layer, one layer searched per step (round robin)',
    family: 'line-search',
    make: ({ seed, stepsPerEpoch }) => plasls({ seed, stepsPerEpoch }),
  },
  {
    name: 'salsa',
    description: 'Adam + smoothed Armijo line search, searched about 1 step in 10 (SaLSa)',
    family: 'line-search',
    make: ({ seed, stepsPerEpoch }) => salsa({ seed, stepsPerEpoch }),
  },
  {
    name: 'sps',
    description: 'SGD + stochastic Polyak step, smoothed bound (SPS, f* = 0)',
    family: 'line-search',
    make: ({ seed, stepsPerEpoch }) => sps({ seed, stepsPerEpoch }),
  },
];
