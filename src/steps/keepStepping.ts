/**
 * KeepStepping (sources/more-descent-less-gradient.txt, ALGORITHMS.md §7.1): one gradient, then keep
 * stepping along the same direction while the loss keeps falling; only forwards are spent on the checks.
 */
import { registerStepRule } from '../core/registry.js';
import type { StepDecision, StepRule } from '../core/types.js';
import { checkKnownKeys, checkNumber, checkOneOf } from '../core/validate.js';

/** Options of {@link keepStepping}. */
export interface KeepSteppingOptions {
  /** The minimum mini-step, lr > 0. Default 1e-3 (the post's experiments used 1e-3 and 1e-4). */
  lr?: number;
  /** At most maxSteps + 1 mini-steps per optimizer step, as in the original. Default 20 (the post's class). */
  maxSteps?: number;
  /** Impatience: mini-step i is lr * (1 + scaleI * sqrt(i)). Default 0 (the post also ran 2). */
  scaleI?: number;
  /** Cap on the impatience factor (1 + scaleI*sqrt(i)). Default 100. */
  maxStepMultiplier?: number;
  /**
   * Reproduce the original code: mini-step i is lr * (1 - scaleI*sqrt(i)) with indices 0, 0, 1, 2, ...
   * (it shrinks and turns into an ascent step once scaleI*sqrt(i) > 1), and the worsening mini-step is
   * kept. A non-finite point is still never kept. Default false.
   */
  originalBugs?: boolean;
  /** Direction to step along: `update` (sgd: g) or `search` (adam: P*g). Default `update`. */
  along?: 'update' | 'search';
}

/** The option keys this factory takes (the preset of the same name adds its own and the common ones). */
export const KEEP_STEPPING_RULE_KEYS = [
  'lr',
  'maxSteps',
  'scaleI',
  'maxStepMultiplier',
  'originalBugs',
  'along',
];

/**
 * KeepStepping: with t = 0 and L_best = phi(0), repeat for i = 0, 1, ...:
 * eta_i = lr * min(1 + scaleI*sqrt(i), maxStepMultiplier); L = phi(t + eta_i) (one forward, written from
 * w0 so no drift accumulates); if L is finite and L < L_best, accept (t += eta_i, L_best = L), else stop
 * and undo that mini-step. At most maxSteps + 1 mini-steps. The step commits w = w0 - t*d, the best point
 * evaluated; t = 0 (no move) when the very first mini-step does not improve.
 *
 * Bound: t <= lr * sum_{i<=maxSteps} min(1 + scaleI*sqrt(i), maxStepMultiplier).
 * Cost per step: 1 forward/backward + (accepted mini-steps + 1) forwards (at most maxSteps + 1).
 *
 * @example
 * ```ts
 * const step = lrfree.steps.keepStepping({ lr: 1e-3, maxSteps: 50, scaleI: 2 });
 * const opt = lrfree.optimizer({ direction: lrfree.directions.sgd(), step });
 * // opt.lastStep.info: { miniSteps (accepted), undone (1 when the last mini-step was undone) }
 * ```
 */
export function keepStepping(options: KeepSteppingOptions = {}): StepRule {
  checkKnownKeys('keepStepping', options, KEEP_STEPPING_RULE_KEYS, 'steps.keepStepping');
  const lr = checkNumber('keepStepping', 'lr', options.lr ?? 1e-3, { min: 0, minExclusive: true });
  const maxSteps = checkNumber('keepStepping', 'maxSteps', options.maxSteps ?? 20, {
    min: 0,
    max: 100000,
    integer: true,
  });
  const scaleI = checkNumber('keepStepping', 'scaleI', options.scaleI ?? 0, { min: 0 });
  const maxStepMultiplier = checkNumber(
    'keepStepping',
    'maxStepMultiplier',
    options.maxStepMultiplier ?? 100,
    {
      min: 1,
    },
  );
  const originalBugs = checkOneOf('keepStepping', 'originalBugs', options.originalBugs ?? false, [
    true,
    false,
  ]);
  const along = checkOneOf('keepStepping', 'along', options.along ?? 'update', ['update', 'search']);
  return {
    kind: 'keepStepping',
    config: { lr, maxSteps, scaleI, maxStepMultiplier, originalBugs, along },
    slotNames: [],
    needsLoss: true,
    initSlots: () => [],
    initScalars: () => ({}),
    choose: (ctx): StepDecision => {
      if (originalBugs) return original(ctx.loss0, (t) => ctx.phi(t, along));
      let t = 0;
      let best = ctx.loss0;
      let accepted = 0;
      let undone = 0;
      for (let i = 0; i <= maxSteps; i++) {
        const eta = lr * Math.min(1 + scaleI * Math.sqrt(i), maxStepMultiplier);
        const loss = ctx.phi(t + eta, along);
        if (!(loss < best)) {
          undone = 1;
          break;
        }
        best = loss;
        t += eta;
        accepted += 1;
      }
      return { eta: t, along, info: { miniSteps: accepted, undone, best } };
    },
  };

  /** The post's loop, sign bug and kept worsening step included (trap T16). */
  function original(loss0: number, phi: (t: number) => number): StepDecision {
    const size = (i: number) => lr * (1 - scaleI * Math.sqrt(i));
    let t = size(0);
    let lossNew = phi(t);
    let lossOld = loss0;
    let lastFinite = Number.isFinite(lossNew) ? t : 0;
    let i = 0;
    let taken = 1;
    while (lossNew < lossOld && i < maxSteps) {
      t += size(i);
      lossOld = lossNew;
      lossNew = phi(t);
      if (Number.isFinite(lossNew)) lastFinite = t;
      i += 1;
      taken += 1;
    }
    // The original stays where it stopped, worse or not; only a non-finite point is refused.
    const final = Number.isFinite(lossNew) ? lossNew : lossOld;
    return { eta: lastFinite, along, info: { miniSteps: taken, undone: 0, best: final } };
  }
}

registerStepRule('keepStepping', (c) => keepStepping(c as KeepSteppingOptions));
