/** The benchmark: tasks, the runner, metrics, sweeps with a crash-safe store, comparison and report. */
export { type ComparisonRow, compare, profile, type TaskComparison } from './compare.js';
export * from './metrics.js';
export { benchReport, markdownTable, taskTable } from './report.js';
export { type EvalPoint, type RunRecord, runKey, runOne, type TracePoint } from './runner.js';
export { expectedRunMs, longestFirst, RUN_ORDERS, type RunOrder } from './runOrder.js';
export { mergeStores, ResultStore, readStore } from './store.js';
export { defaultOptimizers, type PlannedRun, parseShard, planRuns, suiteDefaults } from './suites.js';
export { type SweepOptions, sweep } from './sweep.js';
export type { Suite, Task, TaskInstance } from './task.js';
export { TASKS, taskByName } from './tasks/index.js';
