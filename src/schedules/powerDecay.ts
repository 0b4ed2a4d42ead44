/** Power decay of the step-by-step procedure: the rate falls to 2/3 every M epochs. */
import { registerSchedule } from '../core/registry.js';
import type { Schedule } from '../core/schedule.js';
import { checkBoolean, checkKnownKeys, checkNumber, LrfreeConfigError } from '../core/validate.js';
import { epochOf } from './epochs.js';

/** Options of {@link powerDecay}. */
export interface PowerDecayOptions {
  /** M: the epoch at which performance plateaus. The per-epoch factor is alpha = (2/3)^(1/M). */
  plateauEpochs: number;
  /** Override alpha directly (per-epoch factor in (0, 1]). */
  alpha?: number;
  /** Decay per whole epoch (default, as in the procedure text) or smoothly per step. */
  perStep?: boolean;
  /** Steps per epoch (else the optimizer's). */
  stepsPerEpoch?: number;
}

/**
 * multiplier = alpha^e with alpha = (2/3)^(1/M) and e the epoch (ALGORITHMS.md §11.4).
 *
 * @example
 * ```ts
 * lrfree.powerDecay({ plateauEpochs: 5, stepsPerEpoch: 100 }).multiplier(501); // (2/3)^1
 * ```
 */
export function powerDecay(options: PowerDecayOptions): Schedule {
  checkKnownKeys('powerDecay', options, ['plateauEpochs', 'alpha', 'perStep', 'stepsPerEpoch']);
  const M = checkNumber('powerDecay', 'plateauEpochs', options?.plateauEpochs, {
    min: 0,
    minExclusive: true,
  });
  if (options.alpha === undefined && !((2 / 3) ** (1 / M) > 0)) {
    throw new LrfreeConfigError(
      `powerDecay: plateauEpochs = ${M} is not allowed: the default alpha = (2/3)^(1/plateauEpochs) underflows ` +
        'to 0; plateauEpochs must be at least 1e-3 or alpha must be given.',
    );
  }
  const alpha = checkNumber('powerDecay', 'alpha', options.alpha ?? (2 / 3) ** (1 / M), {
    min: 0,
    max: 1,
    minExclusive: true,
  });
  const perStep = checkBoolean('powerDecay', 'perStep', options.perStep ?? false);
  const spe = options.stepsPerEpoch;
  if (spe !== undefined) checkNumber('powerDecay', 'stepsPerEpoch', spe, { min: 1, integer: true });
  const config = { plateauEpochs: M, alpha, perStep, ...(spe === undefined ? {} : { stepsPerEpoch: spe }) };
  return {
    kind: 'powerDecay',
    config,
    multiplier: (step, fromOptimizer) => {
      const e = epochOf('powerDecay', step, spe, fromOptimizer);
      return alpha ** (perStep ? e : Math.floor(e));
    },
  };
}

registerSchedule('powerDecay', (c) => powerDecay(c as unknown as PowerDecayOptions));
