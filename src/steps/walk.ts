/**
 * The walk rule (sources/walk-forum-post.txt, ALGORITHMS.md §6): one gradient, K step sizes tried along
 * it, the best point kept, the grid re-centred on the winner.
 */
import { registerStepRule } from '../core/registry.js';
import type { StepDecision, StepRule } from '../core/types.js';
import { checkKnownKeys, checkNumber, checkOneOf, LrfreeConfigError } from '../core/validate.js';

/** Options of {@link walk}. */
export interface WalkOptions {
  /** Initial grid centre eta_center. Default 1e-2 (better: a learning-rate range test value). */
  eta0?: number;
  /** Grid ratio r > 1: candidates are eta_center * r^j. Default 2. */
  ratio?: number;
  /** Half width m, an integer >= 1: j = -m..m, K = 2m + 1 candidates. Default 2 (K = 5). */
  halfWidth?: number;
  /** Walk every n-th step (steps 1, 1+n, 1+2n, ...); plain steps at eta_center in between. Default 1. */
  walkEvery?: number;
  /** Lower clamp of every candidate and of the centre. Default 1e-8. */
  etaMin?: number;
  /** Upper clamp of every candidate and of the centre. Default 1e3. */
  etaMax?: number;
  /**
   * Count "do not move" (eta = 0, loss phi(0)) as a candidate: when no candidate beats phi(0) the weights
   * stay and the grid jumps below itself. Default true.
   */
  includeZero?: boolean;
  /**
   * Parabolic refinement: fit a parabola to (log eta, loss) at the winner and its two neighbours, probe its
   * vertex (1 more forward) and keep it when it is better. Default false.
   */
  refine?: boolean;
  /**
   * Direction the candidates lie on and the step commits along: `update` (sgd: g; adam: P*m-hat, as §6
   * specifies) or `search` (adam: P*g). Default `update`.
   */
  along?: 'update' | 'search';
}

/** The option keys this factory takes (the preset of the same name adds its own and the common ones). */
export const WALK_RULE_KEYS = [
  'eta0',
  'ratio',
  'halfWidth',
  'walkEvery',
  'etaMin',
  'etaMax',
  'includeZero',
  'refine',
  'along',
];

/**
 * Walk: at a walking step, evaluate phi at the K = 2m+1 candidates
 * eta_j = clamp(eta_center * r^j, etaMin, etaMax), j = -m..m (one forward each, read back with a single
 * sync), and keep the argmin (ties go to the smaller eta; non-finite losses never win). If no candidate
 * beats phi(0) (with `includeZero`), do not move and set eta_center <- eta_center * r^-(m+1); otherwise
 * move to the winner and re-centre eta_center <- eta_winner. A boundary winner moves the grid by r^m, so
 * any scale is reached in O(log) steps. Between walking steps (`walkEvery` n > 1) a plain step at
 * eta_center is taken (no probe).
 *
 * Cost per step: 1 forward/backward + K forwards (+1 with `refine`) when walking, 1 F/B otherwise;
 * on average 1 F/B + K/n F.
 *
 * @example
 * ```ts
 * const opt = lrfree.optimizer({ direction: lrfree.directions.sgd(), step: lrfree.steps.walk({ eta0: 0.01 }) });
 * // opt.lastStep.info: { walked, index (winner j, or NaN when it did not move), candidates, refined }
 * ```
 */
