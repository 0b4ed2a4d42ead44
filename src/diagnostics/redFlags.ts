/**
 * Red flags of the procedure: patterns in the diagnostics' numbers that usually mean a bug in the code
 * or the data rather than a bad hyperparameter. Pure functions of the recorded evidence. A flag that
 * blames the data or the labels first looks at every run the procedure made (its {@link LearnedRun}s):
 * when one of them learned, the optimizer setting is to blame, not the data, and the flag says so.
 */
import type { Curve } from './curves.js';
import type { RangeTestResult } from './rangeTest.js';
import { fallRegion } from './recommend.js';
import type { LineResult } from './weightSpace.js';

/** The kinds of red flag. */
export type RedFlagId =
  | 'noDecrease'
  | 'nanAtTinyRate'
  | 'chanceAccuracy'
  | 'lossAccuracyMismatch'
  | 'barrier'
  | 'cliff'
  | 'chosenRateDidNotLearn'
  | 'sgdDidNotLearn'
  | 'slowToLearn';

/** One red flag: what was seen, the numbers, how sure, and what to do. */
export interface RedFlag {
  id: RedFlagId;
  /** `bug`: almost certainly a bug; `warning`: worth a look. */
  severity: 'bug' | 'warning';
  /**
   * How sure the flag is of its cause: `high` when the other explanations were ruled out by a run,
   * `medium` when the pattern is typical but one explanation remains, `low` for a hint.
   */
  confidence: 'high' | 'medium' | 'low';
  message: string;
  /** What the user should do. */
  action: string;
}

/**
 * The flags split for display: red flags (`bug`: probably the code or the data) and warnings about the
 * setting, which never blame the data and are listed apart.
 */
export function bugsAndWarnings(flags: readonly RedFlag[]): { bugs: RedFlag[]; warnings: RedFlag[] } {
  return {
    bugs: flags.filter((f) => f.severity === 'bug'),
    warnings: flags.filter((f) => f.severity !== 'bug'),
  };
}

/** A run the procedure made, as a data-blaming flag needs it: did it learn? */
export interface LearnedRun {
  /** e.g. `adam at 0.001 (recheck)`. */
  what: string;
  /** Best held-out accuracy (classification). */
  accuracy?: number;
  /** The held-out loss fell by more than 2% below its start. */
  lossFell: boolean;
  /** Best held-out loss. */
  bestLoss?: number;
}

/**
 * No learning rate lowers the loss: the smoothed range-test curve never falls below its starting level
 * by more than its noise ({@link fallRegion}), or (`confirmedNothing`) no confirmation run lowered the
 * held-out loss. Before blaming the gradient or the data it looks at `runs`: when one of them lowered the
 * held-out loss (e.g. the recheck with Adam), it is a warning about SGD or the rate range instead.
 */
export function noDecreaseFlag(
  rt: RangeTestResult,
  runs?: readonly LearnedRun[],
  confirmedNothing = false,
): RedFlag | undefined {
  const s = rt.smoothed.filter((v) => Number.isFinite(v));
  if (s.length < 3) return undefined;
  const region = fallRegion(rt);
  const start = region.baseline;
  const low = Math.min(...s.slice(Math.min(s.length - 1, Math.max(5, Math.floor(rt.numIt / 10)))));
  if (region.from !== undefined && !confirmedNothing) return undefined;
  const learned = runs?.find((r) => r.lossFell);
  if (learned) {
    return {
      id: 'sgdDidNotLearn',
      severity: 'warning',
      confidence: 'high',
      message:
        `SGD at the rates tried (${fmt(rt.lrs[0])}..${fmt(rt.lrs[rt.lrs.length - 1])}) did not lower the loss measurably, ` +
        `but ${learned.what} did: the data and the gradient are fine; the rate range or SGD itself is the problem.`,
      action:
        rt.stopped === 'end'
          ? `Run the range test to higher rates (endLr above ${fmt(rt.lrs[rt.lrs.length - 1])}), or train with Adam or a learning-rate-free method.`
          : 'Train with Adam or a learning-rate-free method, or normalise the inputs so that SGD can take larger steps.',
    };
  }
  return {
    id: 'noDecrease',
    severity: 'bug',
    confidence: runs && runs.length > 0 ? 'high' : 'medium',
    action:
      'Check that the loss depends on the trainable weights (not frozen, not detached), its sign, and that inputs and labels are aligned.',
    message:
      `No learning rate lowers the loss: between ${fmt(rt.lrs[0])} and ${fmt(rt.lrs[rt.lrs.length - 1])} the smoothed ` +
      `loss never falls below ${fmt(low)} (start ${fmt(start)})` +
      (confirmedNothing ? ' measurably, and no confirmation run lowered the held-out loss' : '') +
      (runs && runs.length > 0 ? `; neither did ${runs.map((r) => r.what).join(', ')}` : '') +
      '. Check the gradient (loss sign, detached tensors, frozen layers) and the data (inputs and labels aligned, inputs scaled).',
  };
}

