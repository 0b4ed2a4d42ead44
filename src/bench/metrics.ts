/**
 * Metrics for comparing optimizers (ALGORITHMS.md §12): the log-loss area L of the SLS slides, its
 * cost-weighted form, time-to-target, AlgoPerf-style performance profiles and scores, and the
 * tuning-inclusive cost of a grid search.
 */
import { mulberry32 } from '../core/rng.js';

/**
 * L = (1/T) sum_t log(max(l_t, 1e-12)): the log of the geometric-mean loss. Lower is better. Any
 * non-finite loss makes the run failed: +Infinity.
 */
export function logLossArea(losses: readonly number[]): number {
  if (losses.length === 0) return Number.NaN;
  let s = 0;
  for (const l of losses) {
    if (!Number.isFinite(l)) return Number.POSITIVE_INFINITY;
    s += Math.log(Math.max(l, 1e-12));
  }
  return s / losses.length;
}

/** L_cost = sum_t log(l_t) * dc_t / sum_t dc_t: the time integral of log loss over total cost. */
export function costWeightedLogLossArea(losses: readonly number[], costs: readonly number[]): number {
  if (losses.length === 0 || losses.length !== costs.length) return Number.NaN;
  let s = 0;
  let c = 0;
  for (let i = 0; i < losses.length; i++) {
    if (!Number.isFinite(losses[i])) return Number.POSITIVE_INFINITY;
    s += Math.log(Math.max(losses[i], 1e-12)) * costs[i];
    c += costs[i];
  }
  return c > 0 ? s / c : Number.NaN;
}

/**
 * The first `time` at which `values` reaches `target` (<= for losses, >= when `higherIsBetter`);
 * +Infinity when never. `times` and `values` are aligned (e.g. cumulative cost at each evaluation).
 */
export function timeToTarget(
  times: readonly number[],
  values: readonly number[],
  target: number,
  higherIsBetter = false,
): number {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isFinite(v) && (higherIsBetter ? v >= target : v <= target)) return times[i];
  }
  return Number.POSITIVE_INFINITY;
}

/** Median of finite-or-infinite numbers (NaN ignored); NaN for an empty list. */
export function median(xs: readonly number[]): number {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Mean and sample standard deviation. */
export function meanStd(xs: readonly number[]): { mean: number; std: number } {
  const n = xs.length;
  if (n === 0) return { mean: Number.NaN, std: Number.NaN };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const v = n > 1 ? xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) : 0;
  return { mean, std: Math.sqrt(v) };
}

/**
 * AlgoPerf performance ratios: times[s][w] -> r[s][w] = t[s][w] / min_s' t[s'][w] (Infinity when s never
 * reached the target, or when nobody did).
 */
export function performanceRatios(
  times: Record<string, Record<string, number>>,
): Record<string, Record<string, number>> {
  const subs = Object.keys(times);
  const workloads = [...new Set(subs.flatMap((s) => Object.keys(times[s])))];
  const out: Record<string, Record<string, number>> = {};
  for (const s of subs) out[s] = {};
  for (const w of workloads) {
    const best = Math.min(...subs.map((s) => times[s][w] ?? Number.POSITIVE_INFINITY));
    for (const s of subs) {
      const t = times[s][w] ?? Number.POSITIVE_INFINITY;
      out[s][w] = Number.isFinite(best) && Number.isFinite(t) ? t / best : Number.POSITIVE_INFINITY;
    }
  }
  return out;
}

/** rho_s(tau) = fraction of workloads with r_{s,w} <= tau. */
export function performanceProfile(ratios: Record<string, number>, tau: number): number {
  const rs = Object.values(ratios);
  if (rs.length === 0) return 0;
  return rs.filter((r) => r <= tau).length / rs.length;
}

/**
 * B_s = (1/(rMax - 1)) * integral_1^rMax rho_s(tau) dtau, trapezoid rule on `points` taus (AlgoPerf).
 */
export function benchmarkScore(ratios: Record<string, number>, rMax = 4, points = 100): number {
  let area = 0;
  const h = (rMax - 1) / (points - 1);
  let prev = performanceProfile(ratios, 1);
  for (let i = 1; i < points; i++) {
    const cur = performanceProfile(ratios, 1 + i * h);
    area += ((prev + cur) / 2) * h;
    prev = cur;
  }
  return area / (rMax - 1);
}

/**
 * Tuning-inclusive cost: what it cost to find the grid's best point (the sum over every grid run) versus
 * one run of a method that needs no tuning. Returns the grid's total and the ratio.
 */
