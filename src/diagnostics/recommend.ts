/**
 * A learning-rate recommendation that is robust to noise (issue #21): the range test proposes candidates
 * (several rules, only from the region where the smoothed loss has fallen beyond the loss's own noise),
 * short confirmation runs at those rates (bracketed: a winner at the edge of what was tried is pushed one
 * half-decade further) decide on the held-out loss, and the answer says how sure it is and what it cost.
 * The same short runs compare learning-rate-free methods with the tuned rate.
 */
import type * as tf from '@tensorflow/tfjs';
import { deriveSeed } from '../core/rng.js';
import { AS_GOOD, bracketRate, HALF_DECADE, wobble } from './bracket.js';
import { disposeCheckpoint, type RunCheckpoint } from './checkpoint.js';
import type { DiagnosticData, LossSpec } from './common.js';
import { fmt } from './format.js';
import { pairedDifference } from './pairedDifference.js';
import type { RangeTestResult } from './rangeTest.js';
import { type ShortRun, type ShortRunOptions, shortRun } from './shortRun.js';
import { batchesPerEpoch, type Variant } from './trainer.js';

export { type ChunkEvaluation, chunkEvaluation } from './chunkEvaluation.js';
export { fmt } from './format.js';
export { pairedDifference } from './pairedDifference.js';
export { chunkLosses, type RunSpec, type ShortRun, type ShortRunOptions, shortRun } from './shortRun.js';

// ------------------------------------------------------------------------------------------------
// Noise and the region where the loss has fallen

