/**
 * Alrao presets in the composed shape: per-feature random rates (alraoRates) under the SGD or the Adam
 * direction. They change the optimizer only; the full method (classifier copies + switch) is `wrap`.
 */
import { LrfreeOptimizer } from '../core/optimizer.js';
import { checkKnownKeys, checkNumber } from '../core/validate.js';
import { adam as adamDirection } from '../directions/adam.js';
import { sgd as sgdDirection } from '../directions/sgd.js';
import { type CommonOptions, presetKeys } from '../optimizers/baselines.js';
import type { CatalogEntry } from '../optimizers/catalogEntry.js';
import { constant } from '../steps/constant.js';
import { type AlraoRatesOptions, alraoMomentum, alraoRates } from './rates.js';

/** Options of {@link alraoSgd} and {@link alraoAdam}: the rate options plus seed, schedule, model. */
export type AlraoPresetOptions = CommonOptions & Omit<AlraoRatesOptions, 'seed'>;

/** Options of {@link alraoSgd}: those of the presets plus the reference momentum and clipping. */
export type AlraoSgdOptions = AlraoPresetOptions & {
  /** Reference pre-classifier momentum mu (ALGORITHMS.md §5.3, see `alraoMomentum`). Default 0. */
  momentum?: number;
  /** Clip the gradient's global norm to this before the step (the reference RNN script: 0.25). Default 0 (off). */
  clipNorm?: number;
};

const RATE_KEYS = ['minLr', 'maxLr', 'granularity', 'lstmRateSharing'];
/** The presets' keys: the rates' (seed is the common one), alraoSgd's momentum and clipNorm, the common ones. */
const ALRAO_SGD_KEYS = presetKeys('alraoSgd', [...RATE_KEYS, 'momentum', 'clipNorm']);
const ALRAO_ADAM_KEYS = presetKeys('alraoAdam', RATE_KEYS);

function build(
  name: string,
  direction: ReturnType<typeof sgdDirection>,
  defaults: { minLr: number; maxLr: number },
  options: AlraoPresetOptions,
): LrfreeOptimizer {
  const { minLr, maxLr, granularity, lstmRateSharing, ...common } = options;
  return new LrfreeOptimizer({
    ...common,
    direction,
    // One seed drives the optimizer and the draw of the rates.
    step: alraoRates({
      minLr: minLr ?? defaults.minLr,
      maxLr: maxLr ?? defaults.maxLr,
      seed: common.seed ?? 0,
      granularity,
      lstmRateSharing,
    }),
    name,
  });
}

/**
 * Alrao-SGD (optimizer part): w_f <- w_f - eta_f * g_f with one rate per feature drawn once,
 * log-uniform in [minLr, maxLr] (default [1e-5, 10], the paper's CIFAR-10 range). Cost: that of SGD.
 * `momentum` / `clipNorm` switch to the reference pre-classifier optimizer (`alraoMomentum` under
 * `constant(1)`, the same rates): buf <- (1 - mu*min(sqrt(eta_f), 1/mu))*buf + g, w_f <- w_f - eta_f*buf.
 * Pass `model` so that layer kinds (LSTM gates, depthwise channels) are known. The paper's method also
 * replaces the last layer by averaged copies: use `lrfree.alrao.wrap` for that.
 *
 * @example
 * ```ts
 * model.compile({ optimizer: lrfree.alraoSgd({ model, seed: 1 }), loss: 'categoricalCrossentropy' });
 * ```
 */
export function alraoSgd(options: AlraoSgdOptions = {}): LrfreeOptimizer {
  checkKnownKeys('alraoSgd', options, ALRAO_SGD_KEYS);
  const { momentum, clipNorm, ...rest } = options;
  // Checked here: a NaN would otherwise pick the plain path below (it is falsy) and be ignored.
  if (momentum !== undefined)
    checkNumber('alraoSgd', 'momentum', momentum, { min: 0, max: 1, maxExclusive: true });
  if (clipNorm !== undefined) checkNumber('alraoSgd', 'clipNorm', clipNorm, { min: 0 });
  if (!momentum && !clipNorm) return build('alraoSgd', sgdDirection(), { minLr: 1e-5, maxLr: 10 }, rest);
  // The reference momentum needs the rates inside the direction: the direction carries them (same draw).
  const { minLr, maxLr, granularity, lstmRateSharing, ...common } = rest;
  return new LrfreeOptimizer({
    ...common,
    direction: alraoMomentum({
      minLr: minLr ?? 1e-5,
      maxLr: maxLr ?? 10,
      seed: common.seed ?? 0,
      granularity,
      lstmRateSharing,
      momentum,
      clipNorm,
    }),
    step: constant(1),
    name: 'alraoSgd',
  });
}

/**
 * Alrao-Adam (optimizer part, experimental: the paper finds its test loss unreliable): Adam's update
 * times one rate per feature, log-uniform in [minLr, maxLr] (default [1e-5, 1e-1], centred in log scale
 * on Adam's usual 1e-3). Cost: that of Adam.
 *
 * @example
 * ```ts
 * const opt = lrfree.alraoAdam({ model, seed: 1 });
 * ```
 */
export function alraoAdam(options: AlraoPresetOptions = {}): LrfreeOptimizer {
  checkKnownKeys('alraoAdam', options, ALRAO_ADAM_KEYS);
  return build('alraoAdam', adamDirection(), { minLr: 1e-5, maxLr: 1e-1 }, options);
}

/**
 * Catalog entries. The catalog gives no model, so layer kinds are unknown: every tensor gets one rate
 * per index of its feature axis (last axis; Conv2DTranspose from its variable name), kernel and bias of
 * a layer sharing them. This is exact for Dense, Conv, Embedding and normalisation layers; recurrent
 * layers get per-gate-column rates instead of per-unit ones.
 */
export const CATALOG: CatalogEntry[] = [
  {
    name: 'alraoSgd',
    description:
      'Alrao-SGD rates: one random rate per feature, log-uniform in [1e-5, 10] (no classifier copies)',
    family: 'alrao',
    make: ({ seed }) => alraoSgd({ seed }),
  },
  {
    name: 'alraoAdam',
    description: 'Alrao-Adam rates: Adam with one random rate per feature in [1e-5, 0.1] (experimental)',
    family: 'alrao',
    make: ({ seed }) => alraoAdam({ seed }),
  },
];
