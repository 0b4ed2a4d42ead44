/** Per-layer line search (PLASLS, Kenneweg et al. 2023; ALGORITHMS.md §2.2): one step size per group. */
import { createStepRule, registerStepRule } from '../core/registry.js';
import type { ComponentConfig, StepDecision } from '../core/types.js';
import { checkKnownKeys, checkNumber, checkOneOf, LrfreeConfigError } from '../core/validate.js';
import { searchOnce } from './armijo.js';
import { groupSlopes, type LineSearchRule, resetStep } from './lineSearchCommon.js';

/** Options of {@link perLayer}. */
export interface PerLayerOptions {
  /**
   * `cycle` (default, the reference): one group searched per step, round robin; `all`: every group
   * searched at every step (G searches per step).
   */
  strategy?: 'cycle' | 'all';
  /**
   * Warm-up steps searched jointly (one eta for all groups, test with s = sum of s_l); afterwards per
   * group. Default 6 with `plaslsVariant: 'newer'` (the reference's newer code), 1 with `'paper'`.
   */
  jointSteps?: number;
  /**
   * Which of the reference's two versions (ALGORITHMS.md §2.2). `newer` (default): the searched group j
   * moves alone from w (others at w), the test uses s_j, and every group then takes its momentum step.
   * `paper` ("adam_sls paper version"): groups are visited in order, so the groups before j already
   * stand at their committed points while j is searched; the test uses the total s = sum_l s_l; a
   * searched group (and every group on a joint step) ends at its trial point along the search direction
   * (no momentum step).
   */
  plaslsVariant?: 'newer' | 'paper';
}

/**
 * Per-layer line search: one step size eta_l per parameter group (layer). Every step first resets each
 * eta_l by the wrapped rule's reset rule. Then, with d-bar_l = d on group l and 0 elsewhere and
 * s_l = <g_l, d_l>, the searched group j runs the wrapped rule's 1-D search on
 *
 *     phi_j(eta) = f_B(w - eta*d-bar_j)   with test   phi_j(eta) <= f_B(w) - c*eta*s_j
 *
 * (the idealised per-layer criterion: the other groups held at w). `cycle` searches group
 * j = (k - jointSteps - 1) mod G at step k; `all` searches every group, each from w. During the first
 * `jointSteps` steps a single eta is searched for all groups jointly (s = sum_l s_l) and copied to each.
 * The step commits w_l <- w_l - eta_l*update_l for every group (AdamSLS: the momentum step). A group
 * whose search failed takes the rule's fallback step. `lastStep.eta` is the per-group array.
 *
 * `plaslsVariant: 'paper'` follows the reference's paper version instead: the trial point of group j
 * has the groups before j at their committed points (w_l - eta_l*update_l, or a searched group's trial
 * point), group j at w_j - eta*d_j and the groups after j at w; the test uses s = sum_l s_l; searched
 * groups and joint steps end at the accepted trial point (along d, no momentum step). Differences from
 * the reference code: a failed search takes the rule's fallback step along d (the reference moves
 * 1e-10 along the raw gradient), and the ||g|| < 1e-8 guard is on the whole gradient, not the group's.
 *
 * Cost per step: 1 forward/backward + the searched group's trials (`cycle`), or all groups' (`all`).
 *
 * @param rule an `armijo(...)` or `goldstein(...)` rule: its c, betaB, reset options and trial budget apply.
 * @example
 * ```ts
 * const step = lrfree.perLayer(lrfree.armijo({ c: 0.1, initStepSize: 0.1 }), { strategy: 'cycle' });
 * const opt = lrfree.optimizer({ direction: lrfree.directions.adam(), step, model });
 * ```
 */
