/**
 * The comparison (docs/benchmark.md, "Protocol"): per task
 *
 * - tuned rows: each grid (warm-up + cosine reference grids, constant-rate secondary grids) picks the point
 *   with the lowest median final validation loss over seeds, a failed seed (diverged or refused) counting
 *   as +Infinity; a best point on the edge of the points tried is marked;
 * - every other spec (fixed configurations, learning-rate-free defaults) is a row of its own;
 * - aggregates are medians over seeds with failures ranked worst, never means over survivors;
 * - the reference is the best tuned scheduled row; every row's test loss is compared with it seed by seed
 *   (paired ratio, median, 95% percentile bootstrap interval, a verdict that is "inconclusive" when the
 *   interval covers 1);
 * - the target is the reference's worst seed's best monitored validation value (accuracy when the task
 *   has one, else loss), so the reference reaches it on every seed that did not fail; cost to target per
 *   seed (a miss or a failure: Infinity), median over seeds;
 * - tuning as AlgoPerf's external-tuning track: a tuned row is 5 trials of its grid (the 5 points around
 *   the chosen one); per seed its time is the fastest trial's cost to target, and with tuning paid, the
 *   sum of the 5 trials' real costs (each up to its target or to the end of its run).
 */

import {
  benchmarkScore,
  type Interval,
  median,
  medianFailuresWorst,
  pairedBootstrap,
  pairedRatio,
  performanceRatios,
  timeToTarget,
  verdict,
} from './metrics.js';
import type { RunRecord } from './runner.js';
import { type Grid, gridOf } from './specs.js';

/** Trials per tuning study, as AlgoPerf's external-tuning track. */
export const TUNING_TRIALS = 5;

/** What kind of row. */
export type RowKind = 'scheduled' | 'constant' | 'fixed' | 'default';

/** One row of a task's table. */
export interface ComparisonRow {
  /** `adamw+cosine (tuned: 0.001)` for a grid (`, top edge` / `, bottom edge` when the best is an edge). */
  method: string;
  /** The name in profiles and charts: `adamw+cosine (tuned)` or the spec. */
  name: string;
  /** The spec behind it (the best grid point for tuned rows). */
  spec: string;
  kind: RowKind;
  tuned: boolean;
  /** For a tuned row: its best point is the lowest or highest rate tried. */
  edge?: 'bottom' | 'top';
  /** For a tuned row: the rates tried. */
  gridEtas?: number[];
  seeds: number;
  /** Seeds that failed: diverged or refused. */
  failures: number;
  diverged: number;
  /** Median over seeds (failures: +Infinity) with a bootstrap 95% interval of the median. */
  testLoss: Interval;
  /** Median test metric (failures: -Infinity). */
  testMetric?: Interval;
  /** Median log-loss area L (failures: +Infinity). */
  L: number;
  /** Median cost of one run (forward-equivalents). */
  cost: number;
  wallSeconds: number;
  /** Test loss / the reference's, paired by seed: median ratio, 95% interval, verdict at 1. */
  vsRef?: Interval & { verdict: 'better' | 'worse' | 'inconclusive' };
  /** Median cost to the task's target (Infinity if the median seed misses it). */
  costToTarget: number;
  /** Seeds that reached the target. */
  reached: number;
  /** Tuned rows: AlgoPerf external tuning, median over seeds of the fastest of the 5 trials. */
  tunedCostToTarget?: number;
  /** Tuned rows: median over seeds of the summed real cost of the 5 trials (tuning paid). */
  paidCostToTarget?: number;
  /** Tuned rows: the specs of the 5 trials charged. */
  trials?: string[];
  /** Why the optimizer refused this task (any seed), e.g. Newton above its maxParams. */
  refused?: string;
}

/** A task's comparison. */
export interface TaskComparison {
  task: string;
  metricName?: string;
  /** The reference row's name (best tuned scheduled row), if the task has one. */
  reference?: string;
  /** The target and what it is measured on. */
  target?: { value: number; on: 'accuracy' | 'loss'; rule: string };
  rows: ComparisonRow[];
}