/** The loss is not finite at the smallest rates (or before training): NaN in the model, data or loss. */
export function nanAtTinyRateFlag(rt: RangeTestResult): RedFlag | undefined {
  const head = rt.losses.slice(0, Math.max(3, Math.ceil(rt.numIt / 10)));
  const bad = head.findIndex((v) => !Number.isFinite(v));
  if (bad < 0 && Number.isFinite(rt.initialLoss)) return undefined;
  const lr = bad >= 0 ? rt.lrs[bad] : rt.lrs[0];
  return {
    id: 'nanAtTinyRate',
    severity: 'bug',
    confidence: 'high',
    action: 'Check the inputs for NaN/Inf (tf.isNaN), clip log arguments in the loss, check the label range.',
    message:
      `The loss is not finite already at learning rate ${fmt(lr)}: look for NaN or Inf in the inputs, a log of 0 ` +
      'or a division by 0 in the loss, or labels outside the expected range.',
  };
}

/**
 * Accuracy at chance after training: the held-out accuracy is within noise of the most frequent class's
 * share (margin 3 standard errors + 2%). Before blaming the labels it looks at `runs` (every run the
 * procedure made, including the recheck with Adam): if one of them beat chance, the chosen setting is to
 * blame (`chosenRateDidNotLearn`, a warning), not the labels. With `priorLoss` (the cross-entropy of
 * predicting the class shares), no flag when a run's held-out loss is 2% below it (imbalanced classes:
 * the majority's accuracy, but the inputs are used). Confidence `high` when at least two runs with
 * different optimizers or rates stayed at chance, `medium` otherwise.
 */
export function chanceFlag(
  curve: Curve,
  chance: number,
  n: number,
  runs?: readonly LearnedRun[],
  priorLoss?: number,
  signalAccuracy?: number,
): RedFlag | undefined {
  const acc = curve.accuracy?.[curve.accuracy.length - 1];
  if (acc === undefined) return undefined;
  const margin = 3 * Math.sqrt((chance * (1 - chance)) / Math.max(n, 1)) + 0.02;
  if (acc > chance + margin) return undefined;
  // Imbalanced classes: predicting the majority is "chance" accuracy, but a held-out cross-entropy below
  // that of the class shares themselves means the model uses the inputs: the labels carry signal.
  if (priorLoss !== undefined && Number.isFinite(priorLoss)) {
    const beat = [curve.best, ...(runs ?? []).map((r) => r.bestLoss ?? Number.NaN)].some(
      (l) => Number.isFinite(l) && l < 0.98 * priorLoss,
    );
    if (beat) return undefined;
  }
  const better = (runs ?? [])
    .filter((r) => r.accuracy !== undefined && r.accuracy > chance + margin)
    .sort((a, b) => b.accuracy! - a.accuracy!)[0];
  if (better) {
    return {
      id: 'chosenRateDidNotLearn',
      severity: 'warning',
      confidence: 'high',
      message:
        `The chosen configuration (${curve.variant} at ${fmt(curve.lr)}) ended at ${pct(acc)} held-out accuracy, no better than ` +
        `chance (${pct(chance)}), but ${better.what} reached ${pct(better.accuracy!)}: the labels are fine, the setting is not.`,
      action: `Use the setting of ${better.what}, or train longer; do not trust the chosen rate.`,
    };
  }
  // The labels carry signal that a training-free classifier finds: the runs were too short, too slow
  // or the inputs badly scaled, but the labels are not to blame.
  if (signalAccuracy !== undefined && signalAccuracy > chance + margin) {
    return {
      id: 'slowToLearn',
      severity: 'warning',
      confidence: 'high',
      message:
        `After training, held-out accuracy is ${pct(acc)}, no better than chance (${pct(chance)}), and no run did better; ` +
        `but a nearest-class-mean classifier on standardised inputs (no training) reaches ${pct(signalAccuracy)}: ` +
        'the labels carry signal, the model has not learned it yet.',
      action:
        'Standardise the inputs (subtract the mean, divide by the standard deviation per feature), train longer, or try Adam or a learning-rate-free method.',
    };
  }
  const tried = (runs ?? []).filter((r) => r.accuracy !== undefined);
  return {
    id: 'chanceAccuracy',
    severity: 'bug',
    confidence: tried.length >= 2 ? 'high' : 'medium',
    message:
      `After training, held-out accuracy is ${pct(acc)}, no better than chance (${pct(chance)}, the most frequent ` +
      'class)' +
      (tried.length > 0 ? `, and no other run did better (${tried.map((r) => r.what).join(', ')})` : '') +
      '. The labels may be shuffled or misaligned with the inputs, or the model cannot see the inputs.',
    action:
      'Check that each label belongs to its input (shuffle x and y with the same permutation), that the label column is the right one, and that the model receives the features.',
  };
}

