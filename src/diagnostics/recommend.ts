/**
 * A learning-rate recommendation that is robust to noise (issue #21): the range test proposes candidates
 * (several rules, only from the region where the smoothed loss has fallen beyond the loss's own noise),
 * short confirmation runs at those rates (bracketed: a winner at the edge of what was tried is pushed one
 * half-decade further) decide on the held-out loss, and the answer says how sure it is and what it cost.
 * The same short runs compare learning-rate-free methods with the tuned rate.
 */
import * as tf from '@tensorflow/tfjs';
import { withEvalPoint } from '../core/evalPoint.js';
import type { LrfreeOptimizer } from '../core/optimizer.js';
import { catalogEntry } from '../optimizers/catalog.js';
import {
  type DataSplit,
  type DiagnosticData,
  evaluate,
  type LossSpec,
  preservingModel,
  sliceRows,
} from './common.js';
import { heldOut } from './curves.js';
import type { RangeTestResult } from './rangeTest.js';
import { batchesPerEpoch, diagnosticOptimizer, runEpoch, type Variant } from './trainer.js';

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
// Short runs with a held-out loss and its noise

/** A short training run: held-out loss at a few points, the best one, and its per-chunk losses. */
export interface ShortRun {
  /** `sgd@0.1`, `salsa`, ... */
  name: string;
  variant?: Variant;
  lr?: number;
  steps: number;
  /** Steps after which the held-out loss was measured (0 = before training). */
  at: number[];
  loss: number[];
  accuracy?: number[];
  /** Lowest held-out loss (NaN when none is finite). */
  best: number;
  /** Accuracy at the best point. */
  bestAccuracy?: number;
  /** Held-out loss of each chunk of the held-out split at the best point (for paired noise estimates). */
  chunks: number[];
  /** Held-out loss of each chunk before training. */
  chunks0: number[];
  forwards: number;
  backwards: number;
  ms: number;
}

/** Loss of each of `k` equal chunks of a split (the last takes the remainder). */
export function chunkLosses(model: tf.LayersModel, split: DataSplit, loss?: LossSpec, k = 10): number[] {
  const n = split.x.shape[0];
  const parts = Math.max(1, Math.min(k, n));
  const size = Math.floor(n / parts);
  const out: number[] = [];
  for (let i = 0; i < parts; i++) {
    const start = i * size;
    const len = i === parts - 1 ? n - start : size;
    const part = tf.tidy(() => ({ x: sliceRows(split.x, start, len), y: sliceRows(split.y, start, len) }));
    try {
      out.push(evaluate(model, part, loss).loss);
    } finally {
      tf.dispose([part.x, part.y]);
    }
  }
  return out;
}

/** Mean and standard error of the paired differences a - b (chunk by chunk). */
export function pairedDifference(a: readonly number[], b: readonly number[]): { mean: number; se: number } {
  const n = Math.min(a.length, b.length);
  if (n === 0) return { mean: Number.NaN, se: Number.NaN };
  const d = Array.from({ length: n }, (_, i) => a[i] - b[i]);
  const mean = d.reduce((s, v) => s + v, 0) / n;
  if (n < 2) return { mean, se: Number.NaN };
  const v = d.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1);
  return { mean, se: Math.sqrt(v / n) };
}

/** What a short run trains with: one of the diagnostics' variants at a rate, or a catalog optimizer. */
export type RunSpec = { variant: Variant; lr: number; momentum?: number } | { catalog: string };

/** Options of {@link shortRun}. */
export interface ShortRunOptions {
  steps: number;
  /** Held-out evaluations after training starts (evenly spaced, the last at the end). Default 4. */
  evaluations?: number;
  batchSize: number;
  seed: number;
  loss?: LossSpec;
  signal?: AbortSignal;
}

function specName(spec: RunSpec): string {
  return 'catalog' in spec ? spec.catalog : `${spec.variant}@${fmt(spec.lr)}`;
}

/**
 * Trains `steps` mini-batches from the current weights with `spec`, measuring the held-out loss (per
 * chunk too) `evaluations` times (at the method's evaluation point, e.g. Schedule-Free's x); restores
 * the model. Stops early when the training loss is not finite.
 */
