/** Stochastic Armijo line search (SLS, Vaswani et al. 2019; ALGORITHMS.md §1 and §2.1). */
import { registerStepRule } from '../core/registry.js';
import type { LineContext, ScalarState, StepDecision } from '../core/types.js';
import { checkKnownKeys, checkNumber, checkOneOf } from '../core/validate.js';
import {
  armijoSearch,
  GRAD_NORM_EPS,
  gradNorm,
  groupSlopes,
  type LineSearchParts,
  type LineSearchRule,
  parseMaxBacktracks,
  parseReset,
  type ResetOption,
  resetStep,
  type Search1D,
} from './lineSearchCommon.js';

/** Options of {@link armijo}. */
export interface ArmijoOptions {
  /** Armijo constant c in (0, 1). Default 0.1 (reference `sls` and its deep-net experiments). */
  c?: number;
  /** Backtracking factor in (0, 1): eta <- betaB*eta after a failed trial. Default 0.9. */
  betaB?: number;
  /** Step size before the first search, > 0. Default 1 (reference `Sls`). */
  initStepSize?: number;
  /**
   * How each search starts from the last stored step size: 0 last, 1 last*gamma^(1/n) (default),
   * 2 initStepSize, 3 initStepSize at the first step of each epoch, `doubleEvery` last*gamma every n steps
   * (SLS slides). See ALGORITHMS.md §1.3.
   */
  resetOption?: ResetOption;
  /** Growth base of reset options 1 and `doubleEvery`, >= 1. Default 2. */
  gamma?: number;
  /**
   * n of the reset rule. Default: the optimizer's `stepsPerEpoch` when given, else 500 (the reference
   * placeholder; set it, trap T8).
   */
  nBatchesPerEpoch?: number;
  /** Upper bound on the trial step size. Default Infinity (the reference removed its cap). */
  etaMax?: number;
  /** Trial forwards per step at most (the reference's loop bound). Default 100. */
  maxBacktracks?: number;
  /**
   * Direction committed at the accepted eta: `update` (default; AdamSLS commits the momentum step P*m-hat
   * after searching along P*g) or `search` (stay at the accepted trial point). Same for sgd.
   */
  commitAlong?: 'search' | 'update';
}

/** Option names of `armijo`; `goldstein` adds `betaF`. */
export const ARMIJO_KEYS = [
  'c',
  'betaB',
  'initStepSize',
  'resetOption',
  'gamma',
  'nBatchesPerEpoch',
  'etaMax',
  'maxBacktracks',
  'commitAlong',
];

/**
 * Stochastic Armijo line search. With d the search direction and s = <g, d> (= ||g||^2 for sgd,
 * g'Pg for adam), each step starts from eta = reset(eta_{k-1}) and backtracks eta <- betaB*eta until
 *
 *     phi(eta) = f_B(w - eta*d) <= f_B(w) - c * eta * s
 *
 * on the same mini-batch (same dropout mask; batch-norm statistics restored), then commits
 * w <- w - eta*update. A non-finite trial loss fails the test. No move when ||g|| < 1e-8 (eta still
 * resets). If no trial passes within `maxBacktracks` (or eta < 1e-12), the step is 1e-6 and the stored eta
 * is the last trial, bounded below by 1e-10 (trap T9); `lastStep.info.failed` is 1 and the count is kept.
 *
 * Cost per step: 1 forward/backward + (1 + backtracks) forwards. `lastStep.info`: `trials`, `initialEta`,
 * `failed`, `failures` (cumulative).
 *
 * @example
 * ```ts
 * const step = lrfree.armijo({ c: 0.1, nBatchesPerEpoch: 938 });
 * const opt = lrfree.optimizer({ direction: lrfree.directions.sgd(), step });
 * ```
 */
export function armijo(options: ArmijoOptions = {}): LineSearchRule {
  checkKnownKeys('armijo', options, ARMIJO_KEYS);
  const { c, betaB, reset, maxBacktracks, commitAlong } = parseArmijoFamily('armijo', options, {
    cMax: 1,
    etaMax: Number.POSITIVE_INFINITY,
  });
  const parts: LineSearchParts = { reset, search: armijoSearch(c, betaB, maxBacktracks), commitAlong };
  return searchRule('armijo', { c, betaB, ...jsonReset(reset), maxBacktracks, commitAlong }, parts);
}

