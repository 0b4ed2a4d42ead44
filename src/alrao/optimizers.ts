/**
 * The two optimizers of an Alrao model: the pre-classifier's (one random rate per feature) and the heads'
 * (head j at its log-spaced rate eta_j). Plain Alrao-SGD by default; with `momentum` or `clipNorm`, the
 * reference code's optimizers (ALGORITHMS.md §5.3).
 */
import type * as tf from '@tensorflow/tfjs';
import { LrfreeOptimizer } from '../core/optimizer.js';
import type { Direction } from '../core/types.js';
import { momentum as momentumDirection } from '../directions/momentum.js';
import { constant } from '../steps/constant.js';
import { alraoHeadRates } from './heads.js';
import type { ResolvedWrapOptions } from './options.js';
import { alraoMomentum, alraoRates } from './rates.js';

/** Builds the pre-classifier's and the heads' optimizers from wrap's resolved options. */
export function alraoOptimizers(
  preClassifier: tf.LayersModel,
  direction: Direction,
  o: ResolvedWrapOptions,
): { preOpt: LrfreeOptimizer; headOpt: LrfreeOptimizer } {
  const rates = {
    minLr: o.minLr,
    maxLr: o.maxLr,
    seed: o.seed,
    granularity: o.granularity,
    lstmRateSharing: o.lstmRateSharing,
  };
  const reference = o.momentum > 0 || o.clipNorm > 0;
  // The reference momentum decays each feature's buffer by its own rate, so the direction carries the
  // rates (drawn exactly as alraoRates draws them) and the step is 1.
  const preOpt = new LrfreeOptimizer({
    direction: reference
      ? alraoMomentum({ ...rates, momentum: o.momentum, clipNorm: o.clipNorm })
      : direction,
    step: reference ? constant(1) : alraoRates(rates),
    seed: o.seed,
    model: preClassifier,
    name: 'alraoPreClassifier',
  });
  const headOpt = new LrfreeOptimizer({
    direction: o.momentum > 0 ? momentumDirection({ momentum: o.momentum }) : direction,
    step: alraoHeadRates({ copies: o.copies, minLr: o.minLr, maxLr: o.maxLr }),
    seed: o.seed,
    name: 'alraoHeads',
  });
  return { preOpt, headOpt };
}
