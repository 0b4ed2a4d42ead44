/** Stochastic Polyak step size (SPS, SPS_max; Loizou et al. 2021; ALGORITHMS.md §4). No probes. */
import { registerStepRule } from '../core/registry.js';
import type { StepDecision, StepRule } from '../core/types.js';
import { checkKnownKeys, checkNumber, checkOneOf, LrfreeConfigError } from '../core/validate.js';
import { fromJson } from './armijo.js';
import { GRAD_NORM_EPS, gradNorm, groupSlopes } from './lineSearchCommon.js';

/** Which bound caps the Polyak step. */
export type PolyakVariant = 'sps' | 'spsMax' | 'smooth';

/** Options of {@link polyak}. */
export interface PolyakOptions {
  /** Scale c > 0 of the denominator. Default 0.5 (reference class and theory; deep-net runs used 0.2). */
  c?: number;
  /** Lower bound f* of the mini-batch loss. Default 0 (cross-entropy, MSE; trap T11 for penalised losses). */
  fStar?: number;
  /**
   * `sps`: no bound but `etaMax`; `spsMax`: min(Polyak, etaMax), etaMax required; `smooth` (default,
   * reference `smooth_iter`): min(Polyak, gamma^(1/n) * eta_{k-1}), and etaMax when given.
   */
  variant?: PolyakVariant;
  /** Upper bound on the step size. Default Infinity (none). */
  etaMax?: number;
  /** Growth base of the `smooth` bound, >= 1. Default 2: the step may at most double per epoch. */
  gamma?: number;
  /** n of the `smooth` bound. Default: the optimizer's stepsPerEpoch, else 500. */
  nBatchesPerEpoch?: number;
  /** eta_0 of the `smooth` bound. Default 1. */
  initStepSize?: number;
  /** Added to the denominator c*<g,d>. Default 1e-8 (reference class; its experiment runner passes 0). */
  eps?: number;
}

const KEYS = ['c', 'fStar', 'variant', 'etaMax', 'gamma', 'nBatchesPerEpoch', 'initStepSize', 'eps'];

/**
 * Stochastic Polyak step: with the mini-batch loss f_B(w), s = <g, d> (= ||g||^2 for sgd)
 *
 *     sps:     eta = (f_B(w) - f*) / (c*s + eps)
 *     spsMax:  eta = min((f_B(w) - f*) / (c*s + eps), etaMax)
 *     smooth:  eta = min((f_B(w) - f*) / (c*s + eps), gamma^(1/n) * eta_{k-1}),  eta_0 = initStepSize
 *
 * and w <- w - eta*d (the search direction). eta = 0 when f_B(w) < f*. No move when ||g|| < 1e-8, and
 * then eta_{k-1} is kept (the reference stores 0, after which `smooth` can never grow again). Unlike the
 * reference, `smooth` subtracts f* too (the same at the default f* = 0).
 * Cost per step: 1 forward/backward, no extra forward.
 *
 * @example
 * ```ts
 * const step = lrfree.polyak({ c: 0.2, variant: 'smooth', nBatchesPerEpoch: 938 });
 * const opt = lrfree.optimizer({ direction: lrfree.directions.sgd(), step });
 * ```
 */
export function polyak(options: PolyakOptions = {}): StepRule {
  checkKnownKeys('polyak', options, KEYS);
  const c = checkNumber('polyak', 'c', options.c ?? 0.5, { min: 0, minExclusive: true });
  const fStar = checkNumber('polyak', 'fStar', options.fStar ?? 0);
  const variant = checkOneOf('polyak', 'variant', options.variant ?? 'smooth', ['sps', 'spsMax', 'smooth']);
  const etaMax = checkNumber('polyak', 'etaMax', options.etaMax ?? Number.POSITIVE_INFINITY, {
    min: 0,
    minExclusive: true,
    allowInfinity: true,
  });
  if (variant === 'spsMax' && !Number.isFinite(etaMax)) {
    checkNumber('polyak', 'etaMax', options.etaMax, { min: 0, minExclusive: true, max: Number.MAX_VALUE });
  }
  const gamma = checkNumber('polyak', 'gamma', options.gamma ?? 2, { min: 1 });
  const nBatchesPerEpoch =
    options.nBatchesPerEpoch === undefined
      ? null
      : checkNumber('polyak', 'nBatchesPerEpoch', options.nBatchesPerEpoch, { min: 1, integer: true });
  const initStepSize = checkNumber('polyak', 'initStepSize', options.initStepSize ?? 1, {
    min: 0,
    minExclusive: true,
  });
  const eps = checkNumber('polyak', 'eps', options.eps ?? 1e-8, { min: 0 });
  return {
    kind: 'polyak',
    config: {
      c,
      fStar,
      variant,
      etaMax: Number.isFinite(etaMax) ? etaMax : null,
      gamma,
      nBatchesPerEpoch,
      initStepSize,
      eps,
    },
    slotNames: [],
    needsLoss: false,
    initSlots: () => [],
    initScalars: () => ({ eta: initStepSize }),
    choose: (ctx, s): StepDecision => {
      const prev = s.eta as number;
      if (Number.isNaN(ctx.loss0)) {
        throw new LrfreeConfigError(
          'polyak: the loss is needed; call minimize(lossFn) (model.fit does), not applyGradients().',
        );
      }
      if (gradNorm(ctx) < GRAD_NORM_EPS) return { eta: 0, along: 'search', info: { polyak: 0 } };
      const slope = groupSlopes(ctx).reduce((a, b) => a + b, 0);
      const gap = ctx.loss0 - fStar;
      const raw = gap > 0 && slope > 0 ? gap / (c * slope + eps) : 0;
      let eta = Math.min(raw, etaMax);
      if (variant === 'smooth') {
        const n = nBatchesPerEpoch ?? ctx.stepsPerEpoch ?? 500;
        eta = Math.min(eta, gamma ** (1 / n) * prev);
      }
      // A zero step (loss at or below f*) is not stored: the smooth bound could never grow again.
      return { eta, along: 'search', scalars: { eta: eta > 0 ? eta : prev }, info: { polyak: raw } };
    },
  };
}

registerStepRule('polyak', (c) => polyak(fromJson(c) as PolyakOptions));