export async function shortRun(
  model: tf.LayersModel,
  data: DiagnosticData,
  spec: RunSpec,
  options: ShortRunOptions,
): Promise<ShortRun> {
  const split = heldOut(data);
  const spe = batchesPerEpoch(data.train.x.shape[0], options.batchSize);
  const t0 = performance.now();
  return preservingModel(model, async () => {
    const opt: LrfreeOptimizer =
      'catalog' in spec
        ? catalogEntry(spec.catalog)
            .make({ stepsPerEpoch: spe, totalSteps: options.steps, seed: options.seed })
            .attachModel(model)
        : diagnosticOptimizer(
            spec.variant,
            { lr: spec.lr, momentum: 'momentum' in spec ? (spec.momentum ?? 0.9) : 0.9 },
            { model, seed: options.seed },
          );
    const evals = Math.max(1, options.evaluations ?? 4);
    const marks = Array.from({ length: evals }, (_, i) =>
      Math.max(1, Math.round(((i + 1) * options.steps) / evals)),
    );
    const chunks0 = chunkLosses(model, split, options.loss);
    const e0 = evaluate(model, split, options.loss);
    const at = [0];
    const loss = [e0.loss];
    const acc = e0.accuracy === undefined ? undefined : [e0.accuracy];
    let bestChunks = chunks0;
    let best = Number.isFinite(e0.loss) ? e0.loss : Number.POSITIVE_INFINITY;
    let bestAcc = e0.accuracy;
    let done = 0;
    let broken = false;
    const measure = () =>
      withEvalPoint(opt, { model, trainX: data.train.x, batchSize: options.batchSize }, () => {
        const e = evaluate(model, split, options.loss);
        at.push(done);
        loss.push(e.loss);
        if (acc && e.accuracy !== undefined) acc.push(e.accuracy);
        if (Number.isFinite(e.loss) && e.loss < best) {
          best = e.loss;
          bestAcc = e.accuracy;
          bestChunks = chunkLosses(model, split, options.loss);
        }
      });
    try {
      for (let epoch = 0; done < options.steps && !broken; epoch++) {
        await runEpoch(model, data.train, opt, {
          batchSize: options.batchSize,
          seed: options.seed,
          epoch,
          loss: options.loss,
          signal: options.signal,
          maxBatches: options.steps - done,
          afterBatch: (_, l) => {
            done += 1;
            if (!Number.isFinite(l)) {
              broken = true;
              return false;
            }
            if (marks.includes(done)) measure();
            return done < options.steps;
          },
        });
      }
      if (broken) {
        at.push(done);
        loss.push(Number.NaN);
        acc?.push(Number.NaN);
      }
    } finally {
      opt.dispose();
    }
    return {
      name: specName(spec),
      ...('catalog' in spec ? {} : { variant: spec.variant, lr: spec.lr }),
      steps: done,
      at,
      loss,
      ...(acc ? { accuracy: acc } : {}),
      best: Number.isFinite(best) ? best : Number.NaN,
      ...(bestAcc !== undefined ? { bestAccuracy: bestAcc } : {}),
      chunks: bestChunks,
      chunks0,
      forwards: opt.counters.forwards,
      backwards: opt.counters.backwards,
      ms: performance.now() - t0,
    };
  });
}

// ------------------------------------------------------------------------------------------------
// The confirmed learning rate

/** One rate the confirmation tried. */
export interface Candidate {
  lr: number;
  /** Where it came from: range-test rules, or `bracket` (pushed past the edge of what was tried). */
  source: string[];
  run: ShortRun;
  /** The short run lowered the held-out loss below its start by more than 2 standard errors. */
  fell: boolean;
}

/** The confirmed learning rate, with the candidates, the evidence and the cost. */
export interface LrChoice {
  /** The recommended rate (NaN when nothing lowered the loss). */
  lr: number;
  /** False when the procedure is not sure; `why` says why. */
  sure: boolean;
  /** Reasons (for and against), in words. */
  why: string[];
  region: FallRegion;
  candidates: Candidate[];
  /** Steps of each confirmation run. */
  steps: number;
  /**
   * Cost of the range test plus the confirmation runs: backward passes (each with its forward), extra
   * forward-only passes (line-search probes; none for SGD), wall seconds. Held-out evaluations are not
   * counted.
   */
  cost: { forwards: number; backwards: number; seconds: number };
}

/** Options of {@link confirmLearningRate}. */
export interface ConfirmOptions {
  /** Steps of each confirmation run. Default: two epochs, at least 50 and at most 300 mini-batches. */
  steps?: number;
  /** Times a winner at the edge of the tried rates is pushed one half-decade further. Default 6. */
  extensions?: number;
  variant?: Variant;
  momentum?: number;
  batchSize: number;
  seed: number;
  loss?: LossSpec;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  /** Seconds the range test took (added to the cost). */
  rangeTestSeconds?: number;
}

/** The default steps of a confirmation run: two epochs, clamped to [50, 300] mini-batches. */
export function defaultConfirmSteps(trainSize: number, batchSize: number): number {
  return Math.max(50, Math.min(300, 2 * batchesPerEpoch(trainSize, batchSize)));
}

const HALF_DECADE = Math.sqrt(10);

