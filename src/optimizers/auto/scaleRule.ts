/**
 * auto()'s scale rule: the step-1 calibration on a ladder of probes, the determinism test at step 2, then
 * per regime the guard and plateau halvings (noisy), the Armijo checks with a parabolic re-centre, or the
 * measure (and, at a non-finite loss, the shortening) of conjugate gradients' move (deterministic).
 * Registered as 'autoScale' so that saved states rebuild it.
 */
import { registerStepRule } from '../../core/registry.js';
import type { LineContext, ScalarState, StepDecision, StepRule } from '../../core/types.js';
import type { AutoDeterministicDirection } from './conjugate.js';
import { AUTO_REASONS, AUTO_REGIMES } from './constants.js';
import { dotAll, recentre } from './line.js';

/** Armijo constant of the check, and the "wide margin" constant. */
const ARMIJO_C = 0.1;
const WIDE_C = 0.7;
/** The calibration ladder (per-weight movement of the clipped Adam direction). */
const LADDER = [1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1];

/** The plateau checks' first step (then steps 2x, 4x, ... its value: geometric windows). */
const PLATEAU_FIRST = 50;
/** The relative fall of the smoothed loss a plateau window must show, else the scale halves. */
const PLATEAU_FALL = 0.01;

/** The fractions of a move tried when the whole of it lands where the loss is not finite. */
const SHORTER = [0.1, 0.01];

/** Smoothing of the training loss watched by the noisy regime's guard (an exponential average). */
const GUARD_SMOOTHING = 0.1;

/**
 * Two losses of the same weights agree to float32 round-off (relative): the determinism test. Mini-batch
 * noise is orders of magnitude larger; the tolerance covers weights that differ by round-off only.
 */
const SAME_LOSS_RTOL = 1e-5;

/** Which move the occasional check tests (an ingredient; see {@link AutoIngredients.checkMove}). */
export type AutoCheckMove = 'line' | 'y' | 'update';

/** The scale rule's settings (saved in its config). */
interface AutoScaleConfig {
  /** Steps between checks once the scale is stable; Infinity: never check after step 1. */
  probeEvery: number;
  /** The step is `gain` times the step the line check is made at (see docs/auto.md, "gain"). */
  gain: number;
  /** Calibrate on the ladder at step 1; off: start at {@link UNCALIBRATED_START} and rely on the checks. */
  calibrate: boolean;
  /** Which move the checks test (default 'line'). */
  checkMove: AutoCheckMove;
  /**
   * Tell deterministic from noisy losses (step 2) and, when deterministic, check the committed move at
   * every step and let the average forget (see {@link AUTO_REGIMES}). Off: every loss is treated as noisy.
   */
  regimes: boolean;
  /**
   * The checks in the noisy regime: 'plateau' (default), a guard against a rising loss plus a halving when
   * the smoothed loss stops falling ({@link AUTO_REASONS}.plateau); 'none', the guard alone; Armijo; or
   * 'decrease', a cut only when the checked step does not lower the batch's loss.
   */
  noisyChecks: AutoNoisyChecks;
  /** What the every-step check of the deterministic regime tests (default 'update'). */
  deterministicCheck: 'update' | 'line';
  /** The deterministic regime's direction; 'cg' needs no check from the rule (its own secant step). */
  deterministicDirection: AutoDeterministicDirection;
}

/** How the scale is checked on a noisy loss (an ingredient; see {@link AutoIngredients.noisyChecks}). */
export type AutoNoisyChecks = 'armijo' | 'none' | 'decrease' | 'plateau';

/** The start scale of the no-calibration ablation: Adam's customary 1e-3. */
const UNCALIBRATED_START = 1e-3;

/**
 * The scale rule: calibration ladder, then an occasional Armijo check with a parabolic re-centre. The
 * scale is the step's eta; the line checks are made at eta / gain.
 */