/** A run that counts as a failure in every aggregate: diverged, refused, or without a finite test loss. */
export const failed = (r: RunRecord) =>
  r.diverged || r.refused !== undefined || !Number.isFinite(r.final.test.loss);
const bySeed = (runs: readonly RunRecord[]) => [...runs].sort((a, b) => a.seed - b.seed);

/** Median final validation loss over seeds, failures +Infinity: how grid points are chosen. */
export function validationScore(runs: readonly RunRecord[]): number {
  return medianFailuresWorst(
    runs.map((r) => (failed(r) ? Number.POSITIVE_INFINITY : (r.final.validation.loss ?? Number.NaN))),
  );
}

/** The value a run's evaluations are scored on (accuracy when recorded, else loss). */
function scoreOf(r: RunRecord, on: 'accuracy' | 'loss'): number[] {
  return r.evals.map((e) => (on === 'accuracy' ? (e.metric ?? Number.NaN) : e.loss));
}

/** The best value a run reached on its monitored evaluations. */
function bestOf(r: RunRecord, on: 'accuracy' | 'loss'): number {
  const xs = scoreOf(r, on).filter(Number.isFinite);
  if (xs.length === 0) return on === 'accuracy' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  return on === 'accuracy' ? Math.max(...xs) : Math.min(...xs);
}

/** Cost until `r` first reached `target` (Infinity: missed, or the run failed). */
export function costToTarget(r: RunRecord, target: { value: number; on: 'accuracy' | 'loss' }): number {
  if (failed(r)) return Number.POSITIVE_INFINITY;
  return timeToTarget(
    r.evals.map((e) => e.cost),
    scoreOf(r, target.on),
    target.value,
    target.on === 'accuracy',
  );
}

/** The cost a trial really spent when run until the target or its end. */
function spentCost(r: RunRecord, target?: { value: number; on: 'accuracy' | 'loss' }): number {
  const t = target ? costToTarget(r, target) : Number.POSITIVE_INFINITY;
  return Number.isFinite(t) ? t : r.cost;
}

function rowFor(name: string, method: string, spec: string, kind: RowKind, runs: RunRecord[]): ComparisonRow {
  const rs = bySeed(runs);
  const hasMetric = rs.some((r) => r.final.test.metric !== undefined);
  const testLoss = pairedBootstrap(rs.map((r) => (failed(r) ? Number.POSITIVE_INFINITY : r.final.test.loss)));
  // Higher is better for the metric: bootstrap its negation so a failure (+Infinity there) ranks worst.
  const negMetric = hasMetric
    ? pairedBootstrap(
        rs.map((r) => (failed(r) ? Number.POSITIVE_INFINITY : -(r.final.test.metric ?? Number.NaN))),
      )
    : undefined;
  return {
    method,
    name,
    spec,
    kind,
    tuned: kind === 'scheduled' || kind === 'constant',
    seeds: rs.length,
    failures: rs.filter(failed).length,
    diverged: rs.filter((r) => r.diverged).length,
    testLoss,
    testMetric: negMetric && { estimate: -negMetric.estimate, low: -negMetric.high, high: -negMetric.low },
    L: medianFailuresWorst(rs.map((r) => (failed(r) ? Number.POSITIVE_INFINITY : r.L))),
    cost: median(rs.map((r) => r.cost)),
    wallSeconds: median(rs.map((r) => r.wallMs / 1000)),
    costToTarget: Number.POSITIVE_INFINITY,
    reached: 0,
    refused: rs.find((r) => r.refused)?.refused,
  };
}

/** The tuned grids present in a task's runs: grid -> spec -> runs. */
function gridsIn(bySpec: Map<string, RunRecord[]>, grids?: readonly Grid[]): Map<Grid, Map<number, string>> {
  const out = new Map<Grid, Map<number, string>>();
  for (const spec of bySpec.keys()) {
    const g = gridOf(spec, grids);
    if (!g) continue;
    if (!out.has(g.grid)) out.set(g.grid, new Map());
    out.get(g.grid)!.set(g.eta, spec);
  }
  return out;
}