/**
 * Confirms the range test's proposals with short runs (the lowest held-out loss wins, among runs that
 * lowered it measurably), pushing a winner at the edge of the tried rates one half-decade further (at
 * most `extensions` times, never past the rate at which the range test diverged). When one neighbour of
 * the winner is within noise (2 standard errors of the paired chunk differences, or 0.5%), the answer is
 * their geometric middle. Not sure when: the range test saw no measurable fall; no run lowered the
 * held-out loss beyond its noise; the winner is still at an edge; or both neighbours are within noise
 * (flat: any of them trains about as well, but the rate is not pinned down).
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
  const extensions = options.extensions ?? 6;
  const variant = options.variant ?? rt.variant;
  const why: string[] = [];
  const candidates: Candidate[] = [];
  const total = props.length + 2 * extensions;
  const ceiling = rt.divergedAt ?? Number.POSITIVE_INFINITY;
  const tryRate = async (lr: number, source: string[]) => {
    const run = await shortRun(
      model,
      data,
      { variant, lr, momentum: options.momentum },
      { steps, batchSize: options.batchSize, seed: options.seed, loss: options.loss, signal: options.signal },
    );
    const d = pairedDifference(run.chunks, run.chunks0);
    const fell = Number.isFinite(run.best) && d.mean < -2 * (Number.isFinite(d.se) ? d.se : 0) && d.mean < 0;
    candidates.push({ lr, source, run, fell });
    options.onProgress?.(candidates.length, total);
  };
  if (props.length === 0) {
    why.push(
      `the range test's smoothed loss never fell more than ${fmt(region.threshold)} (its noise level) below its start ${fmt(region.baseline)}`,
    );
  }
  for (const p of props) await tryRate(p.lr, p.rules);
  const winner = () => {
    let w: Candidate | undefined;
    for (const c of candidates) if (c.fell && (!w || c.run.best < w.run.best)) w = c;
    return w;
  };
  for (let k = 0; k < extensions && candidates.length > 0; k++) {
    const w = winner();
    if (!w) break;
    const tried = candidates.map((c) => c.lr);
    if (w.lr >= Math.max(...tried) && w.lr * HALF_DECADE < ceiling)
      await tryRate(w.lr * HALF_DECADE, ['bracket']);
    else if (w.lr <= Math.min(...tried)) await tryRate(w.lr / HALF_DECADE, ['bracket']);
    else break;
  }
  candidates.sort((a, b) => a.lr - b.lr);
  const w = winner();
  let sure = props.length > 0 && w !== undefined;
  if (candidates.length > 0 && !w) {
    sure = false;
    why.push('no confirmation run lowered the held-out loss by more than 2 standard errors');
  }
  let lr = w?.lr ?? Number.NaN;
  if (w) {
    const i = candidates.indexOf(w);
    const below = candidates[i - 1];
    const above = candidates[i + 1];
    const atTop = !above && !(w.lr * HALF_DECADE >= ceiling);
    if (!below || atTop) {
      sure = false;
      why.push(
        `the best rate ${fmt(w.lr)} is at the ${below ? 'upper' : 'lower'} edge of the rates tried (${candidates.map((c) => fmt(c.lr)).join(', ')}): a better one may lie beyond`,
      );
    } else {
      why.push(
        `bracketed: ${fmt(w.lr)} (held-out ${fmt(w.run.best)}) beats ${fmt(below.lr)} (${fmt(below.run.best)})` +
          (above
            ? ` and ${fmt(above.lr)} (${fmt(above.run.best)})`
            : ` and the range test diverges at ${fmt(ceiling)}`),
      );
      // A neighbour within noise: the best rate lies anywhere between the two, so take their geometric
      // middle (within sqrt(ratio) of either); both within noise: the loss is flat here, the rate is not
      // pinned down (though any of them trains about as well).
      const ties = [below, above].filter((n): n is Candidate => {
        if (!n || !Number.isFinite(n.run.best)) return false;
        const d = pairedDifference(n.run.chunks, w.run.chunks);
        return d.mean < 2 * (Number.isFinite(d.se) ? d.se : 0) || d.mean < 0.005 * Math.abs(w.run.best);
      });
      if (ties.length === 1) {
        lr = Math.sqrt(w.lr * ties[0].lr);
        why.push(
          `${fmt(ties[0].lr)} is within noise of it, so the rate is their geometric middle ${fmt(lr)} (not run itself)`,
        );
      } else if (ties.length === 2) {
        sure = false;
        why.push(
          `flat: ${fmt(below.lr)} and ${fmt(above!.lr)} are both within noise of ${fmt(w.lr)}; the held-out loss hardly depends on the rate here, so it is not pinned down (any of them trains about as well)`,
        );
      }
    }
  }
  const rangeSeconds = options.rangeTestSeconds ?? 0;
  return {
    lr,
    sure,
    why,
    region,
    candidates,
    steps,
    cost: {
      forwards: candidates.reduce((s, c) => s + c.run.forwards, 0),
      backwards: rt.batches + candidates.reduce((s, c) => s + c.run.backwards, 0),
      seconds: rangeSeconds + (performance.now() - t0) / 1000,
    },
  };
}

// ------------------------------------------------------------------------------------------------
// Learning-rate-free methods against the tuned rate

/**
 * The learning-rate-free methods the procedure compares with the tuned rate by default (catalog names;
 * add `auto` here when it exists).
 */
export const LR_FREE_CANDIDATES: readonly string[] = ['salsa', 'scheduleFreeAdamW', 'prodigy'];

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
 * the paired chunk differences, 2% of the tuned loss).
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
    const run = await shortRun(model, data, { catalog: name }, options);
    const d = pairedDifference(run.chunks, tuned.chunks);
    const se = Number.isFinite(d.se) ? d.se : 0;
    const tolerance = Math.max(2 * se, 0.02 * Math.abs(tuned.best));
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

/** Short number format shared by the diagnostics' messages. */
export function fmt(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e4) ? v.toExponential(2) : Number(v.toPrecision(3)).toString();
}
