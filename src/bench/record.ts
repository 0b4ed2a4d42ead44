/** What one benchmark run records (the store's row), and its key. */
import type { Suite } from './task.js';

/** A point of the (thinned) training trace. */
export interface TracePoint {
  step: number;
  loss: number;
  eta: number | number[];
  /** Cumulative forward-equivalent cost after this step. */
  cost: number;
  /** Cumulative training wall time, ms. */
  ms: number;
}

/** One in-training evaluation, on the task's monitor subset of the validation split. */
export interface EvalPoint {
  step: number;
  cost: number;
  ms: number;
  loss: number;
  metric?: number;
}

/** What a run's optimizer said of it ({@link RunRecord.optimizerReport}). */
export interface OptimizerReportSummary {
  ok: boolean;
  flags: { id: string; severity: 'warning' | 'info'; message: string }[];
}

/** Everything recorded about one run; one line of the results store. */
export interface RunRecord {
  key: string;
  task: string;
  optimizer: string;
  seed: number;
  suite: Suite;
  backend: string;
  steps: number;
  /** The code that made the run (`codeVersion()`: version + source hash; absent in older stores). */
  code?: string;
  /** Steps planned: the task's budget for the suite when the run was made (absent in older stores). */
  budget?: number;
  forwards: number;
  backwards: number;
  cost: number;
  /** Time inside the optimizer's steps (what the tables compare). */
  wallMs: number;
  /** The whole run: data, model, steps and evaluations (what a sweep's budget is made of). */
  elapsedMs?: number;
  skipped: number;
  diverged: boolean;
  /** Log-loss area over all training steps (ALGORITHMS.md §12.1), and its cost-weighted form. */
  L: number;
  Lcost: number;
  trace: TracePoint[];
  evals: EvalPoint[];
  final: { validation: { loss: number; metric?: number }; test: { loss: number; metric?: number } };
  /** Time to the task's validation target, in steps, cost and ms (Infinity when not reached). */
  toTarget: { steps: number; cost: number; ms: number };
  /**
   * The optimizer's own verdict on the run (its `report()`): `ok` when no flag is a warning, and the flags
   * (absent for Alrao's wrapped model and in older stores).
   */
  optimizerReport?: OptimizerReportSummary;
  /**
   * Set when the optimizer refused the task with a configuration error (e.g. Newton on a model above its
   * maxParams): deterministic, so stored like a result, shown in the report and not retried on resume.
   */
  refused?: string;
}

/** The store key of a run. */
export function runKey(task: string, optimizer: string, seed: number, suite: Suite): string {
  return `${suite}|${task}|${optimizer}|${seed}`;
}