export function autoScaleRule(config: AutoScaleConfig): AutoScaleRule {
  const { probeEvery, gain, calibrate, checkMove, regimes, noisyChecks, deterministicCheck } = config;
  const { deterministicDirection } = config;
  const rule: AutoScaleRule = {
    kind: 'autoScale',
    yShare: () => 1,
    // Saved as given, but Infinity (never check) as null: JSON has no Infinity.
    config: { ...config, probeEvery: Number.isFinite(probeEvery) ? probeEvery : null },
    slotNames: [],
    needsLoss: true,
    initSlots: () => [],
    initScalars: () => ({
      scale: calibrate ? 0 : UNCALIBRATED_START,
      nextProbe: calibrate ? 1 : 2,
      regime: regimes ? AUTO_REGIMES.unknown : AUTO_REGIMES.noisy,
      // The loss of the weights this step commits, on this step's batch (to compare at the next step).
      pending: 0,
      hasPending: 0,
    }),
    choose: (ctx: LineContext, saved: Readonly<ScalarState>): StepDecision => {
      // The determinism test: this step's weights were the last step's committed ones; the same loss on
      // this batch as on the last one means there is no batch noise (full batch, no dropout).
      let regime = (saved.regime as number | undefined) ?? AUTO_REGIMES.noisy;
      if (regime !== AUTO_REGIMES.noisy && saved.hasPending) {
        regime = sameLoss(ctx.loss0, saved.pending as number)
          ? AUTO_REGIMES.deterministic
          : AUTO_REGIMES.noisy;
      }
      const scalars: ScalarState = { ...saved, regime, hasPending: 0 };
      const decision = chooseIn(ctx, scalars, regime);
      return { ...decision, info: { ...decision.info, regime } };
    },
  };
  function chooseIn(ctx: LineContext, scalars: ScalarState, regime: number): StepDecision {
    const scale = scalars.scale as number;
    const step = ctx.step;
    const keep = { eta: 1, along: 'update' as const, reported: 1, scalars };
    const deterministic = regime === AUTO_REGIMES.deterministic;
    const noChecks =
      !Number.isFinite(probeEvery) ||
      (regime === AUTO_REGIMES.noisy && (noisyChecks === 'none' || noisyChecks === 'plateau'));
    if (scale > 0 && noChecks && regime === AUTO_REGIMES.noisy) {
      return guard(ctx.loss0, scalars, scale);
    }
    if (scale > 0 && !deterministic && (step < (scalars.nextProbe as number) || noChecks)) {
      return { ...keep, info: { reason: AUTO_REASONS.none, next: scale } };
    }
    if (deterministic && scale > 0 && deterministicDirection === 'cg') {
      // Conjugate gradients choose their own step (a secant from one extra gradient) and backtrack; the
      // rule only measures the committed weights' loss, the next step's determinism test (one forward).
      const phi = Number.isFinite(ctx.loss0) ? ctx.phi(1, 'update') : Number.NaN;
      if (Number.isFinite(phi) || !Number.isFinite(ctx.loss0)) {
        return {
          ...keep,
          scalars: { ...scalars, pending: phi, hasPending: Number.isFinite(phi) ? 1 : 0, cgFraction: 1 },
          info: { reason: AUTO_REASONS.none, next: scale },
        };
      }
      // The move lands where the loss is not finite (a domain edge: a log or a sqrt of the weights). A
      // skipped step could not undo it (no step runs at such weights), so it is not taken whole: the
      // largest fraction whose loss is finite and no higher; none, and the next step starts afresh from a
      // smaller scale. The direction learns the fraction from `cgFraction`.
      const phis = ctx.phiMany(SHORTER, 'update');
      const i = phis.findIndex((p) => p <= ctx.loss0);
      const fraction = i >= 0 ? SHORTER[i] : 0;
      const next = fraction > 0 ? scale : scale / 100;
      return {
        eta: fraction,
        along: 'update',
        reported: fraction,
        scalars: {
          ...scalars,
          scale: next,
          pending: i >= 0 ? phis[i] : Number.NaN,
          hasPending: i >= 0 ? 1 : 0,
          cgFraction: fraction,
        },
        info: { reason: AUTO_REASONS.shortened, next },
      };
    }
    const phi0 = ctx.loss0;
    if (deterministic && scale > 0 && deterministicCheck === 'update' && Number.isFinite(phi0)) {
      // No noise: check the move the step commits, at every step (its loss is also the next step's
      // determinism test). The scale is the step's own.
      const s = updateSlope(ctx);
      if (!(s > 0)) {
        return { ...keep, info: { reason: AUTO_REASONS.none, next: scale } };
      }
      const phi = ctx.phi(1, 'update');
      const d = decide(scalars, scale, 1, phi0, s, phi, step, 1);
      return { ...d, scalars: { ...d.scalars, nextProbe: step + 1, pending: phi, hasPending: 1 } };
    }
    const slope = ctx.gradDotSearch(); // -phi'(0) along -u; > 0 for a descent direction
    if (!(slope > 0) || !Number.isFinite(phi0)) {
      return {
        ...keep,
        scalars: { ...scalars, nextProbe: step + 1 },
        info: { reason: AUTO_REASONS.none, next: scale },
      };
    }
    if (scale === 0) {
      // Calibration: the largest ladder step that satisfies Armijo and does best, refined by a parabola.
      const phis = ctx.phiMany(LADDER);
      let best = -1;
      for (let i = 0; i < LADDER.length; i++) {
        const ok = phis[i] <= phi0 - ARMIJO_C * LADDER[i] * slope;
        if (ok && (best < 0 || phis[i] <= phis[best])) best = i;
      }
      const line = best < 0 ? LADDER[0] / 10 : recentre(LADDER[best], phi0, slope, phis[best], 0.5, 2);
      const eta = gain * line;
      // The calibration step does not move: its loss is the next step's point's loss on this batch.
      const test: ScalarState =
        scalars.regime === AUTO_REGIMES.unknown ? { pending: phi0, hasPending: 1 } : {};
      return {
        ...keep,
        scalars: { ...scalars, scale: eta, nextProbe: step + 1, startLoss: phi0, lossAvg: phi0, ...test },
        info: { reason: AUTO_REASONS.calibrated, next: eta, probes: LADDER.length },
      };
    }
    if (deterministic && deterministicCheck === 'line') {
      const at = scale / gain;
      const d = decide(scalars, scale, at, phi0, slope, ctx.phi(at), step, gain);
      return { ...d, scalars: { ...d.scalars, nextProbe: step + 1 } };
    }
    // The check: Armijo on the move it tests, `at` along -u (or the committed update, at 1).
    let at = scale / gain;
    let phi: number;
    let checkSlope = slope;
    if (checkMove === 'update') {
      checkSlope = updateSlope(ctx);
      if (!(checkSlope > 0)) {
        return {
          ...keep,
          scalars: { ...scalars, nextProbe: step + 1 },
          info: { reason: AUTO_REASONS.none, next: scale },
        };
      }
      at = 1;
      phi = ctx.phi(1, 'update');
    } else {
      if (checkMove === 'y') at = scale * rule.yShare();
      phi = ctx.phi(at);
    }
    const armijo = regime === AUTO_REGIMES.noisy && noisyChecks === 'decrease' ? 0 : ARMIJO_C;
    return decide(scalars, scale, at, phi0, checkSlope, phi, step, checkMove === 'line' ? gain : 1, armijo);
  }
  /**
   * The noisy regime without checks: no probe, only a guard against a scale that makes training worse.
   * The smoothed mini-batch loss rising to twice (by the start's magnitude) the loss at calibration halves
   * the scale; the average restarts from the start's value, so a loss that stays high halves it again.
   */
  function guard(loss: number, scalars: ScalarState, scale: number): StepDecision {
    const start = (scalars.startLoss as number | undefined) ?? loss;
    const prev = (scalars.lossAvg as number | undefined) ?? start;
    const avg = Number.isFinite(loss) ? prev + GUARD_SMOOTHING * (loss - prev) : prev;
    const rose = avg - start > Math.max(Math.abs(start), 1e-30);
    let next = rose ? scale / 2 : scale;
    // 'plateau' (the default): after PLATEAU_FIRST, 2x, 4x, ... guarded steps the smoothed loss must have
    // fallen by PLATEAU_FALL since the last such step, else the scale halves (an annealing without a
    // horizon: geometric windows allow log2(steps / PLATEAU_FIRST) halvings at most).
    const plateau: ScalarState = {};
    let flat = false;
    if (noisyChecks === 'plateau') {
      const at = (scalars.plateauAt as number | undefined) ?? PLATEAU_FIRST;
      const ref = (scalars.plateauRef as number | undefined) ?? Number.NaN;
      const steps = ((scalars.guardSteps as number | undefined) ?? 0) + 1;
      plateau.guardSteps = steps;
      if (steps >= at) {
        flat = !rose && Number.isFinite(ref) && avg > ref - PLATEAU_FALL * Math.abs(ref);
        if (flat) next = scale / 2;
        plateau.plateauRef = avg;
        plateau.plateauAt = 2 * at;
      }
    }
    const reason = rose ? AUTO_REASONS.lossRose : flat ? AUTO_REASONS.plateau : AUTO_REASONS.none;
    return {
      eta: 1,
      along: 'update',
      reported: 1,
      scalars: { ...scalars, ...plateau, scale: next, lossAvg: rose ? start : avg, startLoss: start },
      info: { reason, next },
    };
  }
  /**
   * Re-centre the scale from one check of the move `at` along the checked direction: the scale is `per`
   * times the step that direction's line step maps to (`per` = gain for the line check, 1 otherwise).
   */
  function decide(
    scalars: ScalarState,
    scale: number,
    at: number,
    phi0: number,
    slope: number,
    phi: number,
    step: number,
    per: number,
    armijo = ARMIJO_C,
  ): StepDecision {
    const toScale = scale / (per * at);
    let next = scale;
    let reason: number = AUTO_REASONS.checkedOk;
    let nextProbe = step + probeEvery;
    if (!(phi <= phi0 - armijo * at * slope)) {
      next = per * toScale * recentre(at, phi0, slope, phi, 0.1, 0.5);
      reason = AUTO_REASONS.armijoFailed;
      nextProbe = step + 1;
    } else if (phi <= phi0 - WIDE_C * at * slope) {
      next = per * toScale * recentre(at, phi0, slope, phi, 1.25, 2);
      reason = AUTO_REASONS.wideMargin;
      nextProbe = step + Math.min(2, probeEvery);
    }
    return {
      eta: 1,
      along: 'update',
      reported: 1,
      scalars: { ...scalars, scale: next, nextProbe },
      info: { reason, next, ratio: (phi0 - phi) / (at * slope) },
    };
  }
  return rule;
}

