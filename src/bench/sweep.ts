/**
 * Sweeps: run a plan of (task, optimizer, seed) on a pool of worker threads (one per core by default),
 * append each finished run to the results store, skip runs already stored (resume after a crash).
 *
 * Runs execute in a fixed shuffled order, not the plan's (task by task) order: a run of the LSTM task costs
 * about 15x one of the quadratic, so in plan order the cheap tasks came first and the progress ETA (the rate
 * so far) read 1 minute for a 42-minute suite. Shuffled, the rate so far is a fair sample of the whole.
 * A long sweep over several sessions may ask for longest-first instead (`order`).
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ready } from '../backend/ready.js';
import { permutation } from '../train/classification.js';
import { codeVersion } from './codeVersion.js';
import type { RunRecord } from './runner.js';
import { assertSameBudget, runOne } from './runner.js';
import { expectedRunMs, longestFirst, type RunOrder } from './runOrder.js';
import { ResultStore } from './store.js';
import type { PlannedRun } from './suites.js';
import { taskByName } from './tasks/index.js';

/** Options of {@link sweep}. */
export interface SweepOptions {
  runs: PlannedRun[];
  /** JSON Lines results store (created, or resumed). */
  store: string;
  /** Worker threads; 0 runs in this thread. Default: one per core. */
  workers?: number;
  backend?: 'wasm' | 'cpu' | 'tensorflow';
  /** Called after each finished run with counts of done/total and the record. */
  onRun?: (done: number, total: number, record: RunRecord) => void;
  /**
   * Called once with how many runs of the plan were already in the store, and how many of those were made
   * by other code than this (another `codeVersion()`, or none recorded): they are reused, not rerun.
   */
  onResume?: (alreadyDone: number, total: number, fromOtherCode: number) => void;
  /** Called when a run throws (the sweep goes on). */
  onError?: (key: string, message: string) => void;
  /**
   * The order of the pending runs: 'shuffled' (default; the progress rate is then a fair sample) or
   * 'longest-first' (expected lengths from the store, src/bench/runOrder.ts: long runs start early in a
   * session that may be cut short).
   */
  order?: RunOrder;
  /**
   * A time (ms since the epoch, as `Date.now()`) by which the sweep should be done: a run is started only
   * when its expected length (src/bench/runOrder.ts, from the store) ends it by then; the others are
   * returned as `postponed`, for the next call. For machines whose sessions end at a known time.
   */
  deadline?: number;
  /**
   * File URLs of modules that register optimizers in the catalog (src/bench/register.ts): each worker
   * thread imports them before its first run (the calling thread must have imported them already).
   */
  register?: string[];
}

/** Seed of the run order (fixed: the same plan runs in the same order every time). */
const RUN_ORDER_SEED = 0x5eed;

/** What {@link sweep} did: runs executed now, failed keys, and keys postponed by the deadline. */
export interface SweepResult {
  ran: number;
  failed: string[];
  postponed: string[];
}

/** Runs the plan; returns the number of runs executed now, the failed keys and the postponed ones. */
export async function sweep(options: SweepOptions): Promise<SweepResult> {
  const store = new ResultStore(options.store);
  const code = codeVersion();
  let fromOtherCode = 0;
  for (const r of options.runs) {
    const stored = store.done.get(r.key);
    if (stored) assertSameBudget(stored, taskByName(r.task), options.store);
    if (stored && stored.code !== code) fromOtherCode += 1;
  }
  const pending = options.runs.filter((r) => !store.done.has(r.key));
  const shuffled = Array.from(permutation(pending.length, RUN_ORDER_SEED), (i) => pending[i]);
  const todo = options.order === 'longest-first' ? longestFirst(shuffled, store.done.values()) : shuffled;
  const total = options.runs.length;
  let done = total - todo.length;
  const failed: string[] = [];
  // The next run that fits before the deadline (all of them without one), taken off the queue.
  const queue = [...todo];
  const expected =
    options.deadline === undefined
      ? undefined
      : new Map(expectedRunMs(queue, store.done.values()).map((ms, i) => [queue[i].key, ms]));
  // A run expected to take longer than the whole time given can never fit: a worker's first run may be one
  // (its best chance, and the estimate leans long).
  const started = Date.now();
  const take = (first: boolean): PlannedRun | undefined => {
    if (!expected || options.deadline === undefined) return queue.shift();
    const deadline = options.deadline;
    const length = (r: PlannedRun) => expected.get(r.key) ?? 0;
    let i = queue.findIndex((r) => Date.now() + length(r) <= deadline);
    if (i < 0 && first) i = queue.findIndex((r) => started + length(r) > deadline);
    return i < 0 ? undefined : queue.splice(i, 1)[0];
  };
  const result = (ran: number): SweepResult => ({ ran, failed, postponed: queue.map((r) => r.key) });
  options.onResume?.(done, total, fromOtherCode);
  let ran = 0;
  const finish = (record: RunRecord) => {
    store.append(record);
    ran += 1;
    done += 1;
    options.onRun?.(done, total, record);
  };
  try {
    const workers = Math.min(options.workers ?? availableParallelism(), todo.length);
    if (workers <= 0) {
      await ready({ backend: options.backend, quiet: true });
      for (let run = take(true); run; run = take(false)) {
        try {
          finish(await runOne(taskByName(run.task), run.optimizer, run.seed, run.suite));
        } catch (e) {
          failed.push(run.key);
          options.onError?.(run.key, (e as Error).message);
        }
      }
      return result(ran);
    }
    const isTs = import.meta.url.endsWith('.ts');
    const url = new URL(isTs ? './worker.ts' : './worker.js', import.meta.url);
    await Promise.all(
      Array.from({ length: workers }, () => {
        // From source (tests, tsx), the worker registers tsx's loader before importing the .ts file.
        const worker = isTs
          ? new Worker(
              `import('tsx/esm/api').then((api) => { api.register(); return import(${JSON.stringify(url.href)}); });`,
              { eval: true, workerData: { backend: options.backend, register: options.register ?? [] } },
            )
          : new Worker(url, { workerData: { backend: options.backend, register: options.register ?? [] } });
        return new Promise<void>((resolve, reject) => {
          let first = true;
          const next = () => {
            worker.postMessage(take(first) ?? null);
            first = false;
          };
          worker.on(
            'message',
            (msg: { ready?: boolean; ok?: boolean; record?: RunRecord; key?: string; error?: string }) => {
              if (msg.ready) return next();
              if (msg.ok && msg.record) finish(msg.record);
              else if (msg.key) {
                failed.push(msg.key);
                options.onError?.(msg.key, msg.error ?? 'unknown error');
              }
              next();
            },
          );
          worker.on('error', reject);
          worker.on('exit', () => resolve());
        });
      }),
    );
    return result(ran);
  } finally {
    store.close();
  }
}