/** The range test's own noise level and the rates at which its smoothed loss has measurably fallen. */
export interface FallRegion {
  /** Median raw loss of the first iterations (rates too small to move anything). */
  baseline: number;
  /** Robust standard deviation of those raw losses (1.4826 x MAD): the batch-to-batch noise. */
  noise: number;
  /**
   * How far below the baseline the smoothed loss must be to count as fallen, at the last point (earlier
   * points, which average fewer batches, need more).
   */
  threshold: number;
  /** First rate from which the smoothed loss stays below baseline - threshold up to its minimum. */
  from?: number;
  /** Rate at the lowest smoothed loss. */
  lowest?: number;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? Number.NaN : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/**
 * Baseline and noise from the first `max(5, numIt/10)` raw losses (the head); `from` is the first rate
 * after the head from which the smoothed loss stays below `baseline - threshold` up to its lowest point, threshold = max(2 x the noise
 * left after smoothing, 1% of the baseline). The noise after fastai's EMA (weight beta on the old value)
 * is noise x sqrt((1-beta)/(1+beta)); with no smoothing it is the raw noise.
 */
export function fallRegion(rt: RangeTestResult, smoothing = 0.98): FallRegion {
  const head = Math.max(5, Math.floor(rt.numIt / 10));
  const raw = rt.losses.slice(0, head).filter((v) => Number.isFinite(v));
  const baseline = median(raw);
  const noise = 1.4826 * median(raw.map((v) => Math.abs(v - baseline)));
  const floor = 0.01 * Math.abs(baseline);
  // Standard deviation left in the smoothed value i by the debiased EMA (weights
  // (1-b) b^(i-k) / (1-b^(i+1))): sum of squared weights = (1-b)^2 (1-b^(2(i+1))) / ((1-b^2)(1-b^(i+1))^2).
  // Early points average few batches, so they need a larger fall to count.
  const b = smoothing;
  const left = (i: number) =>
    b > 0
      ? Math.sqrt(((1 - b) ** 2 * (1 - b ** (2 * (i + 1)))) / ((1 - b * b) * (1 - b ** (i + 1)) ** 2))
      : 1;
  const thresholdAt = (i: number) => Math.max(2 * noise * left(i), floor);
  const threshold = thresholdAt(rt.smoothed.length - 1);
  const s = rt.smoothed;
  let iMin = -1;
  // The first iterations only measure the baseline (their smoothed values are nearly raw: debiasing).
  for (let i = head; i < s.length; i++) {
    if (!Number.isFinite(s[i])) break;
    if (iMin < 0 || s[i] < s[iMin]) iMin = i;
  }
  if (iMin < 0 || !Number.isFinite(baseline)) return { baseline, noise, threshold };
  let from = -1;
  for (let i = iMin; i >= head && Number.isFinite(s[i]) && s[i] < baseline - thresholdAt(i); i--) from = i;
  return {
    baseline,
    noise,
    threshold,
    ...(from >= 0 ? { from: rt.lrs[from] } : {}),
    lowest: rt.lrs[iMin],
  };
}

/** One range-test proposal: a rate and the rules that gave it (within a factor 2 of each other). */
export interface Proposal {
  lr: number;
  rules: string[];
}

/**
 * The range test's proposals: valley, steep, slide, minimum/10 and lr-finder's steepest, kept only inside
 * the fallen region [from, lowest], merged when within a factor 2, at most `max` (lowest, highest and the
 * one nearest their geometric middle). When none survives, the geometric middle of the region.
 */
export function proposals(rt: RangeTestResult, region: FallRegion, max = 3): Proposal[] {
  if (region.from === undefined || region.lowest === undefined) return [];
  const lo = region.from;
  const hi = region.lowest;
  const s = rt.suggestions;
  const raw = (
    [
      ['valley', s.valley?.lr],
      ['steep', s.steep?.lr],
      ['slide', s.slide?.lr],
      ['minimum/10', s.minimum?.lr],
      ['steepest', s.steepest?.lr],
    ] as const
  )
    .filter(([, lr]) => lr !== undefined && Number.isFinite(lr) && lr >= lo * 0.999 && lr <= hi * 1.001)
    .map(([rule, lr]) => ({ rule, lr: lr as number }))
    .sort((a, b) => a.lr - b.lr);
  const merged: Proposal[] = [];
  for (const r of raw) {
    const last = merged[merged.length - 1];
    if (last && r.lr < 2 * last.lr) last.rules.push(r.rule);
    else merged.push({ lr: r.lr, rules: [r.rule] });
  }
  if (merged.length === 0) return [{ lr: Math.sqrt(lo * hi), rules: ['middle of the fallen region'] }];
  if (merged.length <= max) return merged;
  const mid = Math.sqrt(merged[0].lr * merged[merged.length - 1].lr);
  let k = 1;
  for (let i = 2; i < merged.length - 1; i++)
    if (Math.abs(Math.log(merged[i].lr / mid)) < Math.abs(Math.log(merged[k].lr / mid))) k = i;
  return [merged[0], merged[k], merged[merged.length - 1]];
}

// ------------------------------------------------------------------------------------------------
// The confirmed learning rate

/** One rate the confirmation tried. */
export interface Candidate {
  lr: number;
  /** Where it came from: range-test rules, or `bracket` (added to pin the winner down). */
  source: string[];
  run: ShortRun;
  /** The short run lowered the held-out loss below its start by more than 2 standard errors. */
  fell: boolean;
}

/** The confirmed learning rate, with the candidates, the evidence and the cost. */
export interface LrChoice {
  /** The recommended rate: the winning run's own rate (NaN when nothing lowered the loss). */
  lr: number;
  /** False when the procedure is not sure; `why` says why and what to do. */
  sure: boolean;
  /** Reasons (for and against), in words. */
  why: string[];
  region: FallRegion;
  candidates: Candidate[];
  /** Rates within noise of the winner (the winner included): any of them trains about as well. */
  ties: number[];
  /**
   * The winner's rate run again with another batch order (and dropout masks), when it was: the training
   * noise is |its best held-out loss - the winner's|.
   */
  repeat?: ShortRun;
  /** |best held-out loss of the repeat - the winner's| (0 when not measured). */
  trainingNoise: number;
  /** Steps of each confirmation run. */
  steps: number;
  /**
   * Cost of the range test plus the confirmation runs (the repeat included): backward passes (each with
   * its forward), extra forward-only passes (line-search probes; none for SGD), wall seconds. Held-out
   * evaluations are not counted.
   */
  cost: { forwards: number; backwards: number; seconds: number };
}

/** Options of {@link confirmLearningRate}. */
export interface ConfirmOptions {
  /** Steps of each confirmation run. Default: two epochs, at least 100 and at most 300 mini-batches. */
  steps?: number;
  /** Runs beyond the range test's proposals, added a half-decade from the winner to pin it down. Default 5. */
  extensions?: number;
  /** Run the winner again with another batch order to measure the training noise. Default true. */
  repeat?: boolean;
  variant?: Variant;
  momentum?: number;
  batchSize: number;
  seed: number;
  loss?: LossSpec;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  /** Seconds the range test took (added to the cost). */
  rangeTestSeconds?: number;
  /**
   * Receives each candidate's run checkpoints (after its first epoch and at its end, when it got there;
   * the receiver disposes them), for longer runs at the chosen rate to continue (./checkpoint.ts).
   */
  keep?: (candidate: Candidate, checkpoints: RunCheckpoint[]) => void;
}

/**
 * The default steps of a confirmation run: two epochs, clamped to [100, 300] mini-batches (fewer than 100
 * steps ranked rates differently from longer runs on small data sets: docs/procedure.md).
 */
export function defaultConfirmSteps(trainSize: number, batchSize: number): number {
  return Math.max(100, Math.min(300, 2 * batchesPerEpoch(trainSize, batchSize)));
}

/**
 * Relative training noise above which the rate is not trusted: the loss goal of issue #21 is 10%, and a
 * rate whose own result moves by more than that with the batch order cannot be held to it.
 */
const NOISY = 0.1;

/**
 * Confirms the range test's proposals with short runs from the same weights and batch order. The lowest
 * held-out loss among the runs that lowered it measurably wins; runs within noise of it are its ties.
 * Rates a half-decade above (first) or below the ties are added until worse runs close them in on both
 * sides (at most `extensions` runs; never past a half-decade above the rate at which the range test
 * diverged). Then the winner is run again with another batch order: the difference is the training
 * noise, which widens the ties (and may call for one more bracketing run). The answer is the winner's
 * own rate (never a rate that was not run). Not sure, with the reason, when: the range test saw no
 * measurable fall; no run lowered the held-out loss beyond its noise; the winner is not closed in on
 * both sides; the ties span more than a half-decade (flat: the rate is not pinned down, though any of
 * them trains about as well); or the training noise exceeds 10% of the winner's loss.
 */
export async function confirmLearningRate(
  model: tf.LayersModel,
  data: DiagnosticData,
  rt: RangeTestResult,
  options: ConfirmOptions,
): Promise<LrChoice> {
  const t0 = performance.now();
  const region = fallRegion(rt);
  const props = proposals(rt, region);
  const steps = options.steps ?? defaultConfirmSteps(data.train.x.shape[0], options.batchSize);
  const extensions = options.extensions ?? 5;
  const variant = options.variant ?? rt.variant;
  const why: string[] = [];
  const candidates: Candidate[] = [];
  const total = props.length + extensions + 1;
  const limits = {
    lower: Math.min(rt.lrs[0] ?? 1e-7, ...props.map((p) => p.lr)),
    upper: (rt.divergedAt ?? rt.lrs[rt.lrs.length - 1] ?? 10) * HALF_DECADE,
  };
  let done = 0;
  const run = (lr: number, seed: number, keep?: (c: RunCheckpoint) => void) =>
    shortRun(
      model,
      data,
      { variant, lr, momentum: options.momentum },
      {
        steps,
        batchSize: options.batchSize,
        seed,
        loss: options.loss,
        signal: options.signal,
        ...(keep ? { checkpoints: { afterEpochs: [1], atEnd: true, keep } } : {}),
      },
    );
  const tryRate = async (lr: number, source: string[]) => {
    const kept: RunCheckpoint[] = [];
    let r: ShortRun;
    try {
      r = await run(lr, options.seed, options.keep ? (c) => kept.push(c) : undefined);
    } catch (e) {
      kept.forEach(disposeCheckpoint);
      throw e;
    }
    const d = pairedDifference(r.chunks, r.chunks0);
    const fell = Number.isFinite(r.best) && d.mean < -2 * (Number.isFinite(d.se) ? d.se : 0) && d.mean < 0;
    const candidate = { lr, source, run: r, fell };
    candidates.push(candidate);
    options.keep?.(candidate, kept);
    options.onProgress?.(++done, total);
  };
  const tried = () =>
    candidates.map((c) => ({
      lr: c.lr,
      best: c.run.best,
      chunks: c.run.chunks,
      fell: c.fell,
      start: c.run.loss[0],
      wobble: wobble(c.run.loss.slice(1)),
      c,
    }));
  let trainingNoise = 0;
  const judge = () => bracketRate(tried(), { ...limits, trainingNoise });
  const refine = async () => {
    for (let b = judge(); b.next !== undefined && candidates.length < budget; b = judge())
      await tryRate(b.next, ['bracket']);
  };
  if (props.length === 0) {
    why.push(
      `the range test's smoothed loss never fell more than ${fmt(region.threshold)} (its noise level) below its start ${fmt(region.baseline)}: ` +
        'widen the range (endLr), train longer per rate (numIt), or check the gradient',
    );
  }
  for (const p of props) await tryRate(p.lr, p.rules);
  // Nothing to propose: walk the short runs down from a half-decade below where the range test stopped
  // (a slow learner shows no fall in 100 growing batches but may learn at a constant rate); the answer
  // stays "not sure", since the range test did not see it.
  const top = rt.divergedAt ?? rt.lrs[rt.lrs.length - 1];
  const walk = props.length === 0 && Number.isFinite(top) && Number.isFinite(region.baseline);
  if (walk) await tryRate(top / HALF_DECADE, ['top-down (no fall in the range test)']);
  const budget = props.length + extensions;
  await refine();
  let repeat: ShortRun | undefined;
  const before = judge();
  const first = before.winner;
  // Flat already: the training noise could only widen the ties (and add no run: a flat bracket asks
  // for none), so the answer, "not sure: flat", is decided; the repeat is not run.
  const decidedFlat = before.flat;
  if (first && (options.repeat ?? true) && !decidedFlat) {
    repeat = await run(first.lr, deriveSeed(options.seed, 0x2e9e));
    options.onProgress?.(++done, total);
    trainingNoise = Number.isFinite(repeat.best)
      ? Math.abs(repeat.best - first.best)
      : Number.POSITIVE_INFINITY;
    await refine();
  }
  candidates.sort((a, b) => a.lr - b.lr);
  const b = judge();
  const w = b.winner?.c;
  let sure = props.length > 0 && w !== undefined;
  if (candidates.length > 0 && !w) {
    sure = false;
    why.push(
      'no confirmation run lowered the held-out loss by more than 2 standard errors: the rates tried do not learn on this budget; ' +
        'try more steps (confirm.steps) or another optimizer',
    );
  }
  const list = () => candidates.map((c) => `${fmt(c.lr)} (${fmt(c.run.best)})`).join(', ');
  if (w) {
    const ties = b.ties.map((t) => t.c);
    const tieText =
      ties.length > 1
        ? `; within noise of it: ${ties
            .filter((t) => t !== w)
            .map((t) => fmt(t.lr))
            .join(', ')}`
        : '';
    // A run whose held-out loss rose and fell back is uncertain by as much: say so when that decided a tie.
    const wobbly = tried()
      .filter((t) => (t.wobble ?? 0) > AS_GOOD * Math.abs(w.run.best))
      .sort((x, y) => (y.wobble ?? 0) - (x.wobble ?? 0))[0];
    if (wobbly)
      why.push(
        `the held-out loss of the run at ${fmt(wobbly.lr)} rose and fell back by ${fmt(wobbly.wobble)} between its measurements: ` +
          'rates whose best losses differ by less than that are counted as ties',
      );
    if (b.flat) {
      sure = false;
      if (decidedFlat && (options.repeat ?? true))
        why.push(
          'the winner was not run again with another batch order: its ties already span more than a half-decade, and the training noise could only widen them',
        );
      why.push(
        `flat: ${fmt(ties[0].lr)} to ${fmt(ties[ties.length - 1].lr)} are all within noise of the best ${fmt(w.lr)} (held-out ${fmt(w.run.best)}); ` +
          'the held-out loss hardly depends on the rate there, so it is not pinned down: any of them trains about as well; ' +
          'to separate them, confirm with more steps',
      );
    } else if (!b.pinned) {
      const side = !b.above || b.above.lr > ties[ties.length - 1].lr * HALF_DECADE * 1.05 ? 'upper' : 'lower';
      sure = false;
      why.push(
        `the best rate ${fmt(w.lr)} is at the ${side} edge of the rates tried (${list()}): a better one may lie beyond; ` +
          'widen the range test or allow more extensions (confirm.extensions)',
      );
    } else {
      why.push(
        `bracketed: ${fmt(w.lr)} (held-out ${fmt(w.run.best)}) beats ${fmt(b.below!.lr)} (${fmt(b.below!.best)}) and ${fmt(b.above!.lr)} (${fmt(b.above!.best)})${tieText}`,
      );
    }
    if (repeat) {
      const rel = trainingNoise / Math.abs(w.run.best);
      const noiseText = `run again with another batch order, ${fmt(first!.lr)} reached ${fmt(repeat.best)} instead of ${fmt(first!.best)} (training noise ${fmt(100 * rel)}%)`;
      if (!(rel <= NOISY)) {
        sure = false;
        why.push(
          `${noiseText}: more than ${100 * NOISY}%, so one short run per rate cannot rank the rates; ` +
            'a somewhat lower rate or a larger batch is usually steadier',
        );
      } else why.push(noiseText);
    }
  }
  const rangeSeconds = options.rangeTestSeconds ?? 0;
  return {
    lr: w?.lr ?? Number.NaN,
    sure,
    why,
    region,
    candidates,
    ties: b.ties.map((t) => t.lr),
    ...(repeat ? { repeat } : {}),
    trainingNoise,
    steps,
    cost: {
      forwards: candidates.reduce((s, c) => s + c.run.forwards, 0) + (repeat?.forwards ?? 0),
      backwards: rt.batches + candidates.reduce((s, c) => s + c.run.backwards, 0) + (repeat?.backwards ?? 0),
      seconds: rangeSeconds + (performance.now() - t0) / 1000,
    },
  };
}

// ------------------------------------------------------------------------------------------------
// Learning-rate-free methods against the tuned rate

/**
 * The learning-rate-free methods the procedure compares with the tuned rate by default (catalog names):
 * `auto` first (the one a user should try without any tuning), then the strongest of each family.
 */
export const LR_FREE_CANDIDATES: readonly string[] = ['auto', 'salsa', 'scheduleFreeAdamW', 'prodigy'];

/** One learning-rate-free method against the tuned rate. */
export interface LrFreeVerdict {
  name: string;
  run: ShortRun;
  /** Held-out loss minus the tuned rate's (paired over chunks of the held-out split) and its standard error. */
  difference: number;
  se: number;
  /** Tolerance used: max(2 standard errors, 2% of the tuned loss). */
  tolerance: number;
  /** True when the method's held-out loss is at most the tuned one plus the tolerance. */
  asGood: boolean;
}

/**
 * Runs each learning-rate-free method for the same steps as the confirmation runs and compares its best
 * held-out loss with the tuned rate's: "as good" when it is worse by at most max(2 standard errors of
 * the paired chunk differences, 2% of the tuned loss). A method's run stops at the held-out measurement
 * where its loss is already at or below the tuned run's best (paired mean difference <= 0): "as good"
 * is decided there (its `run.steps` is then below `steps`).
 */
export async function compareLrFree(
  model: tf.LayersModel,
  data: DiagnosticData,
  tuned: ShortRun,
  names: readonly string[],
  options: Omit<ShortRunOptions, 'steps'> & {
    steps: number;
    onProgress?: (done: number, total: number) => void;
  },
): Promise<LrFreeVerdict[]> {
  const out: LrFreeVerdict[] = [];
  for (const name of names) {
    // Decided once the method's held-out loss is at or below the tuned run's best (paired over the
    // chunks): its best can only get lower, so "as good" cannot turn into "worse"; the run stops there.
    const run = await shortRun(
      model,
      data,
      { catalog: name },
      {
        ...options,
        decided: (e) =>
          Number.isFinite(e.loss) &&
          pairedDifference(e.chunks, tuned.chunks).mean <= 0 &&
          e.loss <= tuned.best,
      },
    );
    const d = pairedDifference(run.chunks, tuned.chunks);
    const se = Number.isFinite(d.se) ? d.se : 0;
    const tolerance = Math.max(2 * se, AS_GOOD * Math.abs(tuned.best));
    out.push({
      name,
      run,
      difference: d.mean,
      se,
      tolerance,
      asGood: Number.isFinite(run.best) && d.mean <= tolerance,
    });
    options.onProgress?.(out.length, names.length);
  }
  return out;
}