export function perLayer(rule: LineSearchRule, options: PerLayerOptions = {}): LineSearchRule {
  if (!rule || typeof rule.lineSearch?.search !== 'function') {
    throw new LrfreeConfigError(
      `perLayer: rule must be a line search built by armijo() or goldstein(); got '${String(rule?.kind)}'.`,
    );
  }
  checkKnownKeys('perLayer', options, ['strategy', 'jointSteps', 'plaslsVariant']);
  const strategy = checkOneOf('perLayer', 'strategy', options.strategy ?? 'cycle', ['cycle', 'all']);
  const variant = checkOneOf('perLayer', 'plaslsVariant', options.plaslsVariant ?? 'newer', [
    'newer',
    'paper',
  ]);
  const paper = variant === 'paper';
  const jointSteps = checkNumber('perLayer', 'jointSteps', options.jointSteps ?? (paper ? 1 : 6), {
    min: 0,
    integer: true,
  });
  const parts = rule.lineSearch;
  const init = parts.reset.initStepSize;
  return {
    kind: 'perLayer',
    config: { rule: { kind: rule.kind, config: rule.config }, strategy, jointSteps, plaslsVariant: variant },
    lineSearch: parts,
    slotNames: [],
    needsLoss: true,
    initSlots: () => [],
    initScalars: (groups) => ({ etas: groups.map(() => init), failures: 0 }),
    choose: (ctx, s): StepDecision => {
      const G = ctx.groups.length;
      let stored = [...(s.etas as number[])];
      // A different variable list than at initialisation: start every group afresh.
      if (stored.length !== G) stored = ctx.groups.map(() => init);
      const etas = stored.map((e) => resetStep(parts.reset, e, ctx.step, ctx.stepsPerEpoch));
      const initial = [...etas];
      const commit = [...etas];
      const next = [...etas];
      // Where each group ends: its momentum update, or (paper variant, searched groups) its trial point.
      const along: ('search' | 'update')[] = ctx.groups.map(() => parts.commitAlong);
      const slopes = groupSlopes(ctx);
      let failures = s.failures as number;
      let trials = 0;
      let searched = -1;
      if (ctx.step <= jointSteps || G === 1) {
        const total = slopes.reduce((a, b) => a + b, 0);
        const r = searchOnce(ctx, parts.search, etas[0], (eta) => ctx.phi(eta), total);
        commit.fill(r.eta);
        next.fill(r.stored);
        if (paper) along.fill('search');
        trials = r.trials;
        failures += r.failed ? 1 : 0;
      } else {
        const order =
          strategy === 'cycle' ? [(ctx.step - jointSteps - 1) % G] : Array.from({ length: G }, (_, l) => l);
        const total = slopes.reduce((a, b) => a + b, 0);
        for (const j of order) {
          // newer: group j alone moves from w. paper: groups before j stand at their committed points.
          const only = (eta: number) => ctx.phi(etas.map((_, l) => (l === j ? eta : 0)));
          const afterEarlier = (eta: number) =>
            ctx.phi(
              commit.map((e, l) => (l < j ? e : l === j ? eta : 0)),
              along.map((a, l) => (l === j ? 'search' : a)),
            );
          const r = paper
            ? searchOnce(ctx, parts.search, etas[j], afterEarlier, total)
            : searchOnce(ctx, parts.search, etas[j], only, slopes[j]);
          commit[j] = r.eta;
          next[j] = r.stored;
          if (paper) along[j] = 'search';
          trials += r.trials;
          failures += r.failed ? 1 : 0;
        }
        if (order.length === 1) searched = order[0];
      }
      return {
        eta: commit,
        along: paper ? along : parts.commitAlong,
        scalars: { etas: next, failures },
        info: {
          trials,
          searchedGroup: searched,
          failures,
          ...Object.fromEntries(initial.map((e, l) => [`initialEta${l}`, e])),
        },
      };
    },
  };
}

registerStepRule('perLayer', (c: ComponentConfig) =>
  perLayer(createStepRule(c.rule) as LineSearchRule, {
    strategy: c.strategy as PerLayerOptions['strategy'],
    jointSteps: c.jointSteps as number,
    // Configs saved before the option existed have no key: the behaviour then was `newer`.
    plaslsVariant: (c.plaslsVariant as PerLayerOptions['plaslsVariant']) ?? 'newer',
  }),
);