export function tuningInclusiveCost(
  gridRunCosts: readonly number[],
  singleRunCost: number,
): { grid: number; ratio: number } {
  const grid = gridRunCosts.reduce((a, b) => a + b, 0);
  return { grid, ratio: grid / singleRunCost };
}

/** A 95% interval (or another level) with its point estimate. */
export interface Interval {
  estimate: number;
  low: number;
  high: number;
}

/** Median where NaN counts as a failure (+Infinity, the worst for lower-is-better values). */
export function medianFailuresWorst(xs: readonly number[]): number {
  return median(xs.map((x) => (Number.isNaN(x) ? Number.POSITIVE_INFINITY : x)));
}

/** Empirical quantile (linear interpolation between order statistics) of sorted values; Infinity kept. */
function quantileSorted(s: readonly number[], q: number): number {
  if (s.length === 0) return Number.NaN;
  const pos = q * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  if (lo === hi || s[lo] === s[hi]) return s[lo];
  if (!Number.isFinite(s[hi])) return s[hi];
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

/** The fewest paired seeds from which {@link pairedBootstrap} gives a bounded interval. */
export const MIN_PAIRS = 3;

// The median of an even count with -Infinity and +Infinity in the middle is a tie (0), not NaN.
function statisticOf(xs: number[], statistic?: 'median' | 'mean'): number {
  if (statistic === 'mean') return xs.reduce((a, b) => a + b, 0) / xs.length;
  const m = median(xs);
  return Number.isNaN(m) ? 0 : m;
}

/**
 * Paired percentile bootstrap over seeds: resamples the paired values `d[i]` (one per seed, e.g. the log of
 * a ratio of two methods' results on seed i) with replacement `resamples` times, with a fixed seed (the same
 * data give the same interval), and returns the statistic (median by default: a failure's infinite value
 * ranks worst instead of poisoning a mean) with its `level` percentile interval.
 */
export function pairedBootstrap(
  d: readonly number[],
  options: { statistic?: 'median' | 'mean'; resamples?: number; level?: number; seed?: number } = {},
): Interval {
  const xs = d.map((x) => (Number.isNaN(x) ? Number.POSITIVE_INFINITY : x));
  const n = xs.length;
  if (n === 0) return { estimate: Number.NaN, low: Number.NaN, high: Number.NaN };
  // Fewer than MIN_PAIRS seeds bound nothing: a resample of one or two values only repeats them, and the
  // interval would claim a certainty the data cannot give. The interval is then unbounded (inconclusive).
  const stat = (v: number[]) => statisticOf(v, options.statistic);
  if (n < MIN_PAIRS)
    return { estimate: stat(xs), low: Number.NEGATIVE_INFINITY, high: Number.POSITIVE_INFINITY };
  const B = options.resamples ?? 2000;
  const level = options.level ?? 0.95;
  const rand = mulberry32(options.seed ?? 0x600d);
  const stats: number[] = [];
  const sample = new Array<number>(n);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < n; i++) sample[i] = xs[Math.floor(rand() * n)];
    stats.push(stat(sample));
  }
  const sorted = stats.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  const alpha = (1 - level) / 2;
  return {
    estimate: stat([...xs]),
    low: quantileSorted(sorted, alpha),
    high: quantileSorted(sorted, 1 - alpha),
  };
}

/**
 * The ratio A/B of paired per-seed results (lower is better for both, e.g. test loss or cost to target)
 * with its bootstrap interval: the median over seeds of A_i/B_i. A failure of A (NaN or Infinity) makes
 * that seed's ratio +Infinity; a failure of B alone makes it 0 (A wins that seed); both failing, 1.
 */
export function pairedRatio(a: readonly number[], b: readonly number[], seed = 0x600d): Interval {
  const bad = (x: number) => !Number.isFinite(x);
  const logs = a.map((x, i) => {
    const y = b[i];
    if (bad(x) && bad(y)) return 0;
    if (bad(x)) return Number.POSITIVE_INFINITY;
    if (bad(y)) return Number.NEGATIVE_INFINITY;
    return Math.log(Math.max(x, 1e-300) / Math.max(y, 1e-300));
  });
  const r = pairedBootstrap(logs, { seed });
  return { estimate: Math.exp(r.estimate), low: Math.exp(r.low), high: Math.exp(r.high) };
}

/** A verdict on "A is below B by the threshold" from an interval of A/B: inconclusive when it is covered. */
export function verdict(ratio: Interval, threshold = 1): 'better' | 'worse' | 'inconclusive' {
  if (ratio.high < threshold) return 'better';
  if (ratio.low > threshold) return 'worse';
  return 'inconclusive';
}
