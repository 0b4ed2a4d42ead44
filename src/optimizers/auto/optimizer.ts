/**
 * `lrfree.auto()`: the one optimizer with no knobs (issue 18, item 2). A prototype: measured on the quick
 * suite; the benchmark v2 standard suite judges it (docs/auto.md).
 *
 * Design: a Schedule-Free base (z, x, y; evaluate at x) stepping z along a clipped Adam direction
 * u = g/(sqrt(v-hat) + eps), eps relative to the tensor's gradient RMS (so u does not depend on the scale
 * of the loss), with u scaled so its per-tensor RMS is at most 1, times a scale eta. The scale is not
 * guessed: the first step calibrates it by probing the loss along -u on a ladder of step sizes (no move),
 * at gain 1.5 times the line step (y moves only part of z's step). Step 2 sees the same weights on the next
 * batch and so tells a deterministic loss from a noisy one (AUTO_REGIMES):
 * - noisy (mini-batches): the calibrated scale is kept, guarded by a halving when the smoothed loss rises to
 *   twice its calibration value, and by a halving when it fell by less than 1% over a window (after 50,
 *   100, 200, ... steps: geometric windows, no horizon). Armijo checks on one mini-batch pulled it too
 *   low; `probeEvery` turns them back on;
 * - deterministic (full batch): from step 3, nonlinear conjugate gradients on Adam's metric with a secant
 *   step from one extra gradient, a backtrack along the last direction when the loss did not fall enough
 *   (step 2's move included), and the best point seen as the evaluation point (no averaging: it is for
 *   noise). The ingredient `deterministicDirection: 'sf'` keeps Schedule-Free there instead, with an Armijo
 *   check of the committed move every step and x weighing the newest z by at least 0.2.
 * Decoupled weight decay at y: AUTO_WEIGHT_DECAY on a noisy loss by default, none on a deterministic one. In the noisy regime a check's scale takes effect from
 * the next step (the step's own update is computed before its probe); the calibration step moves nothing.
 *
 * This file holds the optimizer that joins the parts (AutoOptimizer, auto(), autoWith() and their options);
 * beside it: constants.ts, direction.ts (the Schedule-Free direction), conjugate.ts (the deterministic
 * regime's conjugate gradients), scaleRule.ts (calibration, regimes, checks) and line.ts (shared line
 * arithmetic).
 */

import * as tf from '@tensorflow/tfjs';
import type { LossFn } from '../../core/optimizer.js';
import { checkNumber, checkOneOf, LrfreeConfigError, showValue } from '../../core/validate.js';
import { presetKeys } from '../baselines.js';
import { EvalPointOptimizer } from '../evalPointMethod.js';
import { type MethodCommonOptions, splitCommon } from '../methodCommon.js';
import type { AutoDeterministicDirection } from './conjugate.js';
import {
  AUTO_GAIN,
  AUTO_REASONS,
  AUTO_REGIMES,
  AUTO_WEIGHT_DECAY,
  DETERMINISTIC_C_FLOOR,
} from './constants.js';
import { type AutoDirection, autoDirection } from './direction.js';
import { type AutoReport, AutoScaleJournal } from './report.js';
import { type AutoCheckMove, type AutoNoisyChecks, type AutoScaleRule, autoScaleRule } from './scaleRule.js';

/** Optional hints of {@link auto}; none is needed. */
export interface AutoOptions {
  /**
   * Decoupled weight decay at y: z <- z - eta*weightDecay*y. Default: {@link AUTO_WEIGHT_DECAY} on a noisy
   * (mini-batch) loss, where it regularises a long run, and 0 on a deterministic one, whose minimiser it
   * would move. A value given here applies in both regimes.
   */
  weightDecay?: number;
  /**
   * Check the scale by Armijo every `probeEvery` steps on a noisy loss too (one forward each). Default: no
   * check on a noisy loss after the calibration (a deterministic loss is checked at every step anyway).
   */
  probeEvery?: number;
  /** Schedule-Free interpolation beta (0.95-0.98 for very long runs). Default 0.9. */
  beta?: number;
  /** Total steps planned, if known. Accepted for forward compatibility; the prototype does not use it. */
  totalSteps?: number;
  /** Update clipping (per-tensor RMS of the direction at most 1). An ablation switch. Default true. */
  clip?: boolean;
}

/** The optimizer of {@link auto}: hands the scale the rule decided to the direction before each step. */
export class AutoOptimizer extends EvalPointOptimizer {
  /** @nocollapse */
  static override className = 'AutoOptimizer';

  static override [Symbol.hasInstance](instance: unknown): boolean {
    return Function.prototype[Symbol.hasInstance].call(AutoOptimizer, instance);
  }

