/**
 * KeepVaulting's rule (sources/more-descent-less-gradient.txt, ALGORITHMS.md §7.2): a one-dimensional
 * Newton/secant walk on phi(t) = loss(w0 - t*d), started from the free slope phi'(0) = -<g, d>.
 */
import { registerStepRule } from '../core/registry.js';
import type { StepDecision, StepRule } from '../core/types.js';
import { checkKnownKeys, checkNumber, checkOneOf, FLOAT32_MAX } from '../core/validate.js';

/** Options of {@link vault}. */
export interface VaultOptions {
  /** First trial step t1 (and the unit of the original formula). Default 1e-3 (the post's experiments). */
  lr?: number;
  /** At most maxSteps jumps after the first trial. Default 20 (the post's class default). */
  maxSteps?: number;
  /** Largest t ever probed. Default 1e4 * lr (at most float32's largest number). */
  tMax?: number;
  /** When the first trial phi(lr) is not below phi(0): keep that plain step (false) or do not move. Default false. */
  revertIfWorse?: boolean;
  /**
   * Use the post's jump formula f1 = (L_last - L_prev)/lr, f2 = (L_last - f1)/lr, t += (-f2/f1)*lr
   * (dimensionally wrong, trap T16) instead of the secant Newton step; the bounds still apply. Default false.
   */
  originalFormula?: boolean;
}

/** The option keys this factory takes (the preset of the same name adds its own and the common ones). */
export const VAULT_RULE_KEYS = ['lr', 'maxSteps', 'tMax', 'revertIfWorse', 'originalFormula'];
/** A jump may go to at most GROW times and at least SHRINK times the best t so far. */
const GROW = 4;
const SHRINK = 0.5;
/** Stop when the next jump would move t by less than this fraction. */
const TOL = 1e-3;

/**
 * KeepVaulting: with s0 = <g, d> (phi'(0) = -s0, free), probe t1 = lr. If phi(t1) is not finite, do not
 * move; if it is not below phi(0), keep t1 (or do not move with `revertIfWorse`). Otherwise repeat up to
 * `maxSteps` times:
 * - curvature: first a = 2(phi(t1) - phi(0) + s0*t1)/t1^2 (the parabola through phi(0), phi'(0), phi(t1)),
 *   later the secant second derivative of the last three points (a, b, c):
 *   a = 2(s2 - s1)/(t_c - t_a), s1 = (phi_b - phi_a)/(t_b - t_a), s2 = (phi_c - phi_b)/(t_c - t_b);
 * - jump: a > 0: t* = s0/a at first, then t* = t_c - (s2 + a(t_c - t_b)/2)/a (Newton on the secant model);
 *   a <= 0: t* = 2*t_last (no curvature information: expand);
 * - bounds: t* clamped to [0.5*t_best, 4*t_best] and to tMax; stop when |t* - t_last| < 1e-3*t_last;
 * - probe phi(t*); keep it when below the best, else stop.
 * The step always ends at the best evaluated point (w = w0 - t_best*d). Non-finite losses stop the walk.
 *
 * Cost per step: 1 forward/backward + (1 + jumps) forwards, at most maxSteps + 1.
 *
 * @example
 * ```ts
 * const opt = lrfree.optimizer({ direction: lrfree.directions.sgd(), step: lrfree.steps.vault({ lr: 1e-3 }) });
 * // opt.lastStep.info: { evaluations, curvature (last a), notDescent }
 * ```
 */
export function vault(options: VaultOptions = {}): StepRule {
  checkKnownKeys('vault', options, VAULT_RULE_KEYS);
  const lr = checkNumber('vault', 'lr', options.lr ?? 1e-3, { min: 0, minExclusive: true });
  const maxSteps = checkNumber('vault', 'maxSteps', options.maxSteps ?? 20, {
    min: 0,
    max: 10000,
    integer: true,
  });
  // The default cap, 1e4 lr, stays a float32 number however large lr is.
  const tMax = checkNumber('vault', 'tMax', options.tMax ?? Math.min(1e4 * lr, FLOAT32_MAX), { min: lr });
  const revertIfWorse = checkOneOf('vault', 'revertIfWorse', options.revertIfWorse ?? false, [true, false]);
  const originalFormula = checkOneOf('vault', 'originalFormula', options.originalFormula ?? false, [
    true,
    false,
  ]);
  return {
    kind: 'vault',
    config: { lr, maxSteps, tMax, revertIfWorse, originalFormula },
    slotNames: [],
    needsLoss: true,
    initSlots: () => [],
    initScalars: () => ({}),
    choose: (ctx): StepDecision => {
      const s0 = ctx.gradDotSearch();
      const done = (eta: number, info: Record<string, number>): StepDecision => ({
        eta,
        along: 'search',
        info: { evaluations: ctx.probes, ...info },
      });
      // -d is not a descent direction (or g = 0): nothing to vault along.
      if (!(s0 > 0)) return done(0, { notDescent: 1 });
      const ts = [0, lr];
      const ls = [ctx.loss0, ctx.phi(lr, 'search')];
      if (ls[1] === Number.POSITIVE_INFINITY) return done(0, {});
      if (!(ls[1] < ctx.loss0)) return done(revertIfWorse ? 0 : lr, {});
      let best = 1;
      let a = (2 * (ls[1] - ctx.loss0 + s0 * lr)) / (lr * lr);
      for (let it = 0; it < maxSteps; it++) {
        const n = ts.length;
        const tLast = ts[n - 1];
        let next: number;
        if (originalFormula) {
          const f1 = (ls[n - 1] - ls[n - 2]) / lr;
          const f2 = (ls[n - 1] - f1) / lr;
          next = tLast + (-f2 / f1) * lr;
        } else {
          if (it > 0) a = secantCurvature(ts.slice(-3), ls.slice(-3));
          if (a > 0) {
            next =
              it === 0
                ? s0 / a
                : tLast - ((ls[n - 1] - ls[n - 2]) / (tLast - ts[n - 2]) + (a * (tLast - ts[n - 2])) / 2) / a;
          } else {
            next = 2 * tLast;
          }
        }
        if (!Number.isFinite(next)) break;
        const tBest = ts[best];
        next = Math.min(tMax, Math.max(SHRINK * tBest, Math.min(GROW * tBest, next)));
        if (Math.abs(next - tLast) < TOL * tLast) break;
        const loss = ctx.phi(next, 'search');
        ts.push(next);
        ls.push(loss);
        if (!(loss < ls[best])) break;
        best = ts.length - 1;
      }
      return done(ts[best], { curvature: a, best: ls[best] });
    },
  };
}

/** Second derivative of the parabola through three points (any order, distinct t). */
export function secantCurvature(t: readonly number[], l: readonly number[]): number {
  const s1 = (l[1] - l[0]) / (t[1] - t[0]);
  const s2 = (l[2] - l[1]) / (t[2] - t[1]);
  return (2 * (s2 - s1)) / (t[2] - t[0]);
}

registerStepRule('vault', (c) => vault(c as VaultOptions));
