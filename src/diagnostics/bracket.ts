/**
 * Pinning the learning rate down from short runs (issue #21), as a pure function of the runs made so
 * far: which run wins, which others are within noise of it, whether the winner is bracketed by worse runs
 * at most a half-decade away on both sides, and which rate to try next when it is not.
 */
import { pairedDifference } from './pairedDifference.js';

/** Half a decade: the spacing of the rates the confirmation adds (the goal's resolution is about 3x). */
export const HALF_DECADE = Math.sqrt(10);
/** Slack on the half-decade spacing (rates proposed by the range test are not on a lattice). */
const SLACK = 1.05;

/** One short run at a rate, as the bracket needs it. */
export interface TriedRate {
  lr: number;
  /** Best held-out loss of the run (NaN when it diverged). */
  best: number;
  /** Held-out loss of each chunk of the held-out split at the best point (paired comparisons). */
  chunks: readonly number[];
  /** The run lowered the held-out loss below its start beyond its noise. */
  fell: boolean;
  /** Held-out loss before training (tells a run that made things worse from one that barely moved). */
  start?: number;
  /**
   * How far the run's own held-out loss went up and came back down between its measurements
   * ({@link wobble}); 0 or undefined when it never reversed.
   */
  wobble?: number;
}

/**
 * Practical equivalence: held-out losses within 2% of each other train equally well. The same margin
 * as the learning-rate-free comparison's "as good" (`compareLrFree`): a rate is not preferred over
 * another for a difference the procedure would call "as good" between two optimizers.
 */
export const AS_GOOD = 0.02;

/**
 * The largest reversal of a run's held-out loss along its measurements: max over j of
 * min(loss[j] - lowest before j, loss[j] - lowest after j), i.e. how far it rose and then came back
 * down. A run that only falls, only rises (diverges) or rises at its end has none. A best-of-a-few
 * measurement of a run that fluctuates by this much is uncertain by as much, which neither the
 * held-out chunks (they see the sample, not the trajectory) nor the winner's repeat (another run)
 * measure. Non-finite values are ignored.
 */
export function wobble(losses: readonly number[]): number {
  const v = losses.filter((x) => Number.isFinite(x));
  let out = 0;
  for (let j = 1; j < v.length - 1; j++) {
    const before = Math.min(...v.slice(0, j));
    const after = Math.min(...v.slice(j + 1));
    out = Math.max(out, Math.min(v[j] - before, v[j] - after));
  }
  return out;
}

/** The run made the model worse (or diverged): its best trained point is not below its start. */
function rose(c: TriedRate): boolean {
  return !Number.isFinite(c.best) || (c.start !== undefined && c.best >= c.start);
}

/** Options of {@link bracketRate}. */
export interface BracketOptions {
  /**
   * Training noise: how much the best held-out loss at one rate changes with the batch order (|difference|
   * of two seeds), 0 when unknown. Differences between rates smaller than this are noise.
   */
  trainingNoise?: number;
  /** Smallest rate the bracket may try. */
  lower: number;
  /** Largest rate the bracket may try. */
  upper: number;
}

/** What the runs so far say about the rate. */
export interface BracketState<T extends TriedRate = TriedRate> {
  /** Lowest held-out loss among the runs that fell. */
  winner?: T;
  /** Runs within noise of the winner (the winner included), by rate. */
  ties: T[];
  /** Nearest run below the lowest tie, and above the highest. */
  below?: T;
  above?: T;
  /** The ties span more than a half-decade: the held-out loss hardly depends on the rate there. */
  flat: boolean;
  /** Worse runs at most a half-decade away on both sides of the ties, and not flat. */
  pinned: boolean;
  /** The rate to try next to pin the winner down (undefined when pinned, flat or at a limit). */
  next?: number;
}

/**
 * Whether run `c` is within noise of the winner `w`: its held-out loss is above the winner's by less than
 * max(2 standard errors of the paired chunk differences, 2% of the winner's loss ({@link AS_GOOD}), the
 * training noise, the wobble of either run).
 */
export function withinNoise(c: TriedRate, w: TriedRate, trainingNoise = 0): boolean {
  if (c === w) return true;
  if (!Number.isFinite(c.best) || !Number.isFinite(w.best)) return false;
  const d = pairedDifference(c.chunks, w.chunks);
  const se = Number.isFinite(d.se) ? d.se : 0;
  const gap = Number.isFinite(d.mean) ? d.mean : c.best - w.best;
  return gap < Math.max(2 * se, AS_GOOD * Math.abs(w.best), trainingNoise, c.wobble ?? 0, w.wobble ?? 0);
}

/**
 * Judges the runs made so far. The winner is the lowest held-out loss among the runs that fell; its ties
 * are the runs within noise of it. The winner is pinned when the ties span at most a half-decade and
 * the nearest runs outside them, on both sides, are at most a half-decade away (they are worse, or they
 * would be ties). Otherwise `next` is the rate that would close the widest gap: a half-decade above the
 * highest tie first (a too-small rate is the usual failure), then below the lowest. When no run fell,
 * `next` walks away from the runs: below them when they all made the model worse, above when they all
 * barely moved.
 */
export function bracketRate<T extends TriedRate>(
  tried: readonly T[],
  options: BracketOptions,
): BracketState<T> {
  const sorted = [...tried].sort((a, b) => a.lr - b.lr);
  let winner: T | undefined;
  for (const c of sorted)
    if (c.fell && Number.isFinite(c.best) && (!winner || c.best < winner.best)) winner = c;
  if (!winner) {
    // Nothing fell: when every run made things worse the rates were too large, go a half-decade below
    // the lowest; when every run barely moved they were too small, go above the highest.
    const next =
      sorted.length === 0
        ? undefined
        : sorted.every(rose)
          ? sorted[0].lr / HALF_DECADE
          : sorted.every((c) => !rose(c))
            ? sorted[sorted.length - 1].lr * HALF_DECADE
            : undefined;
    const ok = next !== undefined && next >= options.lower && next <= options.upper;
    return { ties: [], flat: false, pinned: false, ...(ok ? { next } : {}) };
  }
  const w = winner;
  const ties = sorted.filter((c) => withinNoise(c, w, options.trainingNoise ?? 0));
  const lo = ties[0].lr;
  const hi = ties[ties.length - 1].lr;
  const below = sorted.filter((c) => c.lr < lo).pop();
  const above = sorted.find((c) => c.lr > hi);
  const flat = hi / lo > HALF_DECADE * SLACK;
  const closeAbove = above !== undefined && above.lr <= hi * HALF_DECADE * SLACK;
  const closeBelow = below !== undefined && below.lr >= lo / HALF_DECADE / SLACK;
  const pinned = !flat && closeAbove && closeBelow;
  let next: number | undefined;
  if (!flat && !closeAbove && hi * HALF_DECADE <= options.upper) next = hi * HALF_DECADE;
  else if (!flat && !closeBelow && lo / HALF_DECADE >= options.lower) next = lo / HALF_DECADE;
  return { winner, ties, below, above, flat, pinned, ...(next !== undefined ? { next } : {}) };
}
