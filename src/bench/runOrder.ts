/**
 * Longest-first run order for long sweeps. A sweep is killed with its machine session; the runs in flight
 * are lost, and a run longer than what is left of a session never finishes if it keeps starting late. Run
 * the longest runs first after every resume, so they start while the session is young (and, as in
 * longest-processing-time scheduling, the last minutes are not one long run on one busy worker).
 *
 * A run's length is not known before it runs, so it is estimated from the store: log(ms) = a[task] +
 * b[optimizer], fitted to the stored runs by alternating medians (robust to the odd run slowed by load).
 * A task or optimizer with no stored run gets the median of the others' effects.
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
  stored: Iterable<Pick<RunRecord, 'task' | 'optimizer' | 'wallMs' | 'elapsedMs'>>,
): number[] {
  const data = [...stored]
    .filter((r) => Number.isFinite(runMs(r)) && runMs(r) > 0)
    .map((r) => ({ task: r.task, optimizer: r.optimizer, y: Math.log(runMs(r)) }));
  if (data.length === 0) return runs.map(() => 1);
  const a = new Map<string, number>();
  const b = new Map<string, number>();
  for (const d of data) b.set(d.optimizer, 0);
  for (let round = 0; round < 10; round++) {
    const byTask = new Map<string, number[]>();
    for (const d of data)
      byTask.set(d.task, [...(byTask.get(d.task) ?? []), d.y - (b.get(d.optimizer) ?? 0)]);
    for (const [t, v] of byTask) a.set(t, median(v));
    const byOpt = new Map<string, number[]>();
    for (const d of data)
      byOpt.set(d.optimizer, [...(byOpt.get(d.optimizer) ?? []), d.y - (a.get(d.task) ?? 0)]);
    for (const [o, v] of byOpt) b.set(o, median(v));
  }
  const aDefault = median([...a.values()]);
  const bDefault = median([...b.values()]);
  return runs.map((r) => Math.exp((a.get(r.task) ?? aDefault) + (b.get(r.optimizer) ?? bDefault)));
}

/**
 * The runs longest-expected first ({@link expectedRunMs}); runs expected equally long keep their order
 * (so a shuffled input stays shuffled among equals).
 */
export function longestFirst<T extends Pick<PlannedRun, 'task' | 'optimizer'>>(
  runs: readonly T[],
  stored: Iterable<Pick<RunRecord, 'task' | 'optimizer' | 'wallMs' | 'elapsedMs'>>,
): T[] {
  const ms = expectedRunMs(runs, stored);
  return runs
    .map((run, i) => ({ run, i, ms: ms[i] }))
    .sort((x, y) => y.ms - x.ms || x.i - y.i)
    .map((x) => x.run);
}
