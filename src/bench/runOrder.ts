/**
 * Longest-first run order for long sweeps. A sweep is killed with its machine session; the runs in flight
 * are lost, and a run longer than what is left of a session never finishes if it keeps starting late. Run
 * the longest runs first after every resume, so they start while the session is young (and, as in
 * longest-processing-time scheduling, the last minutes are not one long run on one busy worker).
 *
 * A run's length is not known before it runs, so it is estimated from the store (refused runs, which do
 * not train, are left out):
 * 1. the median of the stored runs of the same task and optimizer, when there are some;
 * 2. else, from optimizers that ran on this task: for each such r, this task's time for r times the largest
 *    ratio (optimizer / r) seen on a task where r took at least a tenth as long as here. An optimizer's
 *    cost over others depends on the model (Newton's Hessian-vector products, KeepStepping's mini-steps:
 *    40x auto on char-lstm, 4x on fashion-cnn), so the estimate leans long: a run thought long is started
 *    early, one thought short may start too late to finish. The median over r;
 * 3. else a model log(ms) = a[task] + b[optimizer] fitted by alternating medians (robust to the odd run
 *    slowed by load); a task or optimizer with no stored run gets the median effect.
 */
import type { RunRecord } from './record.js';
import type { PlannedRun } from './suites.js';

/** How a sweep orders its pending runs. */
export type RunOrder = 'shuffled' | 'longest-first';

/** The orders a sweep knows (for the command line's check). */
export const RUN_ORDERS: readonly RunOrder[] = ['shuffled', 'longest-first'];

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? 0 : s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** A stored run's length: the whole run when recorded, else its time inside steps. */
const runMs = (r: Pick<RunRecord, 'wallMs' | 'elapsedMs'>): number => r.elapsedMs ?? r.wallMs;

/**
 * Expected milliseconds of each planned run, from the stored runs (see the module comment); all equal
 * (1) when the store holds no timed run.
 */
export function expectedRunMs(
  runs: readonly Pick<PlannedRun, 'task' | 'optimizer'>[],
  stored: Iterable<Pick<RunRecord, 'task' | 'optimizer' | 'wallMs' | 'elapsedMs' | 'refused'>>,
): number[] {
  const data = [...stored]
    .filter((r) => r.refused === undefined && Number.isFinite(runMs(r)) && runMs(r) > 0)
    .map((r) => ({ task: r.task, optimizer: r.optimizer, y: Math.log(runMs(r)) }));
  if (data.length === 0) return runs.map(() => 1);
  const group = (key: (d: (typeof data)[number]) => string, value: (d: (typeof data)[number]) => number) => {
    const m = new Map<string, number[]>();
    for (const d of data) {
      const list = m.get(key(d));
      if (list) list.push(value(d));
      else m.set(key(d), [value(d)]);
    }
    return m;
  };
  const a = new Map<string, number>();
  const b = new Map<string, number>();
  for (let round = 0; round < 10; round++) {
    for (const [t, v] of group(
      (d) => d.task,
      (d) => d.y - (b.get(d.optimizer) ?? 0),
    ))
      a.set(t, median(v));
    for (const [o, v] of group(
      (d) => d.optimizer,
      (d) => d.y - (a.get(d.task) ?? 0),
    ))
      b.set(o, median(v));
  }
  const pair = (task: string, optimizer: string) => `${task}\u0000${optimizer}`;
  const med = new Map(
    [
      ...group(
        (d) => pair(d.task, d.optimizer),
        (d) => d.y,
      ),
    ].map(([k, v]) => [k, median(v)]),
  );
  const optimizersOn = new Map<string, Set<string>>();
  for (const d of data) optimizersOn.set(d.task, (optimizersOn.get(d.task) ?? new Set()).add(d.optimizer));
  const aDefault = median([...a.values()]);
  const bDefault = median([...b.values()]);
  /** Rule 2 of the module comment, or undefined when no optimizer links this task to one the optimizer ran. */
  const byRatio = (task: string, optimizer: string): number | undefined => {
    const estimates: number[] = [];
    for (const r of optimizersOn.get(task) ?? []) {
      const here = med.get(pair(task, r))!;
      let ratio = Number.NEGATIVE_INFINITY;
      for (const [other, opts] of optimizersOn) {
        if (other === task || !opts.has(optimizer) || !opts.has(r) || r === optimizer) continue;
        const there = med.get(pair(other, r))!;
        if (there < here - Math.log(10)) continue; // a far smaller task: its overheads say little here
        ratio = Math.max(ratio, med.get(pair(other, optimizer))! - there);
      }
      if (Number.isFinite(ratio)) estimates.push(here + ratio);
    }
    return estimates.length > 0 ? median(estimates) : undefined;
  };
  return runs.map((r) => {
    const own = med.get(pair(r.task, r.optimizer));
    if (own !== undefined) return Math.exp(own);
    const linked = byRatio(r.task, r.optimizer);
    if (linked !== undefined) return Math.exp(linked);
    return Math.exp((a.get(r.task) ?? aDefault) + (b.get(r.optimizer) ?? bDefault));
  });
}

/**
 * The runs longest-expected first ({@link expectedRunMs}); runs expected equally long keep their order
 * (so a shuffled input stays shuffled among equals).
 */
export function longestFirst<T extends Pick<PlannedRun, 'task' | 'optimizer'>>(
  runs: readonly T[],
  stored: Iterable<Pick<RunRecord, 'task' | 'optimizer' | 'wallMs' | 'elapsedMs' | 'refused'>>,
): T[] {
  const ms = expectedRunMs(runs, stored);
  return runs
    .map((run, i) => ({ run, i, ms: ms[i] }))
    .sort((x, y) => y.ms - x.ms || x.i - y.i)
    .map((x) => x.run);
}
