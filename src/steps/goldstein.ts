/** Stochastic Goldstein line search (reference `sls`, `line_search_fn = "goldstein"`; ALGORITHMS.md §1.5). */
import { registerStepRule } from '../core/registry.js';
import { checkKnownKeys, checkNumber } from '../core/validate.js';
import {
  ARMIJO_KEYS,
  type ArmijoOptions,
  fromJson,
  jsonReset,
  parseArmijoFamily,
  searchRule,
} from './armijo.js';
import { goldsteinSearch, type LineSearchRule } from './lineSearchCommon.js';

/** Options of {@link goldstein}: those of `armijo` plus the forward factor. */
export interface GoldsteinOptions extends ArmijoOptions {
  /** Growth factor > 1 when a trial is too short (only the sufficient-decrease test holds). Default 2. */
  betaF?: number;
}

const KEYS = [...ARMIJO_KEYS, 'betaF'];

/**
 * Goldstein line search: with s = <g, d>, a trial eta passes when both
 *
 *     A: phi(eta) <= phi(0) - c*eta*s          (sufficient decrease)
 *     B: phi(eta) >= phi(0) - (1-c)*eta*s      (step not too short)
 *
 * hold. A only: eta <- min(betaF*eta, etaMax) (accepted as is once at etaMax); B only (or a non-finite
 * trial): eta <- max(betaB*eta, 1e-8). c must be < 1/2, otherwise no step may pass both (trap T10).
 * When the trial budget runs out the step is the last trial that passed A, else the 1e-6 fallback with the
 * stored eta bounded below by 1e-10. Each search starts from reset(eta_{k-1}) as in `armijo`.
 *
 * Defaults (reference `Sls`): c 0.1, betaB 0.9, betaF 2, initStepSize 1, resetOption 1, gamma 2,
 * etaMax 10 (`bound_step_size = True`), maxBacktracks 100. The paper's Goldstein runs used resetOption 0.
 * Cost per step: 1 forward/backward + trials forwards.
 *
 * @example
 * ```ts
 * const step = lrfree.goldstein({ resetOption: 0, nBatchesPerEpoch: 938 });
 * const opt = lrfree.optimizer({ direction: lrfree.directions.sgd(), step });
 * ```
 */
export function goldstein(options: GoldsteinOptions = {}): LineSearchRule {
  checkKnownKeys('goldstein', options, KEYS);
  // c < 1/2, else no step passes both tests (trap T10); the reference bounds Goldstein's eta by 10.
  const { c, betaB, reset, maxBacktracks, commitAlong } = parseArmijoFamily('goldstein', options, {
    cMax: 0.5,
    etaMax: 10,
  });
  const betaF = checkNumber('goldstein', 'betaF', options.betaF ?? 2, { min: 1, minExclusive: true });
  return searchRule(
    'goldstein',
    { c, betaB, betaF, ...jsonReset(reset), maxBacktracks, commitAlong },
    { reset, search: goldsteinSearch(c, betaB, betaF, reset.etaMax, maxBacktracks), commitAlong },
  );
}

registerStepRule('goldstein', (c) => goldstein(fromJson(c) as GoldsteinOptions));
