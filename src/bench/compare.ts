/**
 * The comparison: per task, baseline grids tuned on validation (as the Alrao paper does), every other
 * optimizer at its defaults, ratios to tuned SGD and tuned Adam, the tuning-inclusive cost, and an
 * AlgoPerf-style performance profile across tasks on cost-to-target.
 */
import { GRIDS } from '../optimizers/catalog.js';
import { benchmarkScore, meanStd, median, performanceRatios, tuningInclusiveCost } from './metrics.js';
import type { RunRecord } from './runner.js';

/** One row of a task's table. */
export interface ComparisonRow {
  /** `sgd (tuned: 0.1)` for a grid, else the optimizer spec. */
  method: string;
  /** The spec behind it (the best grid point for tuned baselines). */
  spec: string;
  tuned: boolean;
  seeds: number;
  diverged: number;
  testLoss: { mean: number; std: number };
  testMetric?: { mean: number; std: number };
  L: number;
  cost: number;
  wallSeconds: number;
  /** Test loss relative to tuned SGD / tuned Adam (< 1 is better). */
  lossVsSgd?: number;
  lossVsAdam?: number;
  /** For tuned baselines: the summed cost of the whole grid, and its ratio to one run. */
  gridCost?: number;
  gridCostRatio?: number;
  /** Median cost to reach the task's validation target (Infinity if not reached). */
  costToTarget: number;
  /** Why the optimizer refused this task (every seed), e.g. Newton above its maxParams. */
  refused?: string;
}

/** A task's comparison. */
export interface TaskComparison {
  task: string;
  metricName?: string;
  rows: ComparisonRow[];
}

const finiteOr = (x: number, fallback: number) => (Number.isFinite(x) ? x : fallback);

function rowFor(method: string, spec: string, tuned: boolean, runs: RunRecord[]): ComparisonRow {
  const ok = runs.filter((r) => !r.diverged && !r.refused);
  const metric = runs.some((r) => r.final.test.metric !== undefined)
    ? meanStd(ok.map((r) => r.final.test.metric ?? Number.NaN))
    : undefined;
  return {
    method,
    spec,
    tuned,
    seeds: runs.length,
    diverged: runs.filter((r) => r.diverged).length,
    testLoss: ok.length
      ? meanStd(ok.map((r) => r.final.test.loss))
      : { mean: Number.POSITIVE_INFINITY, std: 0 },
    testMetric: metric,
    L: ok.length === runs.length ? meanStd(runs.map((r) => r.L)).mean : Number.POSITIVE_INFINITY,
    cost: meanStd(runs.map((r) => r.cost)).mean,
    wallSeconds: meanStd(runs.map((r) => r.wallMs / 1000)).mean,
    costToTarget: median(runs.map((r) => (r.diverged ? Number.POSITIVE_INFINITY : r.toTarget.cost))),
    refused: runs.find((r) => r.refused)?.refused,
  };
}

/** Mean final validation loss of a spec over seeds; diverged runs count as +Infinity. */
function validationScore(runs: RunRecord[]): number {
  const xs = runs.map((r) =>
    r.diverged ? Number.POSITIVE_INFINITY : finiteOr(r.final.validation.loss, Number.POSITIVE_INFINITY),
  );
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Builds the comparison of every task in `records`. */
export function compare(records: readonly RunRecord[]): TaskComparison[] {
  const tasks = [...new Set(records.map((r) => r.task))];
  return tasks.map((task) => {
    const mine = records.filter((r) => r.task === task);
    const bySpec = new Map<string, RunRecord[]>();
    for (const r of mine) bySpec.set(r.optimizer, [...(bySpec.get(r.optimizer) ?? []), r]);
    const rows: ComparisonRow[] = [];
    for (const base of Object.keys(GRIDS)) {
      const specs = [...bySpec.keys()].filter((s) => s.startsWith(`${base}@`));
      if (specs.length === 0) continue;
      let best = specs[0];
      for (const s of specs)
        if (validationScore(bySpec.get(s)!) < validationScore(bySpec.get(best)!)) best = s;
      const row = rowFor(`${base} (tuned: ${best.slice(base.length + 1)})`, best, true, bySpec.get(best)!);
      // Grid cost per seed: every grid point's run with that seed.
      const seeds = [...new Set(bySpec.get(best)!.map((r) => r.seed))];
      const perSeed = seeds.map((seed) =>
        specs.flatMap((s) =>
          bySpec
            .get(s)!
            .filter((r) => r.seed === seed)
            .map((r) => r.cost),
        ),
      );
      const perSeedTotals = perSeed.map((costs) => tuningInclusiveCost(costs, row.cost));
      row.gridCost = meanStd(perSeedTotals.map((t) => t.grid)).mean;
      row.gridCostRatio = meanStd(perSeedTotals.map((t) => t.ratio)).mean;
      rows.push(row);
    }
    for (const [spec, runs] of bySpec) {
      if (spec.includes('@')) continue;
      rows.push(rowFor(spec, spec, false, runs));
    }
    const sgd = rows.find((r) => r.tuned && r.spec.startsWith('sgd@'));
    const adam = rows.find((r) => r.tuned && r.spec.startsWith('adam@'));
    for (const r of rows) {
      if (sgd) r.lossVsSgd = r.testLoss.mean / sgd.testLoss.mean;
      if (adam) r.lossVsAdam = r.testLoss.mean / adam.testLoss.mean;
    }
    const metricName = mine.find((r) => r.final.test.metric !== undefined) ? 'accuracy' : undefined;
    return { task, metricName, rows };
  });
}

/**
 * AlgoPerf-style profile on cost-to-target: ratios per method and task, and the score B per method.
 * With `tuningInclusive`, a tuned baseline also pays for the rest of its grid (every other grid run's
 * cost is added to its cost to target): the price of finding its learning rate.
 */
export function profile(
  comparisons: readonly TaskComparison[],
  options: { tuningInclusive?: boolean } = {},
): {
  ratios: Record<string, Record<string, number>>;
  scores: Record<string, number>;
} {
  const times: Record<string, Record<string, number>> = {};
  for (const c of comparisons) {
    for (const r of c.rows) {
      const name = r.tuned ? r.method.replace(/ \(tuned.*$/, ' (tuned)') : r.method;
      times[name] ??= {};
      const tuning = options.tuningInclusive && r.gridCost !== undefined ? r.gridCost - r.cost : 0;
      times[name][c.task] = r.costToTarget + tuning;
    }
  }
  const ratios = performanceRatios(times);
  const scores = Object.fromEntries(Object.entries(ratios).map(([s, r]) => [s, benchmarkScore(r)]));
  return { ratios, scores };
}