  /** The deterministic regime's smallest averaging weight (see {@link DETERMINISTIC_C_FLOOR}). */
  cFloor = DETERMINISTIC_C_FLOOR;

  /** The scale's changes, for {@link AutoOptimizer.report} (in memory: a restored optimizer starts a new one). */
  private readonly scaleJournal = new AutoScaleJournal();

  /** The current scale (0 before calibration). */
  get scale(): number {
    return (this.ruleState().scale as number | undefined) ?? 0;
  }

  override minimize(f: LossFn, returnCost = false, varList?: tf.Variable[]): tf.Scalar | null {
    const dir = this.direction as AutoDirection;
    dir.scale = this.scale;
    const deterministic = this.ruleState().regime === AUTO_REGIMES.deterministic;
    dir.cg = deterministic && this.rule.config.deterministicDirection === 'cg';
    dir.noisy = this.ruleState().regime === AUTO_REGIMES.noisy;
    dir.cFloor = deterministic && !dir.cg ? this.cFloor : 0;
    dir.cgFraction = (this.ruleState().cgFraction as number | undefined) ?? 1;
    (this.rule as AutoScaleRule).yShare = () => dir.yShare;
    const scaleBefore = this.scale;
    const out = super.minimize(f, returnCost, varList);
    this.scaleJournal.record(this.lastStep, scaleBefore);
    if (!this.lastStep.skipped && this.lastStep.info.reason === AUTO_REASONS.shortened) {
      this.trainPointIsTheWeights(!dir.cg);
    }
    return out;
  }

  /**
   * Did it work? The report every optimizer gives (the training loss at the start and the end, still
   * falling or not, skipped steps, flags with what to do), and auto's own findings: the regime it found,
   * the calibrated scale and every later change of it with its reason, a flag when the guard fired.
   *
   * @example
   * ```ts
   * const opt = lrfree.auto();
   * model.compile({ optimizer: opt, loss: 'categoricalCrossentropy' });
   * await model.fit(x, y, { epochs: 3, batchSize: 16, verbose: 0 });
   * const report = opt.report();
   * console.log(lrfree.formatReport(report), report.regime, report.scale.calibrated);
   * ```
   */
  override report(): AutoReport {
    return this.scaleJournal.report(
      super.report(),
      (this.ruleState().regime as number | undefined) ?? AUTO_REGIMES.unknown,
      this.scale,
    );
  }

  /**
   * After a shortened move the weights are not the point the direction stored as y (and z): store them.
   * After a Schedule-Free step (step 2) x = z = y too; after a conjugate-gradient step x is the best point
   * seen, which the move did not change.
   */
  private trainPointIsTheWeights(withX: boolean): void {
    for (const { variable, slots } of this.directionSlots()) {
      const stale = withX ? [0, 1, 2] : [0, 2];
      for (const i of stale) {
        slots[i].dispose();
        slots[i] = variable.clone();
      }
      // The carry was for the whole move, which was not taken.
      if (slots.length > 6) {
        slots[6].dispose();
        slots[6] = tf.scalar(0);
      }
    }
  }
}

tf.serialization.registerClass(AutoOptimizer);

/**
 * The optimizer that needs no argument (a prototype, docs/auto.md): Schedule-Free with a clipped Adam
 * direction whose scale is calibrated by probes at step 1 and kept on a noisy (mini-batch) loss unless the
 * loss rises or stops falling (then it halves); on a deterministic (full-batch) loss, conjugate gradients
 * with secant steps. Cost per step: 1 forward + 1 backward on a noisy loss (plus 6 forwards at the first
 * step, which does not move); on a deterministic loss 2 forwards + 2 backwards + 1 forward (a backtrack:
 * 1 + 1 + 1). `lastStep.eta` is the scale used; `lastStep.info.reason` says why it changes
 * ({@link AUTO_REASONS}) and `info.next` what it becomes. Evaluate at x (`withEvalPoint`, `opt.eval()`).
 * A `schedule` is refused: auto has no learning rate for it to scale.
 *
 * @example
 * ```ts
 * const opt = lrfree.auto();
 * model.compile({ optimizer: opt, loss: 'categoricalCrossentropy' });
 * await model.fit(x, y, { epochs: 5 });
 * await lrfree.withEvalPointAsync(opt, { model, trainX: x }, () => model.evaluate(xTest, yTest));
 * ```
 */
export function auto(options: AutoOptions & MethodCommonOptions = {}): AutoOptimizer {
  return autoWith(options);
}

/**
 * The ingredients of {@link auto} that are not hints but design choices, switchable for the ablation in
 * bench/ (docs/auto.md). Not part of the public API: the defaults are the design.
 */