/**
 * The options armijo and goldstein share, checked: c in (0, cMax), betaB in (0, 1), the reset rule
 * (default etaMax differs: the reference caps Goldstein only), maxBacktracks, commitAlong.
 */
export function parseArmijoFamily(
  owner: string,
  options: ArmijoOptions,
  defaults: { cMax: number; etaMax: number },
) {
  const open = { min: 0, minExclusive: true, maxExclusive: true };
  const c = checkNumber(owner, 'c', options.c ?? 0.1, { ...open, max: defaults.cMax });
  const betaB = checkNumber(owner, 'betaB', options.betaB ?? 0.9, { ...open, max: 1 });
  const reset = parseReset(owner, options, {
    initStepSize: 1,
    resetOption: 1,
    gamma: 2,
    nBatchesPerEpoch: null,
    etaMax: defaults.etaMax,
  });
  const maxBacktracks = parseMaxBacktracks(owner, options.maxBacktracks);
  const commitAlong = checkOneOf(owner, 'commitAlong', options.commitAlong ?? 'update', ['search', 'update']);
  return { c, betaB, reset, maxBacktracks, commitAlong };
}

/** The reset options as JSON (Infinity is not JSON: an unbounded etaMax is saved as null). */
export function jsonReset(r: LineSearchParts['reset']) {
  return {
    initStepSize: r.initStepSize,
    resetOption: r.resetOption,
    gamma: r.gamma,
    nBatchesPerEpoch: r.nBatchesPerEpoch,
    etaMax: Number.isFinite(r.etaMax) ? r.etaMax : null,
  };
}

/**
 * A single-eta step rule from a reset rule and a 1-D search (shared by armijo and goldstein): reset,
 * search along `search` with slope <g, d>, commit along `commitAlong`.
 */
export function searchRule(
  kind: string,
  config: LineSearchRule['config'],
  parts: LineSearchParts,
): LineSearchRule {
  return {
    kind,
    config,
    lineSearch: parts,
    slotNames: [],
    needsLoss: true,
    initSlots: () => [],
    initScalars: () => ({ eta: parts.reset.initStepSize, failures: 0 }),
    choose: (ctx: LineContext, s: Readonly<ScalarState>): StepDecision => {
      const eta0 = resetStep(parts.reset, s.eta as number, ctx.step, ctx.stepsPerEpoch);
      const failures = s.failures as number;
      const r = searchOnce(ctx, parts.search, eta0, (eta) => ctx.phi(eta), sum(groupSlopes(ctx)));
      return {
        eta: r.eta,
        along: parts.commitAlong,
        scalars: { eta: r.stored, failures: failures + (r.failed ? 1 : 0) },
        info: {
          trials: r.trials,
          initialEta: eta0,
          failed: r.failed ? 1 : 0,
          failures: failures + (r.failed ? 1 : 0),
        },
      };
    },
  };
}

/**
 * One search with the guards every Armijo-type rule shares: no move when ||g|| < 1e-8 or when the slope
 * is not positive (not a descent direction), keeping eta0 as the stored step size.
 */
export function searchOnce(
  ctx: LineContext,
  search: Search1D,
  eta0: number,
  phi: (eta: number) => number,
  slope: number,
): { eta: number; stored: number; trials: number; failed: boolean } {
  if (gradNorm(ctx) < GRAD_NORM_EPS || !(slope > 0))
    return { eta: 0, stored: eta0, trials: 0, failed: false };
  const r = search(phi, ctx.loss0, slope, eta0);
  return { eta: r.eta, stored: r.stored, trials: r.trials, failed: !r.found };
}

function sum(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

registerStepRule('armijo', (c) => armijo(fromJson(c) as ArmijoOptions));

/** Saved configs hold null for "unset/unbounded"; the constructors want undefined. */
export function fromJson(c: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(c)) if (v !== null) out[k] = v;
  return out;
}