/** The scale rule, with the link to its direction's y share (set by {@link AutoOptimizer}). */
export interface AutoScaleRule extends StepRule {
  yShare: () => number;
}

/** Two losses of the same weights (see {@link SAME_LOSS_RTOL}). */
function sameLoss(a: number, b: number): boolean {
  return (
    Number.isFinite(a) &&
    Number.isFinite(b) &&
    Math.abs(a - b) <= SAME_LOSS_RTOL * Math.max(Math.abs(a), Math.abs(b))
  );
}

/** <g, update> over all tensors: -phi'(0) along the committed move. */
function updateSlope(ctx: LineContext): number {
  return dotAll(ctx.grads, ctx.update);
}

registerStepRule('autoScale', (c) =>
  autoScaleRule({
    probeEvery: (c.probeEvery as number | null) ?? Number.POSITIVE_INFINITY,
    gain: (c.gain as number | undefined) ?? 1,
    calibrate: (c.calibrate as boolean | undefined) ?? true,
    checkMove: (c.checkMove as AutoCheckMove | undefined) ?? 'line',
    regimes: (c.regimes as boolean | undefined) ?? false,
    // States saved before the plateau halving existed ran the guard alone.
    noisyChecks: (c.noisyChecks as AutoNoisyChecks | undefined) ?? 'none',
    deterministicCheck: (c.deterministicCheck as 'update' | 'line' | undefined) ?? 'update',
    // States saved before conjugate gradients existed ran the Schedule-Free direction.
    deterministicDirection: (c.deterministicDirection as AutoDeterministicDirection | undefined) ?? 'sf',
  }),
);
