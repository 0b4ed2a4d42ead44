/**
 * The runner of one (task, optimizer spec, seed): trains for the suite's budget and records the per-step
 * trace, validation evaluations, final metrics, L, cost, time-to-target and divergence.
 */
import * as tf from '@tensorflow/tfjs';
import { withEvalPoint } from '../core/evalPoint.js';
import { LrfreeConfigError } from '../core/validate.js';

import { ALRAO_WRAPPED, runAlraoWrapped } from './alraoRunner.js';
import { codeVersion } from './codeVersion.js';
import { costWeightedLogLossArea, logLossArea, timeToTarget } from './metrics.js';
import { type EvalPoint, type RunRecord, runKey, type TracePoint } from './record.js';
import { benchOptimizer } from './specs.js';
import type { Suite, Task } from './task.js';

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

/** Loss above this multiple of the first loss, or non-finite, counts as divergence and ends the run. */
const DIVERGENCE_FACTOR = 1e3;

/** Runs one (task, optimizer, seed) for the suite's budget. */
export async function runOne(
  task: Task,
  spec: string,
  seed: number,
  suite: Suite,
  options: { onStep?: (step: number, total: number) => void; maxTracePoints?: number } = {},
): Promise<RunRecord> {
  if (spec === ALRAO_WRAPPED) return runAlraoWrapped(task, seed, suite, options);
  const started = performance.now();
  const total = task.budget[suite];
  const inst = task.create(seed, suite);
  const opt = benchOptimizer(spec, { stepsPerEpoch: inst.stepsPerEpoch, totalSteps: total, seed });
  if (inst.model) opt.attachModel(inst.model);
  const losses: number[] = [];
  const costs: number[] = [];
  const every = Math.max(1, Math.ceil(total / (options.maxTracePoints ?? 250)));
  const trace: TracePoint[] = [];
  const evals: EvalPoint[] = [];
  let cost = 0;
  let ms = 0;
  let diverged = false;
  let step = 0;
  // What every record says of the run so far, finished or refused.
  const counts = () => ({
    key: runKey(task.name, spec, seed, suite),
    task: task.name,
    optimizer: spec,
    seed,
    suite,
    backend: tf.getBackend(),
    code: codeVersion(),
    steps: step,
    budget: total,
    forwards: opt.counters.forwards,
    backwards: opt.counters.backwards + opt.counters.skipped,
    cost,
    wallMs: ms,
    elapsedMs: performance.now() - started,
    skipped: opt.counters.skipped,
  });
  try {
    // Methods with an evaluation point (Schedule-Free's x, averages) are evaluated there, batch-norm
    // statistics recomputed at that point.
    const atEvalPoint = <T>(fn: () => T): T =>
      withEvalPoint(opt, { model: inst.model, trainX: inst.trainInputs, batchSize: task.batchSize }, fn);
    const evaluate = () => {
      const v = atEvalPoint(() => inst.evaluate('monitor'));
      evals.push({ step, cost, ms, loss: v.loss, metric: v.metric });
    };
    evaluate();
    for (; step < total; ) {
      const { loss, release } = inst.batch(step);
      const t0 = performance.now();
      try {
        opt.minimize(loss, false, inst.variables);
      } finally {
        release();
      }
      ms += performance.now() - t0;
      step += 1;
      const last = opt.lastStep;
      const c = last.forwards + 3 * last.backwards;
      cost += c;
      losses.push(last.loss);
      costs.push(c);
      if (step % every === 0 || step === total)
        trace.push({ step, loss: last.loss, eta: last.eta, cost, ms });
      if (!Number.isFinite(last.loss) || last.loss > DIVERGENCE_FACTOR * Math.max(losses[0], 1e-3)) {
        diverged = true;
        break;
      }
      if (step % task.evalEvery === 0 || step === total) evaluate();
      options.onStep?.(step, total);
      if (step % 25 === 0) await new Promise((r) => setImmediate(r));
    }
    const { validation, test } = atEvalPoint(() => ({
      validation: inst.evaluate('validation'),
      test: inst.evaluate('test'),
    }));
    if (!Number.isFinite(validation.loss)) diverged = true;
    const target = task.target;
    const metricTarget = target?.metric;
    const values = evals.map((e) => (metricTarget !== undefined ? (e.metric ?? Number.NaN) : e.loss));
    const goal = metricTarget ?? target?.loss ?? Number.NEGATIVE_INFINITY;
    const higher = metricTarget !== undefined;
    const at = (times: number[]) => timeToTarget(times, values, goal, higher);
    return {
      ...counts(),
      diverged,
      L: diverged ? Number.POSITIVE_INFINITY : logLossArea(losses),
      Lcost: diverged ? Number.POSITIVE_INFINITY : costWeightedLogLossArea(losses, costs),
      trace,
      evals,
      final: { validation, test },
      toTarget: {
        steps: at(evals.map((e) => e.step)),
        cost: at(evals.map((e) => e.cost)),
        ms: at(evals.map((e) => e.ms)),
      },
    };
  } catch (e) {
    if (!(e instanceof LrfreeConfigError)) throw e;
    return {
      ...counts(),
      diverged: false,
      L: Number.NaN,
      Lcost: Number.NaN,
      trace,
      evals,
      final: { validation: { loss: Number.NaN }, test: { loss: Number.NaN } },
      toTarget: {
        steps: Number.POSITIVE_INFINITY,
        cost: Number.POSITIVE_INFINITY,
        ms: Number.POSITIVE_INFINITY,
      },
      refused: e.message,
    };
  } finally {
    opt.dispose();
    inst.dispose();
  }
}
