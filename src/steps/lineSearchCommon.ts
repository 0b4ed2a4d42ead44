/**
 * Shared pieces of the stochastic line-search family (ALGORITHMS.md §1-§3): the reset rules that pick
 * each search's first trial step, the one-dimensional Armijo and Goldstein searches, and the slope
 * <g, d> read for free when the direction is the gradient itself.
 */
import type { LineContext, StepRule } from '../core/types.js';
import { checkNumber, checkOneOf } from '../core/validate.js';

/** How the first trial step of step k is derived from the last stored step size (ALGORITHMS.md §1.3). */
export type ResetOption = 0 | 1 | 2 | 3 | 'doubleEvery';

/** Reset options accepted by `armijo`, `goldstein` and the presets. */
export const RESET_OPTIONS: readonly ResetOption[] = [0, 1, 2, 3, 'doubleEvery'];

/** The step taken when no trial passed within the trial budget (reference `sls`: 1e-6). */
export const FALLBACK_STEP = 1e-6;
/** Lower bound on the step size stored after a failed search (trap T9: 0.9^100 would need ages to regrow). */
export const MIN_STORED_STEP = 1e-10;
/** Below this the search stops: float32 cannot see the decrease any more (trap T28). */
export const MIN_TRIAL_STEP = 1e-12;
/** With ||g|| below this there is nothing to search (reference `sls`). */
export const GRAD_NORM_EPS = 1e-8;

/** Options of the reset rule. */
export interface ResetConfig {
  /** First trial step of the first search, > 0. */
  initStepSize: number;
  resetOption: ResetOption;
  /** Growth base of options 1 and `doubleEvery`, >= 1. */
  gamma: number;
  /** n of option 1 (x gamma^(1/n) per step), option 3 (restart every n steps) and `doubleEvery`. */
  nBatchesPerEpoch: number | null;
  /** Upper bound on every trial step. */
  etaMax: number;
}

/**
 * First trial step of step `k` (1-based) from the last stored step size `prev`:
 * 0: prev; 1: prev * gamma^(1/n); 2: initStepSize; 3: initStepSize when (k-1) mod n = 0, else prev;
 * doubleEvery (SLS slides): prev * gamma when k mod n = 0, else prev. Capped at etaMax.
 * Like the reference code, the rule already applies at step 1 (prev = initStepSize there).
 * n = nBatchesPerEpoch, else the optimizer's stepsPerEpoch, else the reference placeholder 500 (trap T8).
 */
export function resetStep(cfg: ResetConfig, prev: number, k: number, stepsPerEpoch?: number): number {
  const n = cfg.nBatchesPerEpoch ?? stepsPerEpoch ?? 500;
  let eta: number;
  switch (cfg.resetOption) {
    case 0:
      eta = prev;
      break;
    case 1:
      eta = prev * cfg.gamma ** (1 / n);
      break;
    case 2:
      eta = cfg.initStepSize;
      break;
    case 3:
      eta = (k - 1) % n === 0 ? cfg.initStepSize : prev;
      break;
    default:
      eta = k % n === 0 ? prev * cfg.gamma : prev;
  }
  return Math.min(eta, cfg.etaMax);
}

/** Validates the reset options; `defaults` gives the owner's defaults. */
export function parseReset(
  where: string,
  o: Partial<{ [K in keyof ResetConfig]: ResetConfig[K] | undefined }>,
  defaults: ResetConfig,
): ResetConfig {
  const initStepSize = checkNumber(where, 'initStepSize', o.initStepSize ?? defaults.initStepSize, {
    min: 0,
    minExclusive: true,
  });
  const resetOption = checkOneOf(where, 'resetOption', o.resetOption ?? defaults.resetOption, RESET_OPTIONS);
  const gamma = checkNumber(where, 'gamma', o.gamma ?? defaults.gamma, { min: 1 });
  const nRaw = o.nBatchesPerEpoch ?? defaults.nBatchesPerEpoch;
  const nBatchesPerEpoch =
    nRaw === null ? null : checkNumber(where, 'nBatchesPerEpoch', nRaw, { min: 1, integer: true });
  const etaMax = checkNumber(where, 'etaMax', o.etaMax ?? defaults.etaMax, {
    min: 0,
    minExclusive: true,
    allowInfinity: true, // no cap (Armijo's default)
  });
  return { initStepSize, resetOption, gamma, nBatchesPerEpoch, etaMax };
}

/** Outcome of one 1-D search. */
export interface SearchResult {
  /** Step to commit (the accepted trial, or the fallback after a failure). */
  eta: number;
  /** Step size to remember for the next reset. */
  stored: number;
  found: boolean;
  /** Trial forwards spent. */
  trials: number;
}

/** A 1-D search on phi along a fixed direction with slope s = <g, d> > 0. */
export type Search1D = (
  phi: (eta: number) => number,
  loss0: number,
  slope: number,
  eta0: number,
) => SearchResult;

