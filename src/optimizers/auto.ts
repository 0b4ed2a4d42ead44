/**
 * `lrfree.auto()`: the one optimizer with no knobs (issue 18, item 2). A prototype: measured on the quick
 * suite; the benchmark v2 standard suite judges it (docs/auto.md).
 *
 * Design: a Schedule-Free base (z, x, y; evaluate at x) stepping z along a clipped Adam direction
 * u = g/(sqrt(v-hat) + eps), eps relative to the tensor's gradient RMS (so u does not depend on the scale
 * of the loss), with u scaled so its per-tensor RMS is at most 1, times a scale eta. The scale is not
 * guessed: the first step calibrates it by probing the loss along -u on a ladder of step sizes (no move),
 * at gain 1.5 times the line step (y moves only part of z's step). Step 2 sees the same weights on the next
 * batch and so tells a deterministic loss from a noisy one (AUTO_REGIMES):
 * - noisy (mini-batches): the calibrated scale is kept, guarded by a halving when the smoothed loss rises to
 *   twice its calibration value, and by a halving when it fell by less than 1% over a window (after 50,
 *   100, 200, ... steps: geometric windows, no horizon). Armijo checks on one mini-batch pulled it too
 *   low; `probeEvery` turns them back on;
 * - deterministic (full batch): from step 3, nonlinear conjugate gradients on Adam's metric with a secant
 *   step from one extra gradient, a backtrack along the last direction when the loss did not fall enough
 *   (step 2's move included), and the best point seen as the evaluation point (no averaging: it is for
 *   noise). The ingredient `deterministicDirection: 'sf'` keeps Schedule-Free there instead, with an Armijo
 *   check of the committed move every step and x weighing the newest z by at least 0.2.
 * Decoupled weight decay at y: AUTO_WEIGHT_DECAY on a noisy loss by default, none on a deterministic one. In the noisy regime a check's scale takes effect from
 * the next step (the step's own update is computed before its probe); the calibration step moves nothing.
 */
import * as tf from '@tensorflow/tfjs';
import { FUSED_AUTO, type FusedAutoAttrs, fusedAutoAvailable } from '../core/fusedAutoKernel.js';
import type { LossFn } from '../core/optimizer.js';
import { registerDirection, registerStepRule } from '../core/registry.js';
import type {
  DirectionContext,
  DirectionResult,
  LineContext,
  ScalarState,
  StepDecision,
  StepRule,
} from '../core/types.js';
import { checkKnownKeys, checkNumber } from '../core/validate.js';
import { committedPoint, type EvalPointDirection, EvalPointOptimizer } from './evalPointMethod.js';
import { type MethodCommonOptions, splitCommon } from './methodCommon.js';

/** Optional hints of {@link auto}; none is needed. */
export interface AutoOptions {
  /**
   * Decoupled weight decay at y: z <- z - eta*weightDecay*y. Default: {@link AUTO_WEIGHT_DECAY} on a noisy
   * (mini-batch) loss, where it regularises a long run, and 0 on a deterministic one, whose minimiser it
   * would move. A value given here applies in both regimes.
   */
  weightDecay?: number;
  /**
   * Check the scale by Armijo every `probeEvery` steps on a noisy loss too (one forward each). Default: no
   * check on a noisy loss after the calibration (a deterministic loss is checked at every step anyway).
   */
  probeEvery?: number;
  /** Schedule-Free interpolation beta (0.95-0.98 for very long runs). Default 0.9. */
  beta?: number;
  /** Total steps planned, if known. Accepted for forward compatibility; the prototype does not use it. */
  totalSteps?: number;
  /** Update clipping (per-tensor RMS of the direction at most 1). An ablation switch. Default true. */
  clip?: boolean;
}

/**
 * The default decoupled weight decay on a noisy loss (docs/auto.md, "Weight decay by default"): AlgoPerf's
 * calibrated value for NAdamW and Schedule-Free AdamW, in the same convention (scale times decay times y).
 */
export const AUTO_WEIGHT_DECAY = 0.08;

const BETA2 = 0.999;
/** Adam's eps, relative to the RMS of sqrt(v-hat) of the tensor. */
const EPS = 1e-8;
const TINY = 1e-30;
/** Armijo constant of the check, and the "wide margin" constant. */
const ARMIJO_C = 0.1;
const WIDE_C = 0.7;
/** The calibration ladder (per-weight movement of the clipped Adam direction). */
const LADDER = [1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1];