export interface AutoIngredients {
  /** Schedule-Free averaging (evaluate at x). Default true; false trains and evaluates at z. */
  average?: boolean;
  /** Step-1 calibration on the ladder. Default true; false starts at 1e-3. */
  calibrate?: boolean;
  /** Step / line-check ratio. Default {@link AUTO_GAIN}. */
  gain?: number;
  /** Never check after step 1 (the calibrated scale is kept). Default false. */
  noChecks?: boolean;
  /**
   * What a check tests: 'line' (default) the step `scale / gain` along -u from y; 'y' the share of the
   * step along -u that y takes; 'update' the committed move of y itself (one extra reduction).
   */
  checkMove?: AutoCheckMove;
  /** The fused kernel where it can run (wasm). Default true; false keeps the TF.js ops (bench/auto-cost.ts). */
  fused?: boolean;
  /** Tell deterministic from noisy losses ({@link AUTO_REGIMES}). Default true; false: always noisy. */
  regimes?: boolean;
  /** The deterministic regime's smallest averaging weight. Default {@link DETERMINISTIC_C_FLOOR}. */
  deterministicFloor?: number;
  /**
   * The checks on a noisy loss. Default 'plateau' (calibration, then the guard and the plateau halving);
   * 'none' is the guard alone (the default before 2026-12-03).
   */
  noisyChecks?: AutoNoisyChecks;
  /** What the deterministic regime's every-step check tests. Default 'update' (the committed move). */
  deterministicCheck?: 'update' | 'line';
  /** The deterministic regime's direction. Default 'cg'. */
  deterministicDirection?: AutoDeterministicDirection;
  /** Conjugate gradients' moves compensated for float32 rounding (a carry slot). Default false. */
  compensate?: boolean;
  /** The Newton polish of a small deterministic problem when conjugate gradients stall. Default true. */
  polish?: boolean;
}

/** The preset's keys: its own and the common ones. */
const AUTO_KEYS = presetKeys('auto', ['weightDecay', 'probeEvery', 'beta', 'totalSteps', 'clip']);

/** {@link auto} with its ingredients switched (bench ablations). */
export function autoWith(
  options: AutoOptions & MethodCommonOptions = {},
  ingredients: AutoIngredients = {},
): AutoOptimizer {
  const W = 'auto';
  const { own, common, schedule } = splitCommon<AutoOptions>(options, W, AUTO_KEYS);
  if (schedule !== undefined) {
    // Accepted by the common options' type, but auto has no learning rate for a schedule to scale.
    throw new LrfreeConfigError(
      `auto: schedule = ${showValue(schedule)} is not allowed; schedule must be left out: auto calibrates its scale and halves it on a plateau, with no schedule or horizon.`,
    );
  }
  const clip = checkOneOf(W, 'clip', own.clip ?? true, [true, false]);
  const weightDecay = checkNumber(W, 'weightDecay', own.weightDecay ?? AUTO_WEIGHT_DECAY, { min: 0 });
  const probeEvery = checkNumber(W, 'probeEvery', own.probeEvery ?? 10, { min: 1, integer: true });
  // An explicit probeEvery asks for checks on a noisy loss too.
  const noisyChecks = ingredients.noisyChecks ?? (own.probeEvery !== undefined ? 'armijo' : 'plateau');
  const beta = checkNumber(W, 'beta', own.beta ?? 0.9, {
    min: 0,
    max: 1,
    minExclusive: true,
    maxExclusive: true,
  });
  if (own.totalSteps !== undefined) checkNumber(W, 'totalSteps', own.totalSteps, { min: 1, integer: true });
  const gain = checkNumber(W, 'gain', ingredients.gain ?? AUTO_GAIN, { min: 1 });
  const opt = new AutoOptimizer({
    ...common,
    direction: autoDirection(
      {
        weightDecay,
        deterministicDecay: own.weightDecay ?? 0,
        beta,
        clip,
        average: ingredients.average ?? true,
        compensated: ingredients.compensate ?? false,
        polish: ingredients.polish ?? true,
      },
      ingredients.fused ?? true,
    ),
    step: autoScaleRule({
      probeEvery: ingredients.noChecks ? Number.POSITIVE_INFINITY : probeEvery,
      gain,
      calibrate: ingredients.calibrate ?? true,
      checkMove: ingredients.checkMove ?? 'line',
      regimes: ingredients.regimes ?? true,
      noisyChecks,
      deterministicCheck: ingredients.deterministicCheck ?? 'update',
      deterministicDirection: ingredients.deterministicDirection ?? 'cg',
    }),
    name: 'auto',
  });
  opt.cFloor = ingredients.deterministicFloor ?? DETERMINISTIC_C_FLOOR;
  return opt;
}
