/**
 * Grids that cannot hide an edge: after a sweep, a tuned grid whose best point (median validation loss over
 * seeds, failures worst) is the lowest or highest rate tried gets one more point in that direction, on the
 * same half-decade ladder (1, 3, 10, 30, ...), up to {@link EXTENSION_CAP} points beyond the grid's own
 * range on each side. The sweep runs these as follow-up phases until no grid asks for more; every phase is
 * computed from the store, so an interrupted sweep resumes where it stopped. An edge that remains (the cap
 * reached) is marked in the tables.
 */
import { bestOfGrid } from './compare.js';
import type { RunRecord } from './runner.js';
import { BENCH_GRIDS, type Grid, gridOf, gridSpec } from './specs.js';

/** At most this many points beyond a grid's own range, per side. */
export const EXTENSION_CAP = 2;

/** The next rate on the half-decade ladder 1e-3, 3e-3, 1e-2, ... (`dir` +1 up, -1 down). */
export function nextRate(eta: number, dir: 1 | -1): number {
  const k = Math.round(2 * Math.log10(eta)) + dir;
  const v = 10 ** Math.floor(k / 2) * (k % 2 !== 0 ? 3 : 1);
  return Number(v.toPrecision(1));
}

/** One extension run to make: a task and a spec (every seed of the plan). */
export interface Extension {
  task: string;
  spec: string;
  grid: string;
  direction: 'bottom' | 'top';
}

/**
 * The extension points the records ask for: per task and grid present, when the best point is an edge and
 * fewer than `cap` points lie beyond the grid's own range on that side, the next rate on that side. Only
 * grids whose every point tried has all `seeds` are considered (a sweep still running decides nothing).
 */
export function gridExtensions(
  records: readonly RunRecord[],
  seeds: readonly number[],
  options: { grids?: readonly Grid[]; cap?: number } = {},
): Extension[] {
  const cap = options.cap ?? EXTENSION_CAP;
  const out: Extension[] = [];
  for (const task of [...new Set(records.map((r) => r.task))]) {
    const bySpec = new Map<string, RunRecord[]>();
    for (const r of records)
      if (r.task === task && seeds.includes(r.seed))
        bySpec.set(r.optimizer, [...(bySpec.get(r.optimizer) ?? []), r]);
    const grids = new Map<Grid, Map<number, string>>();
    for (const spec of bySpec.keys()) {
      const g = gridOf(spec, options.grids ?? BENCH_GRIDS);
      if (!g) continue;
      if (!grids.has(g.grid)) grids.set(g.grid, new Map());
      grids.get(g.grid)!.set(g.eta, spec);
    }
    for (const [grid, points] of grids) {
      const complete = [...points.values()].every((s) =>
        seeds.every((seed) => bySpec.get(s)!.some((r) => r.seed === seed)),
      );
      // Only a whole grid is extended (a hand-picked pair of points, as the demo runs, is not a grid).
      if (!complete || !grid.etas.every((eta) => points.has(eta))) continue;
      const best = bestOfGrid(points, bySpec);
      if (!best.edge) continue;
      const beyond =
        best.edge === 'top'
          ? best.etas.filter((e) => e > Math.max(...grid.etas)).length
          : best.etas.filter((e) => e < Math.min(...grid.etas)).length;
      if (beyond >= cap) continue;
      const eta = nextRate(best.eta, best.edge === 'top' ? 1 : -1);
      out.push({ task, spec: gridSpec(grid, eta), grid: grid.name, direction: best.edge });
    }
  }
  return out;
}