/**
 * Armijo backtracking: trials eta0, betaB*eta0, betaB^2*eta0, ... until
 * phi(eta) <= phi(0) - c*eta*s (or phi(eta) = phi(0) exactly while c*eta*s is below float32 resolution).
 * Non-finite trials come back as +Infinity and fail the test. After maxBacktracks trials (or once the
 * trial drops below 1e-12) the search fails: the step is the 1e-6 fallback and the stored step size the
 * last reduced trial, bounded below by 1e-10.
 */
export function armijoSearch(c: number, betaB: number, maxBacktracks: number): Search1D {
  return (phi, loss0, slope, eta0) => {
    let eta = eta0;
    for (let t = 1; t <= maxBacktracks; t++) {
      const loss = phi(eta);
      if (loss <= loss0 - c * eta * slope || cancelled(loss, loss0, c * eta * slope)) {
        return { eta, stored: eta, found: true, trials: t };
      }
      eta *= betaB;
      if (eta < MIN_TRIAL_STEP) return failed(eta, t);
    }
    return failed(eta, maxBacktracks);
  };
}

/**
 * Goldstein search (reference `line_search_fn = "goldstein"`): with A: phi(eta) <= phi(0) - c*eta*s and
 * B: phi(eta) >= phi(0) - (1-c)*eta*s, accept when both hold; A only (too short): eta <- min(betaF*eta,
 * etaMax), or accept when already at etaMax; B only (too long): eta <- max(betaB*eta, 1e-8). When the
 * budget runs out the step is the last trial that satisfied A, else the 1e-6 fallback.
 */
export function goldsteinSearch(
  c: number,
  betaB: number,
  betaF: number,
  etaMax: number,
  maxBacktracks: number,
): Search1D {
  return (phi, loss0, slope, eta0) => {
    let eta = eta0;
    let lastA = 0;
    for (let t = 1; t <= maxBacktracks; t++) {
      const loss = phi(eta);
      const a = loss <= loss0 - c * eta * slope || cancelled(loss, loss0, c * eta * slope);
      const b = loss >= loss0 - (1 - c) * eta * slope;
      if (a && b) return { eta, stored: eta, found: true, trials: t };
      if (a) {
        // Growing past etaMax is not allowed, so the longest allowed step is the answer.
        if (eta >= etaMax) return { eta, stored: eta, found: true, trials: t };
        lastA = eta;
        eta = Math.min(eta * betaF, etaMax);
      } else {
        if (eta <= 1e-8) return lastA > 0 ? partial(lastA, t) : failed(eta, t);
        eta = Math.max(eta * betaB, 1e-8);
      }
    }
    return lastA > 0 ? partial(lastA, maxBacktracks) : failed(eta, maxBacktracks);
  };
}

/**
 * An exact tie phi(eta) = phi(0) counts as sufficient decrease only while the required decrease is below
 * float32 resolution of the loss (ALGORITHMS.md §0.5, trap T28); a tie at a long step (e.g. a symmetric
 * overshoot of a quadratic) is no decrease and is rejected.
 */
export function cancelled(loss: number, loss0: number, required: number): boolean {
  return loss === loss0 && required <= 1e-6 * Math.abs(loss0);
}

function failed(eta: number, trials: number): SearchResult {
  return { eta: FALLBACK_STEP, stored: Math.max(eta, MIN_STORED_STEP), found: false, trials };
}

function partial(eta: number, trials: number): SearchResult {
  return { eta, stored: eta, found: false, trials };
}

/** True when the search direction is the gradient itself (sgd): then <g_l, d_l> = ||g_l||^2, known free. */
export function searchIsGradient(ctx: LineContext): boolean {
  return ctx.search.every((t, i) => t === ctx.grads[i]);
}

/** Per-group slopes <g_l, d_l> along the search direction, without a sync when d = g. */
export function groupSlopes(ctx: LineContext): number[] {
  return searchIsGradient(ctx) ? [...ctx.groupGradNormSq] : ctx.groupSlopes();
}

/** ||g|| over all groups (free). */
export function gradNorm(ctx: LineContext): number {
  return Math.sqrt(ctx.groupGradNormSq.reduce((a, b) => a + b, 0));
}

/** What perLayer needs from the rule it wraps: its reset rule and its 1-D search. */
export interface LineSearchParts {
  readonly reset: ResetConfig;
  readonly search: Search1D;
  /** Direction the step commits along after searching along `search`. */
  readonly commitAlong: 'search' | 'update';
}

/** A step rule built on a reset rule and a 1-D search (armijo, goldstein): perLayer can wrap it. */
export interface LineSearchRule extends StepRule {
  readonly lineSearch: LineSearchParts;
}

/** Validates the maxBacktracks option (the reference's hard-coded loop bound is 100). */
export function parseMaxBacktracks(where: string, value: number | undefined): number {
  return checkNumber(where, 'maxBacktracks', value ?? 100, { min: 1, max: 100000, integer: true });
}