/**
 * The step over the line-check step (docs/auto.md, "gain"): 1.5 beat 1, 2 and 3 over the quick suite's
 * tasks (2 and 3 lose on rosenbrock, 1 loses on mnist-mlp and deep-regression).
 */
export const AUTO_GAIN = 1.5;

/** Why the scale changed, in `lastStep.info.reason`. */
export const AUTO_REASONS = {
  none: 0,
  calibrated: 1,
  armijoFailed: 2,
  wideMargin: 3,
  checkedOk: 4,
  /** Noisy regime: the smoothed training loss rose to twice its value at calibration; the scale halves. */
  lossRose: 5,
  /**
   * Deterministic regime: the committed move would land where the loss is not finite; a tenth or a
   * hundredth of it was taken (the first whose loss is finite and no higher), or none and the scale fell.
   */
  shortened: 6,
  /**
   * Noisy regime (`noisyChecks: 'plateau'`, the default): the smoothed training loss fell by less than 1%
   * since the last plateau check (after 50, 100, 200, ... guarded steps); the scale halves.
   */
  plateau: 7,
} as const;

/** The plateau checks' first step (then steps 2x, 4x, ... its value: geometric windows). */
const PLATEAU_FIRST = 50;
/** The relative fall of the smoothed loss a plateau window must show, else the scale halves. */
const PLATEAU_FALL = 0.01;

/** The fractions of a move tried when the whole of it lands where the loss is not finite. */
const SHORTER = [0.1, 0.01];

/** Smoothing of the training loss watched by the noisy regime's guard (an exponential average). */
const GUARD_SMOOTHING = 0.1;

/**
 * What auto has found about the loss, in `lastStep.info.regime`: not yet known (step 1), deterministic
 * (the same point gives the same loss on the next batch: full-batch training) or noisy (mini-batches,
 * dropout).
 */
export const AUTO_REGIMES = { unknown: 0, deterministic: 1, noisy: 2 } as const;

/**
 * The smallest averaging weight c in the deterministic regime: x forgets old iterates with a horizon of
 * about 1/c steps. Averaging is there to cancel noise; without noise, an average since step 1 only lags
 * behind a z that converges (docs/auto.md, "Two regimes").
 */
export const DETERMINISTIC_C_FLOOR = 0.2;

/**
 * Two losses of the same weights agree to float32 round-off (relative): the determinism test. Mini-batch
 * noise is orders of magnitude larger; the tolerance covers weights that differ by round-off only.
 */
const SAME_LOSS_RTOL = 1e-5;

interface AutoDirection extends EvalPointDirection {
  /** The scale for the coming step, set by {@link AutoOptimizer} from the rule's state before each step. */
  scale: number;
  /** The smallest averaging weight for the coming step (0: Schedule-Free's own), set likewise. */
  cFloor: number;
  /**
   * The share of the step z takes along -u that the training point y takes in the step just computed:
   * y moves by (1 - beta + beta*c)*eta*u (plus a drift towards x that does not depend on eta).
   */
  yShare: number;
  /**
   * Conjugate gradients for the coming step (the deterministic regime's direction, see
   * {@link AutoDeterministicDirection}), set likewise.
   */
  cg: boolean;
  /** The fraction of its last move the rule let through (1, or less where the loss was not finite). */
  cgFraction: number;
  /** The loss is known to be noisy (the default decay applies), set likewise. */
  noisy: boolean;
}

/**
 * The deterministic regime's direction (an ingredient): 'cg' (default) nonlinear conjugate gradients
 * (Polak-Ribiere+ on Adam's per-weight metric) with a secant step from one extra gradient, a backtrack when
 * the loss did not fall enough, and the best point seen as the evaluation point; 'sf' the noisy regime's Schedule-Free direction with an Armijo check of the
 * committed move and the averaging floor {@link DETERMINISTIC_C_FLOOR}.
 */
export type AutoDeterministicDirection = 'cg' | 'sf';

/** Armijo constant of the conjugate-gradient step's acceptance test (a backtrack below it). */
const CG_ARMIJO = 1e-4;
/** The trial step is within [1/CG_RANGE, CG_RANGE] times the last step, the secant step at least 1/CG_RANGE of it. */
const CG_RANGE = 10;
/** The secant step is at most this many times the trial step. */
const CG_EXTRAPOLATE = 4;
/**
 * Backtracks along one line before it is given up: at the loss's float32 floor the weights a backtrack
 * returns to are not bit for bit the line's start, so its loss can stay above the start's for ever (seen:
 * the quadratic task stalled from step 263 of 500, each backtrack 10x shorter). The next step then starts a
 * new line from the steepest (metric) direction, its trial step the abandoned line's first one. A move
 * that left the loss bit for bit the same starts a new line too, its trial step 10 times that move.
 */
