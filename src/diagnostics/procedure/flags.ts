/** The red flags the procedure's recorded evidence raises, and the runs a data-blaming flag must rule out. */
import { classesOf, type DiagnosticData, type LossSpec } from '../common.js';
import { type Curve, heldOut } from '../curves.js';
import { lossRewardsRightAnswers, nearestMeanAccuracy } from '../dataChecks.js';
import { fmt, type ShortRun } from '../recommend.js';
import {
  barrierFlag,
  chanceFlag,
  cliffFlag,
  type LearnedRun,
  mismatchFlag,
  nanAtTinyRateFlag,
  noDecreaseFlag,
  type RedFlag,
} from '../redFlags.js';
import { majorityShare, priorCrossEntropy } from './chance.js';
import type { ProcedureState } from './state.js';

/** Every run the procedure made with a held-out result (what a data-blaming flag must rule out first). */
export function learnedRuns(state: ProcedureState): LearnedRun[] {
  const out: LearnedRun[] = [];
  const fromShort = (r: ShortRun, what: string) => {
    const fell = r.loss
      .slice(1)
      .some((v) => Number.isFinite(v) && v < r.loss[0] - 0.02 * Math.abs(r.loss[0]));
    out.push({ what, accuracy: r.bestAccuracy, lossFell: fell, bestLoss: r.best });
  };
  const fromCurve = (c: Curve, what: string) => {
    const acc = c.accuracy?.slice(1).filter((v) => Number.isFinite(v));
    out.push({
      what,
      accuracy: acc && acc.length > 0 ? Math.max(...acc) : undefined,
      lossFell: Number.isFinite(c.best) && c.best < c.loss[0] - 0.02 * Math.abs(c.loss[0]),
      bestLoss: c.best,
    });
  };
  for (const c of state.lrChoice?.candidates ?? []) fromShort(c.run, `sgd at ${fmt(c.lr)} (step 2)`);
  if (state.momentum) {
    fromCurve(state.momentum.without, `sgd at ${fmt(state.momentum.without.lr)} (step 3)`);
    fromCurve(state.momentum.with, `momentum at ${fmt(state.momentum.with.lr)} (step 3)`);
  }
  for (const v of state.variants?.results ?? []) fromCurve(v.curve, `${v.variant} at ${fmt(v.lr)} (step 6)`);
  for (const v of state.variants?.lrFree ?? []) fromShort(v.run, `${v.name} (step 6)`);
  for (const r of state.recheck ?? []) fromShort(r, `${r.name} (recheck)`);
  if (state.final) fromCurve(state.final.curve, `the chosen configuration (step 7)`);
  return out;
}

/**
 * The red flags the recorded evidence raises (recomputed after every step). `loss` is the procedure's
 * loss: with cross-entropy (the default) the chance flag also compares the held-out loss with the
 * cross-entropy of the class shares.
 */
export function redFlagsOf(state: ProcedureState, data: DiagnosticData, loss?: LossSpec): RedFlag[] {
  const flags: (RedFlag | undefined)[] = [];
  const runs = learnedRuns(state);
  if (state.lr) {
    flags.push(
      nanAtTinyRateFlag(state.lr),
      noDecreaseFlag(state.lr, runs, state.lrChoice !== undefined && !Number.isFinite(state.lrChoice.lr)),
    );
    if (state.recommendations.learningRate)
      flags.push(cliffFlag(state.lr, state.recommendations.learningRate.value));
  }
  if (state.final) {
    const split = heldOut(data);
    const chance = majorityShare(split.y);
    const prior =
      loss === undefined || loss === 'categoricalCrossentropy' ? priorCrossEntropy(split.y) : undefined;
    // Optimizer-free evidence before blaming the labels or the loss (dataChecks.ts).
    const signal = data.validation ? nearestMeanAccuracy(data.train, data.validation) : undefined;
    flags.push(chanceFlag(state.final.curve, chance, split.y.shape[0], runs, prior, signal));
    const sound = classesOf(split.y) > 0 ? lossRewardsRightAnswers(split, loss).rewards : undefined;
    flags.push(mismatchFlag(state.final.curve, chance, split.y.shape[0], sound));
    flags.push(barrierFlag(state.final.line));
  }
  return flags.filter((f): f is RedFlag => f !== undefined);
}
