/**
 * auto()'s deterministic regime: one conjugate-gradient step (Polak-Ribiere+ on Adam's metric, a secant
 * step from one extra gradient, a backtrack when the loss did not fall enough), with its constants and the
 * optional float32 compensation of its moves. The noisy regime's direction (direction.ts) hands its steps
 * here once the scale rule has found the loss deterministic.
 */
import * as tf from '@tensorflow/tfjs';
import type { DirectionContext, DirectionResult, ScalarState } from '../../core/types.js';
import { committedPoint } from '../evalPointMethod.js';
import { BETA2, EPS, TINY } from './constants.js';
import { dotAll, recentre } from './line.js';
import { mayPolish, newtonPolish, polishCost } from './polish.js';

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
export function conjugateStep(
  ctx: DirectionContext,
  weightDecay: number,
  start: number,
  fraction: number,
  compensated: boolean,
  polish: boolean,
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
  // Gradient evaluations of this regime so far, outside and inside Newton polishes: what bounds the polish.
  const spent = (sc.cgGrads as number | undefined) ?? 0;
  const polishSpent = (sc.cgPolishGrads as number | undefined) ?? 0;
  // A polish lands on the Newton point; another one only pays once the run has found a lower loss.
  const progressed =
    Math.min(best, loss) < ((sc.cgPolishBest as number | undefined) ?? Number.POSITIVE_INFINITY);
  const params = ctx.params.reduce((n, p) => n + p.size, 0);
  // Carried by the steps that do not polish (they write their scalars afresh).
  let polishes: ScalarState =
    sc.cgPolishBest === undefined ? {} : { cgPolishGrads: polishSpent, cgPolishBest: sc.cgPolishBest };
  let polishFailed = false;
  if (giveUp && polish && progressed && mayPolish(params, spent, polishSpent, weightDecay)) {
    // Stalled at the resolution of the line moves: one Newton step, judged by the next step like any
    // move (a backtrack along it if the loss rose).
    const newtonStep = newtonPolish(ctx);
    // Paid for whether it gives a step or not: no new try before the budget and a lower loss allow it.
    // Finite: a polish needs a finite loss (a line given up after a finite one).
    const tried = { cgPolishGrads: polishSpent + polishCost(params), cgPolishBest: Math.min(best, loss) };
    polishes = tried;
    polishFailed = newtonStep === undefined;
    if (newtonStep) {
      const moved = moveTo(newtonStep.step, (i) => [
        ctx.slots[i][3],
        newtonStep.step[i].clone(),
        ctx.grads[i].clone(),
      ]);
      return {
        ...moved,
        scalars: {
          ...sc,
          k: k + 1,
          cgHas: 1,
          cgAlpha: 1,
          cgLoss: loss,
          cgSlope: newtonStep.slope,
          cgBacktracks: 0,
          ...tried,
          ...bestScalars,
        },
        etaScale: 1,
        info: { c: 1, cgPolish: 1, cgBacktrack: 0 },
      };
    }
  }
  if (hasPrev && !accepted && !giveUp) {
    // Back along the last direction (the gradient here, at the rejected point, is not used).
    const back = recentre(alphaPrev, prevLoss, prevSlope, loss, 0.1, 0.5);
    const moved = moveTo(
      ctx.slots.map((sl) => tf.mul(sl[4], back - alphaPrev)),
      (i) => [ctx.slots[i][3], ctx.slots[i][4], ctx.slots[i][5]],
    );
    return {
      ...moved,
      scalars: { ...sc, cgAlpha: back, cgBacktracks: backtracks + 1, cgGrads: spent + 1, ...bestScalars },
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
      // This step's gradient and the trial's.
      cgGrads: spent + (slope > 0 && Number.isFinite(slope) ? 2 : 1),
      ...polishes,
      ...bestScalars,
    },
    etaScale: alpha,
    info: {
      c: 1,
      cgBeta: beta,
      cgBacktrack: 0,
      ...(giveUp ? { cgRestart: 1 } : {}),
      ...(polishFailed ? { cgPolishFailed: 1 } : {}),
    },
  };
}