/** The best point of a grid's runs and whether it is an edge of the rates tried. */
export function bestOfGrid(
  points: Map<number, string>,
  bySpec: Map<string, RunRecord[]>,
): { eta: number; spec: string; edge?: 'bottom' | 'top'; etas: number[] } {
  const etas = [...points.keys()].sort((a, b) => a - b);
  let best = etas[0];
  for (const eta of etas)
    if (validationScore(bySpec.get(points.get(eta)!)!) < validationScore(bySpec.get(points.get(best)!)!))
      best = eta;
  const edge =
    etas.length < 2
      ? undefined
      : best === etas[0]
        ? 'bottom'
        : best === etas[etas.length - 1]
          ? 'top'
          : undefined;
  return { eta: best, spec: points.get(best)!, edge, etas };
}

/** The `n` rates of `etas` (sorted) nearest to `best` in grid order: the trials charged to a tuned row. */
export function trialWindow(etas: readonly number[], best: number, n = TUNING_TRIALS): number[] {
  const i = etas.indexOf(best);
  let lo = Math.max(0, i - Math.floor((n - 1) / 2));
  const hi = Math.min(etas.length, lo + n);
  lo = Math.max(0, hi - n);
  return etas.slice(lo, hi);
}

/** Builds the comparison of every task in `records`. */
export function compare(
  records: readonly RunRecord[],
  options: { grids?: readonly Grid[] } = {},
): TaskComparison[] {
  const tasks = [...new Set(records.map((r) => r.task))];
  return tasks.map((task) => {
    const mine = records.filter((r) => r.task === task);
    const bySpec = new Map<string, RunRecord[]>();
    for (const r of mine) bySpec.set(r.optimizer, [...(bySpec.get(r.optimizer) ?? []), r]);
    const rows: ComparisonRow[] = [];
    const tunedTrials = new Map<ComparisonRow, string[]>();
    const grids = gridsIn(bySpec, options.grids);
    for (const [grid, points] of grids) {
      const best = bestOfGrid(points, bySpec);
      const edge = best.edge ? `, ${best.edge} edge` : '';
      const row = rowFor(
        `${grid.name} (tuned)`,
        `${grid.name} (tuned: ${best.eta}${edge})`,
        best.spec,
        grid.scheduled ? 'scheduled' : 'constant',
        bySpec.get(best.spec)!,
      );
      row.edge = best.edge;
      row.gridEtas = best.etas;
      const trials = trialWindow(best.etas, best.eta).map((eta) => points.get(eta)!);
      row.trials = trials;
      tunedTrials.set(row, trials);
      rows.push(row);
    }
    for (const [spec, runs] of bySpec) {
      if (gridOf(spec, options.grids)) continue;
      const kind: RowKind = /-algoperf$|-post$|^alrao-wrapped$/.test(spec) ? 'fixed' : 'default';
      rows.push(rowFor(spec, spec, spec, kind, runs));
    }
    const metricName = mine.some((r) => r.final.test.metric !== undefined) ? 'accuracy' : undefined;
    const on: 'accuracy' | 'loss' = mine.some((r) => r.evals.some((e) => e.metric !== undefined))
      ? 'accuracy'
      : 'loss';
    // The reference: the best tuned scheduled row on median validation loss.
    // (Without scheduled grids, e.g. a quick run of constant grids only, the best tuned row of any kind.)
    const scheduled = rows.filter((r) => r.kind === 'scheduled');
    const candidates = scheduled.length > 0 ? scheduled : rows.filter((r) => r.tuned);
    const ref = candidates.sort(
      (a, b) => validationScore(bySpec.get(a.spec)!) - validationScore(bySpec.get(b.spec)!),
    )[0];
    let target: TaskComparison['target'];
    if (ref) {
      const refRuns = bySeed(bySpec.get(ref.spec)!);
      const bests = refRuns.filter((r) => !failed(r)).map((r) => bestOf(r, on));
      const value = on === 'accuracy' ? Math.min(...bests) : Math.max(...bests);
      if (bests.length > 0 && Number.isFinite(value))
        target = {
          value,
          on,
          rule: `the worst seed's best monitored validation ${on} of ${ref.method}`,
        };
      const refLoss = refRuns.map((r) => (failed(r) ? Number.POSITIVE_INFINITY : r.final.test.loss));
      const refSeeds = refRuns.map((r) => r.seed);
      for (const row of rows) {
        const runs = bySeed(bySpec.get(row.spec)!);
        const a: number[] = [];
        const b: number[] = [];
        for (const [i, seed] of refSeeds.entries()) {
          const r = runs.find((x) => x.seed === seed);
          if (!r) continue;
          a.push(failed(r) ? Number.POSITIVE_INFINITY : r.final.test.loss);
          b.push(refLoss[i]);
        }
        if (a.length === 0) continue;
        const ratio = pairedRatio(a, b);
        row.vsRef = { ...ratio, verdict: verdict(ratio) };
      }
    }
    if (target) {
      const t = target;
      const seeds = [...new Set(mine.map((r) => r.seed))].sort((x, y) => x - y);
      for (const row of rows) {
        const times = bySeed(bySpec.get(row.spec)!).map((r) => costToTarget(r, t));
        row.costToTarget = medianFailuresWorst(times);
        row.reached = times.filter(Number.isFinite).length;
        const trials = tunedTrials.get(row);
        if (!trials) continue;
        const perSeed = seeds.map((seed) => {
          const runs = trials.map((s) => bySpec.get(s)!.find((r) => r.seed === seed));
          const present = runs.filter((r): r is RunRecord => r !== undefined);
          const fastest = Math.min(...present.map((r) => costToTarget(r, t)));
          const spent = present.reduce((acc, r) => acc + spentCost(r, t), 0);
          return { fastest, paid: Number.isFinite(fastest) ? spent : Number.POSITIVE_INFINITY };
        });
        row.tunedCostToTarget = medianFailuresWorst(perSeed.map((p) => p.fastest));
        row.paidCostToTarget = medianFailuresWorst(perSeed.map((p) => p.paid));
      }
    }
    // Reference first, then the other scheduled rows, fixed rows, defaults, constant-rate rows last.
    const order: Record<RowKind, number> = { scheduled: 0, fixed: 1, default: 2, constant: 3 };
    rows.sort((x, y) => (x === ref ? -1 : y === ref ? 1 : order[x.kind] - order[y.kind]));
    return { task, metricName, reference: ref?.name, target, rows };
  });
}

