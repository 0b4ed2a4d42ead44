/**
 * auto()'s constants: the exported ones (the default decay, the gain, the reasons and regimes reported in
 * `lastStep.info`, the deterministic averaging floor), and Adam's constants, which both the noisy regime's
 * direction (direction.ts) and conjugate gradients' metric (conjugate.ts) use. A constant only one file
 * uses stays in that file.
 */

/**
 * The default decoupled weight decay on a noisy loss (docs/auto.md, "Weight decay by default"): AlgoPerf's
 * calibrated value for NAdamW and Schedule-Free AdamW, in the same convention (scale times decay times y).
 */
export const AUTO_WEIGHT_DECAY = 0.08;

/**
 * The step over the line-check step (docs/auto.md, "gain"): 1.5 beat 1, 2 and 3 over the quick suite's
 * tasks (2 and 3 lose on rosenbrock, 1 loses on mnist-mlp and deep-regression). On the standard suite's 11
 * judged tasks 1 and 1.25 were no better overall (docs/auto.md, "The gain on the standard suite").
 */
export const AUTO_GAIN = 1.5;

/** Why the scale changed, in `lastStep.info.reason`. */
export const AUTO_REASONS = {
  none: 0,
  calibrated: 1,
  armijoFailed: 2,
  wideMargin: 3,
  checkedOk: 4,
  /** Noisy regime: the smoothed training loss rose to twice its value at calibration; the scale halves. */
  lossRose: 5,
  /**
   * Deterministic regime: the committed move would land where the loss is not finite; a tenth or a
   * hundredth of it was taken (the first whose loss is finite and no higher), or none and the scale fell.
   */
  shortened: 6,
  /**
   * Noisy regime (`noisyChecks: 'plateau'`, the default): the smoothed training loss fell by less than 1%
   * since the last plateau check (after 50, 100, 200, ... guarded steps); the scale halves.
   */
  plateau: 7,
} as const;

/**
 * What auto has found about the loss, in `lastStep.info.regime`: not yet known (step 1), deterministic
 * (the same point gives the same loss on the next batch: full-batch training) or noisy (mini-batches,
 * dropout).
 */
export const AUTO_REGIMES = { unknown: 0, deterministic: 1, noisy: 2 } as const;

/**
 * The smallest averaging weight c in the deterministic regime: x forgets old iterates with a horizon of
 * about 1/c steps. Averaging is there to cancel noise; without noise, an average since step 1 only lags
 * behind a z that converges (docs/auto.md, "Two regimes").
 */
export const DETERMINISTIC_C_FLOOR = 0.2;

/** Adam's second-moment decay, for the direction and for conjugate gradients' metric. */
export const BETA2 = 0.999;
/** Adam's eps, relative to the RMS of sqrt(v-hat) of the tensor. */
export const EPS = 1e-8;
export const TINY = 1e-30;