export function walk(options: WalkOptions = {}): StepRule {
  checkKnownKeys('walk', options, WALK_RULE_KEYS, 'steps.walk');
  const eta0 = checkNumber('walk', 'eta0', options.eta0 ?? 1e-2, { min: 0, minExclusive: true });
  const ratio = checkNumber('walk', 'ratio', options.ratio ?? 2, { min: 1, minExclusive: true });
  const m = checkNumber('walk', 'halfWidth', options.halfWidth ?? 2, { min: 1, max: 50, integer: true });
  const walkEvery = checkNumber('walk', 'walkEvery', options.walkEvery ?? 1, { min: 1, integer: true });
  const etaMin = checkNumber('walk', 'etaMin', options.etaMin ?? 1e-8, { min: 0, minExclusive: true });
  if (options.etaMax === undefined && etaMin > 1e3) {
    // Name the option the caller gave, not the default it collides with.
    throw new LrfreeConfigError(
      `walk: etaMin = ${etaMin} is not allowed with the default etaMax = 1000; etaMin must be at most etaMax: give etaMax too.`,
    );
  }
  const etaMax = checkNumber('walk', 'etaMax', options.etaMax ?? 1e3, { min: etaMin });
  const includeZero = checkOneOf('walk', 'includeZero', options.includeZero ?? true, [true, false]);
  const refine = checkOneOf('walk', 'refine', options.refine ?? false, [true, false]);
  const along = checkOneOf('walk', 'along', options.along ?? 'update', ['update', 'search']);
  if (eta0 < etaMin || eta0 > etaMax) {
    throw new LrfreeConfigError(
      `walk: eta0 = ${eta0}${options.eta0 === undefined ? ' (the default)' : ''} is not allowed; eta0 must be in [etaMin, etaMax] = [${etaMin}, ${etaMax}].`,
    );
  }
  const clamp = (e: number) => Math.min(etaMax, Math.max(etaMin, e));
  return {
    kind: 'walk',
    config: { eta0, ratio, halfWidth: m, walkEvery, etaMin, etaMax, includeZero, refine, along },
    slotNames: [],
    needsLoss: true,
    initSlots: () => [],
    initScalars: () => ({ etaCenter: eta0 }),
    choose: (ctx, s): StepDecision => {
      const center = s.etaCenter as number;
      if ((ctx.step - 1) % walkEvery !== 0) {
        return { eta: center, along, info: { walked: 0 } };
      }
      const etas: number[] = [];
      for (let j = -m; j <= m; j++) etas.push(clamp(center * ratio ** j));
      const losses = ctx.phiMany(etas, along);
      // Candidates in increasing eta: a strict '<' keeps the smaller eta on ties; +Infinity never wins.
      let best = -1;
      for (let j = 0; j < losses.length; j++) {
        if (losses[j] < Number.POSITIVE_INFINITY && (best < 0 || losses[j] < losses[best])) best = j;
      }
      const K = etas.length;
      if (best < 0 || (includeZero && !(losses[best] < ctx.loss0))) {
        return {
          eta: 0,
          along,
          scalars: { etaCenter: clamp(center * ratio ** -(m + 1)) },
          info: { walked: 1, index: Number.NaN, candidates: K, refined: 0 },
        };
      }
      let eta = etas[best];
      let refined = 0;
      if (refine && best > 0 && best < K - 1) {
        const v = parabolaVertexLog(
          etas[best - 1],
          etas[best],
          etas[best + 1],
          losses.slice(best - 1, best + 2),
        );
        if (v !== undefined && Math.abs(v - eta) > 1e-6 * eta) {
          const lv = ctx.phi(v, along);
          if (lv < losses[best]) {
            eta = v;
            refined = 1;
          }
        }
      }
      return {
        eta,
        along,
        scalars: { etaCenter: clamp(eta) },
        info: { walked: 1, index: best - m, candidates: K, refined },
      };
    },
  };
}

/**
 * Vertex of the parabola through (log e_i, l_i), i = 0..2, clamped to [e0, e2]; undefined when the three
 * points are not convex (or not distinct, e.g. clamped candidates).
 */
export function parabolaVertexLog(
  e0: number,
  e1: number,
  e2: number,
  l: readonly number[],
): number | undefined {
  const [x0, x1, x2] = [Math.log(e0), Math.log(e1), Math.log(e2)];
  if (!(x0 < x1 && x1 < x2) || !l.every(Number.isFinite)) return undefined;
  const s1 = (l[1] - l[0]) / (x1 - x0);
  const s2 = (l[2] - l[1]) / (x2 - x1);
  const curv = (s2 - s1) / (x2 - x0); // half the second derivative
  if (!(curv > 0)) return undefined;
  // Newton interpolant l(x) = l0 + s1 (x - x0) + curv (x - x0)(x - x1): zero derivative at the vertex.
  const xv = (x0 + x1) / 2 - s1 / (2 * curv);
  return Math.exp(Math.min(x2, Math.max(x0, xv)));
}

registerStepRule('walk', (c) => walk(c as WalkOptions));