/** How a tuned row's time to target is counted in a profile. */
export type Tuning = 'one-run' | 'external' | 'paid';

/**
 * AlgoPerf-style profile on cost to target: ratios per method and task, and the score B (area under the
 * profile on tau in [1, 4], normalised) per method. A tuned row's time: `one-run`, its chosen point's median
 * cost to target; `external` (AlgoPerf's external-tuning scoring), the median over seeds of its 5 trials'
 * fastest; `paid`, the median over seeds of the 5 trials' summed real cost. Other rows: their own median.
 */
export function profile(
  comparisons: readonly TaskComparison[],
  options: { tuning?: Tuning; tuningInclusive?: boolean } = {},
): {
  ratios: Record<string, Record<string, number>>;
  scores: Record<string, number>;
} {
  const tuning: Tuning = options.tuning ?? (options.tuningInclusive ? 'paid' : 'one-run');
  const times: Record<string, Record<string, number>> = {};
  for (const c of comparisons) {
    for (const r of c.rows) {
      times[r.name] ??= {};
      const t =
        tuning === 'external' && r.tunedCostToTarget !== undefined
          ? r.tunedCostToTarget
          : tuning === 'paid' && r.paidCostToTarget !== undefined
            ? r.paidCostToTarget
            : r.costToTarget;
      times[r.name][c.task] = t;
    }
  }
  const ratios = performanceRatios(times);
  const scores = Object.fromEntries(Object.entries(ratios).map(([s, r]) => [s, benchmarkScore(r)]));
  return { ratios, scores };
}
