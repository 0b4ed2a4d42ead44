/** Suites: which tasks, optimizers and seeds a sweep runs; and the plan of runs, sharded. */

import { LrfreeConfigError } from '../core/validate.js';
import { catalog } from '../optimizers/catalog.js';
import { runKey } from './runner.js';
import { ALRAO_WRAPPED, BENCH_GRIDS, FIXED, gridSpec } from './specs.js';
import type { Suite } from './task.js';
import { TASKS } from './tasks/index.js';

/** One planned run. */
export interface PlannedRun {
  key: string;
  task: string;
  optimizer: string;
  seed: number;
  suite: Suite;
}

/**
 * What a suite runs: the reference grids (momentum and AdamW with warm-up + cosine, tuned on validation),
 * the fixed-configuration rows (never tuned), every learning-rate-free optimizer at its defaults, Adam at
 * its default, and (not in the quick suite) the constant-rate grids as secondary rows.
 */
export function defaultOptimizers(suite: Suite = 'standard'): string[] {
  const lrFree = catalog()
    .filter((e) => e.family !== 'baseline')
    .map((e) => e.name);
  const grids = (scheduled: boolean) =>
    BENCH_GRIDS.filter((g) => g.scheduled === scheduled).flatMap((g) =>
      g.etas.map((eta) => gridSpec(g, eta)),
    );
  return [
    ...grids(true),
    ...Object.keys(FIXED),
    ALRAO_WRAPPED,
    'adam',
    ...lrFree,
    ...(suite === 'quick' ? [] : grids(false)),
  ];
}

/** What each suite runs when the user does not say. */
export function suiteDefaults(suite: Suite): { tasks: string[]; seeds: number[] } {
  switch (suite) {
    case 'quick':
      return {
        tasks: ['quadratic', 'rosenbrock', 'linreg', 'deep-regression', 'mnist-mlp', 'char-transformer'],
        seeds: [1],
      };
    case 'standard':
      return { tasks: TASKS.map((t) => t.name), seeds: [1, 2, 3, 4, 5] };
    case 'full':
      return { tasks: TASKS.map((t) => t.name), seeds: [1, 2, 3, 4, 5] };
  }
}

/** Parses `i/n` (0-based i, as SLURM_ARRAY_TASK_ID and Kubernetes JOB_COMPLETION_INDEX count). */
export function parseShard(text: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : Number.NaN;
  const count = m ? Number(m[2]) : Number.NaN;
  if (!m || count < 1 || index >= count) {
    throw new LrfreeConfigError(`--shard '${text}': use i/n with 0 <= i < n, e.g. 0/4 ... 3/4.`);
  }
  return { index, count };
}

/**
 * The runs of a sweep, in a fixed order (task, optimizer, seed) so every shard computes the same list;
 * shard i of n takes runs i, i+n, i+2n, ...
 */
export function planRuns(options: {
  suite: Suite;
  tasks: string[];
  optimizers: string[];
  seeds: number[];
  shard?: { index: number; count: number };
}): PlannedRun[] {
  const runs: PlannedRun[] = [];
  // Alrao's wrapped model replaces a classifier: it is planned on the classification tasks only.
  const classification = (task: string) => TASKS.find((t) => t.name === task)?.metricName !== undefined;
  for (const task of options.tasks)
    for (const optimizer of options.optimizers)
      for (const seed of options.seeds)
        if (optimizer !== ALRAO_WRAPPED || classification(task))
          runs.push({
            key: runKey(task, optimizer, seed, options.suite),
            task,
            optimizer,
            seed,
            suite: options.suite,
          });
  const shard = options.shard;
  return shard ? runs.filter((_, i) => i % shard.count === shard.index) : runs;
}

/**
 * Records in plan order: task as in TASKS, optimizer as in defaultOptimizers(), then seed; names outside
 * those lists come after, by name. Sweeps store runs in a shuffled order (a fair ETA); reports and tables
 * must not depend on it.
 */
export function inPlanOrder<T extends { task: string; optimizer: string; seed: number }>(
  records: readonly T[],
): T[] {
  const taskRank = new Map(TASKS.map((t, i) => [t.name, i]));
  const optimizerRank = new Map(defaultOptimizers().map((o, i) => [o, i]));
  const rank = (ranks: Map<string, number>, name: string) => ranks.get(name) ?? Number.MAX_SAFE_INTEGER;
  return [...records].sort(
    (a, b) =>
      rank(taskRank, a.task) - rank(taskRank, b.task) ||
      a.task.localeCompare(b.task) ||
      rank(optimizerRank, a.optimizer) - rank(optimizerRank, b.optimizer) ||
      a.optimizer.localeCompare(b.optimizer) ||
      a.seed - b.seed,
  );
}
