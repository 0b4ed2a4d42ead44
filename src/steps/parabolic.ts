/**
 * The parabolic step of PAL (Mutschler & Zell, "Parabolic Approximation Line Search for DNNs", NeurIPS
 * 2020; reference PyTorch `PalOptimizer` v1.1): one extra forward at a measuring distance, a parabola
 * through phi(0), the exact slope and that point, and a jump to its vertex.
 */
import * as tf from '@tensorflow/tfjs';
import { registerStepRule } from '../core/registry.js';
import type { LineContext, StepDecision, StepRule } from '../core/types.js';
import { checkKnownKeys, checkNumber, checkOneOf } from '../core/validate.js';

/** Options of {@link parabolic}. */
export interface ParabolicOptions {
  /** Measuring distance mu along the unit direction (good values 0.1 to 1). Default 1 (reference v1.1). */
  mu?: number;
  /** Largest distance s moved along the unit direction. Default 3.16 (reference). */
  sMax?: number;
  /** Update step adaptation alpha: s = alpha * vertex (a loose fit; 1.2-1.7 are good). Default 1/0.6. */
  alpha?: number;
  /** Direction measured and committed along: `search` (adam: P*g) or `update`. Default `search`. */
  along?: 'search' | 'update';
}

/** The option keys this factory takes (the preset of the same name adds its own and the common ones). */
export const PARABOLIC_RULE_KEYS = ['mu', 'sMax', 'alpha', 'along'];

/**
 * PAL step: with u = d/||d|| and phi(s) = loss(w0 - s*u), the slope b = phi'(0) = -<g, d>/||d|| is exact
 * and free; one probe l_mu = phi(mu) gives a = (l_mu - phi(0) - b*mu)/mu^2 for the parabola
 * a*s^2 + b*s + phi(0). Then
 * - b >= 0 (not a descent direction): s = 0, no move;
 * - l_mu not finite: s = 0, no move;
 * - a > 0: s = alpha * (-b/(2a)) (the vertex, loosened by alpha);
 * - a <= 0 (no curvature, or concave): s = mu (the fallback);
 * and s <= sMax. The step commits w = w0 - (s/||d||)*d; `lastStep.eta` reports s/||d||.
 *
 * Cost per step: 1 forward/backward + 1 forward. Under a momentum direction with beta 0.4 this is the
 * reference PAL ("conjugate gradient factor" 0.4).
 *
 * @example
 * ```ts
 * const opt = lrfree.optimizer({ direction: lrfree.directions.momentum({ beta: 0.4 }), step: lrfree.steps.parabolic() });
 * // opt.lastStep.info: { s, a, b, fallback (1 when a <= 0), notDescent, nonFinite }
 * ```
 */
export function parabolic(options: ParabolicOptions = {}): StepRule {
  checkKnownKeys('parabolic', options, PARABOLIC_RULE_KEYS);
  const mu = checkNumber('parabolic', 'mu', options.mu ?? 1, { min: 0, minExclusive: true });
  const sMax = checkNumber('parabolic', 'sMax', options.sMax ?? 3.16, { min: 0, minExclusive: true });
  const alpha = checkNumber('parabolic', 'alpha', options.alpha ?? 1 / 0.6, { min: 0, minExclusive: true });
  const along = checkOneOf('parabolic', 'along', options.along ?? 'search', ['search', 'update']);
  return {
    kind: 'parabolic',
    config: { mu, sMax, alpha, along },
    slotNames: [],
    needsLoss: true,
    initSlots: () => [],
    initScalars: () => ({}),
    choose: (ctx): StepDecision => {
      const { dot, norm } = slopeAndNorm(ctx, along);
      const stay = (info: Record<string, number>): StepDecision => ({
        eta: 0,
        along,
        info: { s: 0, ...info },
      });
      const b = -dot / norm;
      if (!(norm > 0) || !(b < 0)) return stay({ notDescent: 1 });
      const lMu = ctx.phi(mu / norm, along);
      if (lMu === Number.POSITIVE_INFINITY) return stay({ nonFinite: 1 });
      const a = (lMu - ctx.loss0 - b * mu) / (mu * mu);
      const fallback = a > 0 ? 0 : 1;
      const s = Math.min(sMax, a > 0 ? (alpha * -b) / (2 * a) : mu);
      return { eta: s / norm, along, info: { s, a, b, fallback } };
    },
  };
}

/** <g, d> and ||d|| along the chosen direction, read back with one sync. */
function slopeAndNorm(ctx: LineContext, along: 'search' | 'update'): { dot: number; norm: number } {
  const d = along === 'search' ? ctx.search : ctx.update;
  const t = tf.tidy(() =>
    tf.stack([
      tf.addN(ctx.grads.map((g, i) => tf.sum(tf.mul(g, d[i])))),
      tf.addN(d.map((x) => tf.sum(tf.square(x)))),
    ]),
  );
  const [dot, n2] = t.dataSync();
  t.dispose();
  return { dot, norm: Math.sqrt(n2) };
}

registerStepRule('parabolic', (c) => parabolic(c as ParabolicOptions));
