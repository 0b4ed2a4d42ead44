/**
 * The runner of one (task, optimizer spec, seed): trains for the suite's budget and records the per-step
 * trace, validation evaluations, final metrics, L, cost, time-to-target and divergence.
 */
import { withEvalPoint } from '../core/evalPoint.js';
import type { LrfreeOptimizer } from '../core/optimizer.js';
import { ALRAO_WRAPPED, runAlraoWrapped } from './alraoRunner.js';
import { type RunOptions, runBench } from './benchLoop.js';
import {
  type EvalPoint,
  type OptimizerReportSummary,
  type RunRecord,
  runKey,
  type TracePoint,
} from './record.js';
import { benchOptimizer } from './specs.js';
import type { Suite, Task, TaskInstance } from './task.js';

export { type EvalPoint, type RunRecord, runKey, type TracePoint };

/**
 * The budget a stored run was made with: its `budget`, or for older records without one, its step count
 * when it ran to the end (a diverged or refused old run says nothing, so it is taken as current).
 */
export function plannedSteps(record: RunRecord, current: number): number {
  if (record.budget !== undefined) return record.budget;
  return record.diverged || record.refused ? current : record.steps;
}

/**
 * Throws when a store holds a run made under another budget than the task's current one (a newer lrfree
 * changed it): such a run would be silently compared with runs of another length.
 */
export function assertSameBudget(record: RunRecord, task: Task, store: string): void {
  const current = task.budget[record.suite];
  const made = plannedSteps(record, current);
  if (made !== current) {
    throw new Error(
      `${store}: run ${record.key} was made with ${made} steps, but the ${record.suite} budget of ${task.name} ` +
        `is now ${current}. Its results cannot be mixed with new runs: write to a new store (-o) or delete ` +
        'that file to rerun.',
    );
  }
}

/** Runs one (task, optimizer, seed) for the suite's budget. */
export async function runOne(
  task: Task,
  spec: string,
  seed: number,
  suite: Suite,
  options: RunOptions = {},
): Promise<RunRecord> {
  if (spec === ALRAO_WRAPPED) return runAlraoWrapped(task, seed, suite, options);
  const total = task.budget[suite];
  const inst = task.create(seed, suite);
  let opt: ReturnType<typeof benchOptimizer>;
  try {
    opt = benchOptimizer(spec, { stepsPerEpoch: inst.stepsPerEpoch, totalSteps: total, seed });
  } catch (e) {
    inst.dispose(); // a spec refused at construction must not leak the task's model and data
    throw e;
  }
  if (inst.model) opt.attachModel(inst.model);
  // Methods with an evaluation point (Schedule-Free's x, averages) are evaluated there, batch-norm
  // statistics recomputed at that point.
  const atEvalPoint = <T>(fn: () => T): T =>
    withEvalPoint(opt, { model: inst.model, trainX: inst.trainInputs, batchSize: task.batchSize }, fn);
  return runBench<ReturnType<TaskInstance['batch']>>(task, spec, seed, suite, options, inst, {
    batch: (step) => inst.batch(step),
    trainStep: ({ loss }) => {
      opt.minimize(loss, false, inst.variables);
      return opt.lastStep.loss;
    },
    stepCost: () => opt.lastStep.forwards + 3 * opt.lastStep.backwards,
    eta: () => opt.lastStep.eta,
    monitor: () => atEvalPoint(() => inst.evaluate('monitor')),
    final: () =>
      atEvalPoint(() => ({
        validation: inst.evaluate('validation'),
        test: inst.evaluate('test'),
      })),
    counters: () => ({
      forwards: opt.counters.forwards,
      backwards: opt.counters.backwards + opt.counters.skipped,
      skipped: opt.counters.skipped,
    }),
    optimizerReport: () => reportOf(opt),
    dispose: () => opt.dispose(),
  });
}

/** The optimizer's own report on its run, its verdict and flags without the numbers. */
function reportOf(opt: LrfreeOptimizer): OptimizerReportSummary {
  const { ok, flags } = opt.report();
  return { ok, flags: flags.map(({ id, severity, message }) => ({ id, severity, message })) };
}