const CG_MAX_BACKTRACKS = 3;
/** Relative float32 round-off of a loss, below which a decrease cannot be tested. */
const ROUND_OFF = 1e-6;

/** Which move the occasional check tests (an ingredient; see {@link AutoIngredients.checkMove}). */
export type AutoCheckMove = 'line' | 'y' | 'update';

/** The direction's settings (saved in its config). */
interface AutoDirectionConfig {
  /** The decay on a noisy loss. */
  weightDecay: number;
  /** The decay on a deterministic loss and before the regime is known (0 unless the user gave one). */
  deterministicDecay: number;
  beta: number;
  clip: boolean;
  /** Schedule-Free averaging; off: x = y = z (an ablation switch). */
  average: boolean;
  /**
   * Conjugate gradients' moves compensated for float32 rounding (a seventh slot `c`, see
   * {@link compensate}); false in states saved before it existed.
   */
  compensated: boolean;
}

/**
 * The direction. `fused` (not saved: a speed choice, not a setting) lets it run the whole per-tensor chain
 * as one kernel where {@link FUSED_AUTO} can run (wasm), equal to the ops below to float32 round-off.
 */
function autoDirection(
  { weightDecay: noisyDecay, deterministicDecay, beta, clip, average, compensated }: AutoDirectionConfig,
  fused = true,
): AutoDirection {
  const dir: AutoDirection = {
    kind: 'autoSf',
    config: { weightDecay: noisyDecay, deterministicDecay, beta, clip, average, compensated },
    noisy: false,
    scale: 0,
    cFloor: 0,
    yShare: 1,
    cg: false,
    cgFraction: 1,
    // s and gPrev: the conjugate-gradient search direction and gradient of the last step (scalar
    // placeholders until the deterministic regime's conjugate gradients start).
    slotNames: ['z', 'x', 'y', 'v', 's', 'gPrev', ...(compensated ? ['c'] : [])],
    trainPointSlot: 2,
    evalPointOf: (slots) => slots[1].clone(),
    initSlots: (v) => [
      v.clone(),
      v.clone(),
      v.clone(),
      tf.zerosLike(v),
      tf.scalar(0),
      tf.scalar(0),
      ...(compensated ? [tf.scalar(0)] : []),
    ],
    initScalars: () => ({ k: 0, lrMax: 0, weightSum: 0 }),
    compute: (ctx): DirectionResult => {
      const weightDecay = dir.noisy ? noisyDecay : deterministicDecay;
      if (dir.cg) return conjugateStep(ctx, weightDecay, dir.scale, dir.cgFraction, compensated);
      const s = ctx.scalars;
      const k = s.k as number;
      const eta = dir.scale;
      const lrMax = Math.max(s.lrMax as number, eta);
      const w = lrMax * lrMax;
      const weightSum = (s.weightSum as number) + w;
      const c = !average ? 1 : weightSum > 0 ? Math.max(w / weightSum, eta > 0 ? dir.cFloor : 0) : 0;
      dir.yShare = average ? 1 - beta + beta * c : 1;
      const bc2 = 1 - BETA2 ** (k + 1);
      const update: tf.Tensor[] = [];
      const search: tf.Tensor[] = [];
      const slots: tf.Tensor[][] = [];
      const attrs: FusedAutoAttrs = {
        beta2: BETA2,
        bc2,
        epsRel: EPS,
        epsFloor: TINY,
        clip,
        eta,
        weightDecay,
        c,
        average,
        beta,
      };
      const useFused = fused && fusedAutoAvailable();
      const firstMove = k === 1;
      // Conjugate gradients' state: the first move and its gradient, else scalar placeholders (the ones
      // already there, so a noisy run allocates none per step).
      const placeholder = (t: tf.Tensor | undefined) => (t?.rank === 0 ? t : tf.scalar(0));
      // (and no compensation: the Schedule-Free moves are not conjugate gradients').
      const lastMove = (step: tf.Tensor, g: tf.Tensor, i: number) => [
        ...(firstMove && eta > 0
          ? [step.clone(), g.clone()]
          : [placeholder(ctx.slots[i][4]), placeholder(ctx.slots[i][5])]),
        ...(compensated ? [placeholder(ctx.slots[i][6])] : []),
      ];
      ctx.grads.forEach((g, i) => {
        const y = ctx.params[i];
        const [z0, x0, , v0] = ctx.slots[i];
        if (useFused) {
          // The chain below in one kernel (src/backend/wasm/fusedAuto.ts): [v, u, z, x, update, committed y].
          const [v, u, z, x, step, yc] = tf
            .engine()
            .runKernel(FUSED_AUTO, { g, v0, z0, x0, y }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
          search.push(u);
          update.push(step);
          slots.push([z, x, yc, v, ...lastMove(step, g, i)]);
          return;
        }
        const v = tf.add(tf.mul(v0, BETA2), tf.mul(tf.square(g), 1 - BETA2));
        const vHat = tf.div(v, bc2);
        // eps relative to the tensor's gradient scale, so u (and every decision) is the same whatever the
        // scale of the loss; the absolute floor only keeps an all-zero gradient at 0 rather than 0/0.
        const eps = tf.add(tf.mul(tf.sqrt(tf.mean(vHat)), EPS), TINY);
        let u = tf.div(g, tf.add(tf.sqrt(vHat), eps));
        // Update clipping: per-tensor RMS at most 1.
        if (clip) {
          const rms = tf.maximum(tf.div(tf.sqrt(tf.sum(tf.square(u))), Math.sqrt(Math.max(g.size, 1))), 1);
          u = tf.div(u, rms);
        }
        search.push(u);
        let z = z0;
        if (eta > 0) {
          if (weightDecay > 0) z = tf.sub(z, tf.mul(y, eta * weightDecay));
          z = tf.sub(z, tf.mul(u, eta));
        }
        const x = c > 0 ? tf.add(tf.mul(x0, 1 - c), tf.mul(z, c)) : x0;
        const yNew = average ? tf.add(tf.mul(x, beta), tf.mul(z, 1 - beta)) : z;
        const step = tf.sub(y, yNew);
        update.push(step);
        slots.push([z, x, committedPoint(y, step), v, ...lastMove(step, g, i)]);
      });
      // The first move (step 2, before the regime is known) is kept as conjugate gradients' last step, so
      // that on a deterministic loss their acceptance test checks it too (and backtracks along it).
      const moving = firstMove && eta > 0;
      return {
        update,
        search,
        slots,
        scalars: {
          k: k + 1,
          lrMax,
          weightSum,
          ...(moving ? { cgHas: 1, cgAlpha: 1, cgLoss: ctx.loss, cgSlope: dotAll(ctx.grads, update) } : {}),
        },
        etaScale: eta,
        info: { c },
      };
    },
  };
  return dir;
}

/**
 * Compensated (Kahan) moves, an ingredient off by default ({@link AutoIngredients.compensate}): the
 * intended update `d` plus the carry `c` the last move could not take, rounded to what the float32 weights
 * can take: `w' = w - (d + c)`, the update applied `w - w'` (exact by Sterbenz's lemma when w' is within a
 * factor 2 of w), the new carry `(d + c) - (w - w')`. Near a minimum the moves are a few float32 steps of
 * the weights; with the carry the iterates follow the intended ones to about one float32 step. Measured
 * (docs/auto.md): Rosenbrock ends lower, the ill-conditioned quadratic higher (the line model then judges
 * moves that are not the ones taken). Returns [updates, carries].
 */
function compensate(ctx: DirectionContext, intended: tf.Tensor[]): [tf.Tensor[], tf.Tensor[]] {
  const update: tf.Tensor[] = [];
  const carry: tf.Tensor[] = [];
  intended.forEach((d, i) => {
    const w = ctx.params[i];
    const c = ctx.slots[i][6];
    const total = c.rank === 0 ? d : tf.add(d, c);
    const applied = tf.sub(w, tf.sub(w, total));
    update.push(applied);
    carry.push(tf.sub(total, applied));
  });
  return [update, carry];
}

/**
 * One step of the deterministic regime's conjugate gradients ({@link AutoDeterministicDirection}): first
 * the last step's acceptance (the loss here is phi(alpha) along its direction; below the Armijo line with
 * {@link CG_ARMIJO} it is accepted, else this step moves back along the same direction to the parabola's
 * minimiser, at most half the way); then the Polak-Ribiere+ direction s = p + beta*s' with p Adam's
 * unclipped direction g / (sqrt(v-hat) + eps), and
 * the secant step along it from one extra gradient at a trial step (exact on a quadratic). Weight decay is
 * decoupled (alpha*weightDecay*y). x = y = z: no averaging without noise.
 */
function conjugateStep(
  ctx: DirectionContext,
  weightDecay: number,
  start: number,
  fraction: number,
  compensated: boolean,
): DirectionResult {
  const sc = ctx.scalars;
  const k = sc.k as number;
  // The last move as taken: a fraction of it where the whole would have landed on a non-finite loss; none
  // taken, nothing to judge (the next trial starts from the rule's smaller scale).
  const hasPrev = sc.cgHas === 1 && fraction > 0;
  const alphaPrev = ((sc.cgAlpha as number | undefined) ?? 0) * fraction;
  const prevLoss = (sc.cgLoss as number | undefined) ?? Number.NaN;
  const prevSlope = (sc.cgSlope as number | undefined) ?? 0;
  const loss = Number.isFinite(ctx.loss) ? ctx.loss : Number.POSITIVE_INFINITY;
  // The evaluation point x is the best point seen: the loss is exact here, so the lowest one is the best
  // iterate (conjugate gradients end by jittering at the loss's float32 floor, where the last is a draw).
  const best = (sc.cgBest as number | undefined) ?? Number.POSITIVE_INFINITY;
  const improved = loss < best;
  // Slots after the move: z = y = the committed weights, x, then (v, s, gPrev) and the compensation c.
  // The intended moves are compensated for rounding first: the update applied is the one the weights can
  // take, what float32 dropped waits in c for the next move.
  const moveTo = (intended: tf.Tensor[], keep: (i: number) => tf.Tensor[]) => {
    const [update, carry] = compensated ? compensate(ctx, intended) : [intended, []];
    const slots = update.map((u, i) => {
      const y = committedPoint(ctx.params[i], u);
      const x = improved ? ctx.params[i].clone() : ctx.slots[i][1];
      return [y.clone(), x, y, ...keep(i), ...(compensated ? [carry[i]] : [])];
    });
    return { update, slots };
  };
  const bestScalars = { cgBest: improved ? loss : best };
  // Accepted: the Armijo decrease, or no rise when that decrease is below the loss's float32 round-off
  // (it cannot be tested there, and backtracking on round-off would shrink the step to nothing).
  const decrease = CG_ARMIJO * alphaPrev * prevSlope;
  const accepted =
    loss <= prevLoss - decrease || (loss <= prevLoss && decrease <= ROUND_OFF * Math.abs(prevLoss));
  const backtracks = (sc.cgBacktracks as number | undefined) ?? 0;
  // A move too small to change the loss by one bit says nothing about the line (the curvature seen there
  // is round-off, which shrank every later step 10-fold for good): start a new line instead.
  const unmeasured = hasPrev && alphaPrev > 0 && loss === prevLoss;
  const giveUp = (hasPrev && !accepted && backtracks >= CG_MAX_BACKTRACKS) || unmeasured;
  if (hasPrev && !accepted && !giveUp) {
    // Back along the last direction (the gradient here, at the rejected point, is not used).
    const back = recentre(alphaPrev, prevLoss, prevSlope, loss, 0.1, 0.5);
    const moved = moveTo(
      ctx.slots.map((sl) => tf.mul(sl[4], back - alphaPrev)),
      (i) => [ctx.slots[i][3], ctx.slots[i][4], ctx.slots[i][5]],
    );
    return {
      ...moved,
      scalars: { ...sc, cgAlpha: back, cgBacktracks: backtracks + 1, ...bestScalars },
      etaScale: back,
      info: { c: 1, cgBacktrack: 1 },
    };
  }
  // The metric: Adam's second moment, per weight, updated every step (as the noisy regime's direction,
  // without clipping). Strictly, conjugacy wants a fixed metric; measured, a per-tensor metric (fixed or
  // updated) lost on deep-regression-relu and Rosenbrock (docs/auto.md, "Conjugate gradients").
  const bc = 1 - BETA2 ** (k + 1);
  const v = ctx.grads.map((g, i) => tf.add(tf.mul(ctx.slots[i][3], BETA2), tf.mul(tf.square(g), 1 - BETA2)));
  const scale = v.map((vi) => {
    const vHat = tf.div(vi, bc);
    return tf.add(tf.sqrt(vHat), tf.add(tf.mul(tf.sqrt(tf.mean(vHat)), EPS), TINY));
  });
  const p = ctx.grads.map((g, i) => tf.div(g, scale[i]));
  // One read-back for every sum the direction and the trial step need: PR+'s numerator and denominator,
  // <g, p>, <g, s'> (the slope of s = p + beta*s' follows without another sum) and <p, p>.
  const sums = tf.tidy(() => {
    const terms = [
      tf.addN(p.map((pi, i) => tf.sum(tf.mul(pi, ctx.grads[i])))),
      tf.addN(p.map((pi) => tf.sum(tf.square(pi)))),
    ];
    if (hasPrev) {
      terms.push(
        tf.addN(p.map((pi, i) => tf.sum(tf.mul(pi, ctx.slots[i][5])))),
        tf.addN(ctx.slots.map((sl, i) => tf.sum(tf.div(tf.square(sl[5]), scale[i])))),
        tf.addN(ctx.grads.map((g, i) => tf.sum(tf.mul(g, ctx.slots[i][4])))),
      );
    }
    return tf.stack(terms);
  });
  const [gp, pp, pgPrev, den, gsPrev] = Array.from(sums.dataSync());
  sums.dispose();
  let beta = 0;
  if (hasPrev && !giveUp) {
    const num = gp - pgPrev;
    beta = den > 0 && Number.isFinite(num / den) ? Math.max(0, num / den) : 0;
  }
  let slope = gp + beta * (gsPrev ?? 0);
  if (beta > 0 && !(slope > 0)) {
    // Not a descent direction: restart from the scaled gradient.
    beta = 0;
    slope = gp;
  }
  const s = beta > 0 ? p.map((pi, i) => tf.add(pi, tf.mul(ctx.slots[i][4], beta))) : p;
  // The trial step: the last accepted step times the ratio of the slopes; the first moves the weights by
  // the rule's scale in RMS, as the clipped Adam direction of the Schedule-Free steps did.
  const lineAlpha = (sc.cgLineAlpha as number | undefined) ?? 0;
  const t0 =
    hasPrev && !giveUp && alphaPrev > 0 && slope > 0
      ? alphaPrev * Math.min(CG_RANGE, Math.max(1 / CG_RANGE, prevSlope / slope))
      : unmeasured
        ? alphaPrev * CG_RANGE
        : giveUp && lineAlpha > 0
          ? lineAlpha
          : start / Math.max(1, Math.sqrt(pp / p.reduce((n, pi) => n + pi.size, 0)));
  let alpha = t0;
  if (slope > 0 && Number.isFinite(slope)) {
    const at = ctx.gradientAt(s.map((si) => tf.mul(si, -t0)));
    const curvature = (slope - dotAll(at.grads, s)) / t0;
    tf.dispose(at.grads);
    const trialFell = Number.isFinite(at.loss) && at.loss <= loss - CG_ARMIJO * t0 * slope;
    if (curvature > 0 && Number.isFinite(curvature)) {
      // Beyond the trial step at most CG_EXTRAPOLATE times: a secant over a stretch that was never seen
      // can land on a wall (a 1000-fold loss on Rosenbrock with 10x).
      alpha = Math.min(CG_EXTRAPOLATE * t0, Math.max(t0 / CG_RANGE, slope / curvature));
    } else if (at.loss === loss) {
      alpha = CG_EXTRAPOLATE * t0; // the trial did not change the loss by one bit: too short to tell
    } else {
      alpha = trialFell ? CG_EXTRAPOLATE * t0 : t0 / CG_RANGE; // no positive curvature seen
    }
    // A trial that already rose above the Armijo line bounds the step by its parabola.
    if (!trialFell && at.loss !== loss) alpha = Math.min(alpha, recentre(t0, loss, slope, at.loss, 0.1, 0.5));
  } else {
    alpha = 0;
  }
  const intended = s.map((si, i) =>
    weightDecay > 0
      ? tf.add(tf.mul(si, alpha), tf.mul(ctx.params[i], alpha * weightDecay))
      : tf.mul(si, alpha),
  );
  return {
    ...moveTo(intended, (i) => [v[i], s[i].clone(), ctx.grads[i].clone()]),
    scalars: {
      k: k + 1,
      lrMax: sc.lrMax as number,
      weightSum: sc.weightSum as number,
      cgHas: alpha > 0 ? 1 : 0,
      cgAlpha: alpha,
      cgLineAlpha: alpha,
      cgLoss: loss,
      cgSlope: slope,
      ...bestScalars,
    },
    etaScale: alpha,
    info: { c: 1, cgBeta: beta, cgBacktrack: 0, ...(giveUp ? { cgRestart: 1 } : {}) },
  };
}

registerDirection('autoSf', (c) =>
  autoDirection({
    weightDecay: c.weightDecay as number,
    // States saved before the regime-dependent default applied their one decay in both regimes.
    deterministicDecay: (c.deterministicDecay as number | undefined) ?? (c.weightDecay as number),
    beta: c.beta as number,
    clip: (c.clip as boolean | undefined) ?? true,
    average: (c.average as boolean | undefined) ?? true,
    compensated: (c.compensated as boolean | undefined) ?? false,
  }),
);

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
function autoScaleRule(config: AutoScaleConfig): AutoScaleRule {
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
interface AutoScaleRule extends StepRule {
  yShare: () => number;
}

/** <a, b> summed over all tensors, read back. */
function dotAll(a: readonly tf.Tensor[], b: readonly tf.Tensor[]): number {
  const t = tf.addN(a.map((ai, i) => tf.sum(tf.mul(ai, b[i]))));
  const out = t.dataSync()[0];
  t.dispose();
  return out;
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

/**
 * The minimiser of the parabola through phi(0), phi'(0) = -slope and phi(eta), clamped to
 * [lo*eta, hi*eta] (hi when the parabola has no minimum).
 */
function recentre(eta: number, phi0: number, slope: number, phi: number, lo: number, hi: number): number {
  const curv = (2 * (phi - phi0 + eta * slope)) / (eta * eta);
  const t = curv > 0 ? slope / curv : hi * eta;
  return Math.min(hi * eta, Math.max(lo * eta, Number.isFinite(t) ? t : lo * eta));
}

/** The optimizer of {@link auto}: hands the scale the rule decided to the direction before each step. */
export class AutoOptimizer extends EvalPointOptimizer {
  /** @nocollapse */
  static override className = 'AutoOptimizer';

  static override [Symbol.hasInstance](instance: unknown): boolean {
    return Function.prototype[Symbol.hasInstance].call(AutoOptimizer, instance);
  }

  /** The deterministic regime's smallest averaging weight (see {@link DETERMINISTIC_C_FLOOR}). */
  cFloor = DETERMINISTIC_C_FLOOR;

  /** The current scale (0 before calibration). */
  get scale(): number {
    return (this.ruleState().scale as number | undefined) ?? 0;
  }

  override minimize(f: LossFn, returnCost = false, varList?: tf.Variable[]): tf.Scalar | null {
    const dir = this.direction as AutoDirection;
    dir.scale = this.scale;
    const deterministic = this.ruleState().regime === AUTO_REGIMES.deterministic;
    dir.cg = deterministic && this.rule.config.deterministicDirection === 'cg';
    dir.noisy = this.ruleState().regime === AUTO_REGIMES.noisy;
    dir.cFloor = deterministic && !dir.cg ? this.cFloor : 0;
    dir.cgFraction = (this.ruleState().cgFraction as number | undefined) ?? 1;
    (this.rule as AutoScaleRule).yShare = () => dir.yShare;
    const out = super.minimize(f, returnCost, varList);
    if (!this.lastStep.skipped && this.lastStep.info.reason === AUTO_REASONS.shortened) {
      this.trainPointIsTheWeights(!dir.cg);
    }
    return out;
  }

  /**
   * After a shortened move the weights are not the point the direction stored as y (and z): store them.
   * After a Schedule-Free step (step 2) x = z = y too; after a conjugate-gradient step x is the best point
   * seen, which the move did not change.
   */
  private trainPointIsTheWeights(withX: boolean): void {
    for (const { variable, slots } of this.directionSlots()) {
      const stale = withX ? [0, 1, 2] : [0, 2];
      for (const i of stale) {
        slots[i].dispose();
        slots[i] = variable.clone();
      }
      // The carry was for the whole move, which was not taken.
      if (slots.length > 6) {
        slots[6].dispose();
        slots[6] = tf.scalar(0);
      }
    }
  }
}

tf.serialization.registerClass(AutoOptimizer);

/**
 * The optimizer that needs no argument (a prototype, docs/auto.md): Schedule-Free with a clipped Adam
 * direction whose scale is calibrated by probes at step 1 and kept on a noisy (mini-batch) loss unless the
 * loss rises or stops falling (then it halves); on a deterministic (full-batch) loss, conjugate gradients
 * with secant steps. Cost per step: 1 forward + 1 backward on a noisy loss (plus 6 forwards at the first
 * step, which does not move); on a deterministic loss 2 forwards + 2 backwards + 1 forward (a backtrack:
 * 1 + 1 + 1). `lastStep.eta` is the scale used; `lastStep.info.reason` says why it changes
 * ({@link AUTO_REASONS}) and `info.next` what it becomes. Evaluate at x (`withEvalPoint`, `opt.eval()`).
 *
 * @example
 * ```ts
 * const opt = lrfree.auto();
 * model.compile({ optimizer: opt, loss: 'categoricalCrossentropy' });
 * await model.fit(x, y, { epochs: 5 });
 * await lrfree.withEvalPointAsync(opt, { model, trainX: x }, () => model.evaluate(xTest, yTest));
 * ```
 */
export function auto(options: AutoOptions & MethodCommonOptions = {}): AutoOptimizer {
  return autoWith(options);
}

/**
 * The ingredients of {@link auto} that are not hints but design choices, switchable for the ablation in
 * bench/ (docs/auto.md). Not part of the public API: the defaults are the design.
 */
export interface AutoIngredients {
  /** Schedule-Free averaging (evaluate at x). Default true; false trains and evaluates at z. */
  average?: boolean;
  /** Step-1 calibration on the ladder. Default true; false starts at 1e-3. */
  calibrate?: boolean;
  /** Step / line-check ratio. Default {@link AUTO_GAIN}. */
  gain?: number;
  /** Never check after step 1 (the calibrated scale is kept). Default false. */
  noChecks?: boolean;
  /**
   * What a check tests: 'line' (default) the step `scale / gain` along -u from y; 'y' the share of the
   * step along -u that y takes; 'update' the committed move of y itself (one extra reduction).
   */
  checkMove?: AutoCheckMove;
  /** The fused kernel where it can run (wasm). Default true; false keeps the TF.js ops (bench/auto-cost.ts). */
  fused?: boolean;
  /** Tell deterministic from noisy losses ({@link AUTO_REGIMES}). Default true; false: always noisy. */
  regimes?: boolean;
  /** The deterministic regime's smallest averaging weight. Default {@link DETERMINISTIC_C_FLOOR}. */
  deterministicFloor?: number;
  /**
   * The checks on a noisy loss. Default 'plateau' (calibration, then the guard and the plateau halving);
   * 'none' is the guard alone (the default before 2026-12-03).
   */
  noisyChecks?: AutoNoisyChecks;
  /** What the deterministic regime's every-step check tests. Default 'update' (the committed move). */
  deterministicCheck?: 'update' | 'line';
  /** The deterministic regime's direction. Default 'cg'. */
  deterministicDirection?: AutoDeterministicDirection;
  /** Conjugate gradients' moves compensated for float32 rounding (a carry slot). Default false. */
  compensate?: boolean;
}

/** {@link auto} with its ingredients switched (bench ablations). */
export function autoWith(
  options: AutoOptions & MethodCommonOptions = {},
  ingredients: AutoIngredients = {},
): AutoOptimizer {
  const { own, common } = splitCommon<AutoOptions>(options);
  const W = 'auto';
  checkKnownKeys(W, own, ['weightDecay', 'probeEvery', 'beta', 'totalSteps', 'clip']);
  const weightDecay = checkNumber(W, 'weightDecay', own.weightDecay ?? AUTO_WEIGHT_DECAY, { min: 0 });
  const probeEvery = checkNumber(W, 'probeEvery', own.probeEvery ?? 10, { min: 1, integer: true });
  // An explicit probeEvery asks for checks on a noisy loss too.
  const noisyChecks = ingredients.noisyChecks ?? (own.probeEvery !== undefined ? 'armijo' : 'plateau');
  const beta = checkNumber(W, 'beta', own.beta ?? 0.9, {
    min: 0,
    max: 1,
    minExclusive: true,
    maxExclusive: true,
  });
  if (own.totalSteps !== undefined) checkNumber(W, 'totalSteps', own.totalSteps, { min: 1, integer: true });
  const gain = checkNumber(W, 'gain', ingredients.gain ?? AUTO_GAIN, { min: 1 });
  const opt = new AutoOptimizer({
    ...common,
    direction: autoDirection(
      {
        weightDecay,
        deterministicDecay: own.weightDecay ?? 0,
        beta,
        clip: own.clip ?? true,
        average: ingredients.average ?? true,
        compensated: ingredients.compensate ?? false,
      },
      ingredients.fused ?? true,
    ),
    step: autoScaleRule({
      probeEvery: ingredients.noChecks ? Number.POSITIVE_INFINITY : probeEvery,
      gain,
      calibrate: ingredients.calibrate ?? true,
      checkMove: ingredients.checkMove ?? 'line',
      regimes: ingredients.regimes ?? true,
      noisyChecks,
      deterministicCheck: ingredients.deterministicCheck ?? 'update',
      deterministicDirection: ingredients.deterministicDirection ?? 'cg',
    }),
    name: 'auto',
  });
  opt.cFloor = ingredients.deterministicFloor ?? DETERMINISTIC_C_FLOOR;
  return opt;
}