/**
 * The loss falls while the accuracy ends below chance (the majority's share): the loss measures the wrong thing,
 * typically a sign bug (maximising the likelihood of wrong answers) or labels scrambled by the loss.
 * With `rewardsRightAnswers` (the loss of perfect predictions is below that of the class shares, see
 * dataChecks.ts), no flag: the loss is sound, the run only learned the class shares so far.
 */
export function mismatchFlag(
  curve: Curve,
  chance: number,
  n: number,
  rewardsRightAnswers?: boolean,
): RedFlag | undefined {
  if (rewardsRightAnswers === true) return undefined;
  const acc = curve.accuracy;
  if (!acc || acc.length < 2) return undefined;
  const l0 = curve.loss[0];
  const l1 = curve.loss[curve.loss.length - 1];
  const a0 = acc[0];
  const a1 = acc[acc.length - 1];
  const margin = 3 * Math.sqrt((chance * (1 - chance)) / Math.max(n, 1)) + 0.02;
  const lossFell = Number.isFinite(l1) && l1 < l0 - 0.01 * Math.abs(l0);
  // Only below chance: on imbalanced classes a model that learns the class shares first loses accuracy
  // from a lucky start down to the majority's share while its loss falls, which is no bug.
  if (!lossFell || !(a1 < chance - margin)) return undefined;
  return {
    id: 'lossAccuracyMismatch',
    severity: 'bug',
    confidence: 'medium',
    action:
      'Check the loss sign and the argument order (yTrue, yPred); check that the output layer matches the loss (softmax with cross-entropy).',
    message:
      `Training lowered the loss (${fmt(l0)} -> ${fmt(l1)}) but accuracy fell (${pct(a0)} -> ${pct(a1)}, chance ${pct(chance)}): ` +
      'the loss rewards wrong answers. Check its sign and that predictions and labels are passed in the right order.',
  };
}

/**
 * A barrier on the init -> final line: somewhere between the endpoints the loss rises above both by more
 * than 1% of the larger endpoint (a non-monotone path: the run crossed a ridge).
 */
export function barrierFlag(line: LineResult): RedFlag | undefined {
  if (line.kind !== 'interpolate') return undefined;
  const i0 = line.alphas.indexOf(0);
  const i1 = line.alphas.indexOf(1);
  if (i0 < 0 || i1 < 0) return undefined;
  const ends = Math.max(line.losses[i0], line.losses[i1]);
  let peak = Number.NEGATIVE_INFINITY;
  let at = 0;
  for (let i = i0 + 1; i < i1; i++) {
    const v = Number.isFinite(line.losses[i]) ? line.losses[i] : Number.POSITIVE_INFINITY;
    if (v > peak) {
      peak = v;
      at = line.alphas[i];
    }
  }
  if (!(peak > ends + 0.01 * Math.abs(ends))) return undefined;
  return {
    id: 'barrier',
    severity: 'warning',
    confidence: 'low',
    action: 'Nothing is wrong; if results vary between seeds, try a smaller rate or a warm-up.',
    message:
      `The loss between the initial and final weights is not monotone: it rises to ${fmt(peak)} at alpha = ${fmt(at)}, ` +
      `above both endpoints (${fmt(line.losses[i0])}, ${fmt(line.losses[i1])}). Training crossed a barrier; ` +
      'another seed or a smaller rate may end in a different basin.',
  };
}

/**
 * A cliff near the chosen rate: the range test blows up within a factor 4 above the recommendation,
 * so noise or a schedule peak can push training over the edge.
 */
export function cliffFlag(rt: RangeTestResult, chosen: number): RedFlag | undefined {
  if (rt.stopped === 'end' || !Number.isFinite(chosen)) return undefined;
  const edge = rt.lrs[rt.lrs.length - 1];
  if (edge > 4 * chosen) return undefined;
  return {
    id: 'cliff',
    severity: 'warning',
    confidence: 'medium',
    action:
      'Use a rate 2-3x below the chosen one for long runs, or a warm-up; avoid cyclical peaks above it.',
    message:
      `A cliff near the chosen rate: the loss ${rt.stopped === 'nonFinite' ? 'becomes NaN' : 'diverges'} at ${fmt(edge)}, ` +
      `only ${fmt(edge / chosen)}x the chosen ${fmt(chosen)}. Prefer a smaller rate or a warm-up; avoid the 2x peak of a cyclical schedule.`,
  };
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e4) ? v.toExponential(2) : Number(v.toPrecision(3)).toString();
}

function pct(v: number): string {
  return `${(100 * v).toFixed(1)}%`;
}
