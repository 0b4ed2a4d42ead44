/**
 * What every benchmark run does, whatever trains: the suite's step budget through lrfree's one training
 * loop (core/loop.ts) with the divergence guard, a trace point every `total / maxTracePoints` steps,
 * monitor evaluations every `task.evalEvery` steps, final validation and test metrics, L, cost-weighted L,
 * time-to-target, and a refused record when the run's configuration is refused (LrfreeConfigError). The
 * trainer (an lrfree optimizer in runner.ts, Alrao's wrapped model in alraoRunner.ts) is a small driver.
 */
import * as tf from '@tensorflow/tfjs';
import { type LoopBatch, runTrainingLoop } from '../core/loop.js';
import { LrfreeConfigError } from '../core/validate.js';
import { codeVersion } from './codeVersion.js';
import { costWeightedLogLossArea, logLossArea, timeToTarget } from './metrics.js';
import {
  type EvalPoint,
  type OptimizerReportSummary,
  type RunRecord,
  runKey,
  type TracePoint,
} from './record.js';
import type { Suite, Task, TaskInstance } from './task.js';

/** Loss above this multiple of the first loss, or non-finite, counts as divergence and ends the run. */
export const DIVERGENCE_FACTOR = 1e3;

/** Options of a benchmark run. */
export interface RunOptions {
  onStep?: (step: number, total: number) => void;
  maxTracePoints?: number;
}

/** What trains in a benchmark run, and how it is measured. */
export interface BenchDriver<B extends LoopBatch = LoopBatch> {
  /** Sets the trainer up; a LrfreeConfigError here refuses the run. Default: nothing to do. */
  start?(): void;
  /** The task's batch of `step` (not timed). */
  batch(step: number): B;
  /** One training step on the batch; returns its loss. */
  trainStep(batch: B, step: number): number;
  /** Cost of the step just taken, forward-equivalents. */
  stepCost(): number;
  /** Learning rate recorded in the trace for the step just taken. */
  eta(): TracePoint['eta'];
  /** Loss and metric on the monitor split (at the trainer's evaluation point). */
  monitor(): { loss: number; metric?: number };
  /** Final validation and test metrics (at the evaluation point). */
  final(): { validation: { loss: number; metric?: number }; test: { loss: number; metric?: number } };
  /** Counters of the run so far. */
  counters(steps: number): { forwards: number; backwards: number; skipped: number };
  /** The optimizer's own verdict on the run (its `report()`), when it has one. */
  optimizerReport?(): OptimizerReportSummary | undefined;
  /** The time-to-target rule; default the task's (metric if it has one, else loss). */
  target?: { metric?: number; loss?: number };
  /** Frees what the driver made (the task instance is disposed by the caller). */
  dispose(): void;
}

/** Runs `driver` for the suite's budget of `task` and records the run under `spec`. */
export async function runBench<B extends LoopBatch>(
  task: Task,
  spec: string,
  seed: number,
  suite: Suite,
  options: RunOptions,
  inst: TaskInstance,
  driver: BenchDriver<B>,
): Promise<RunRecord> {
  const started = performance.now();
  const total = task.budget[suite];
  const every = Math.max(1, Math.ceil(total / (options.maxTracePoints ?? 250)));
  const trace: TracePoint[] = [];
  const evals: EvalPoint[] = [];
  let losses: number[] = [];
  let costs: number[] = [];
  let cost = 0;
  let ms = 0;
  let step = 0;
  // What every record says of the run so far, finished or refused.
  const counts = () => {
    const c = driver.counters(step);
    return {
      key: runKey(task.name, spec, seed, suite),
      task: task.name,
      optimizer: spec,
      seed,
      suite,
      backend: tf.getBackend(),
      code: codeVersion(),
      steps: step,
      budget: total,
      forwards: c.forwards,
      backwards: c.backwards,
      cost,
      wallMs: ms,
      elapsedMs: performance.now() - started,
      skipped: c.skipped,
    };
  };
  try {
    driver.start?.();
    const evaluate = () => {
      const v = driver.monitor();
      evals.push({ step, cost, ms, loss: v.loss, metric: v.metric });
    };
    evaluate();
    const run = await runTrainingLoop({
      steps: total,
      divergenceFactor: DIVERGENCE_FACTOR,
      batch: (at) => driver.batch(at.step),
      trainStep: (batch, at) => driver.trainStep(batch, at.step),
      stepCost: () => driver.stepCost(),
      afterStep: (r) => {
        step = r.done;
        cost = r.totalCost;
        ms = r.totalMs;
        if (step % every === 0 || step === total)
          trace.push({ step, loss: r.loss, eta: driver.eta(), cost, ms });
        if (r.diverged) return false;
        if (step % task.evalEvery === 0 || step === total) evaluate();
        options.onStep?.(step, total);
        return undefined;
      },
    });
    losses = run.losses;
    costs = run.costs;
    let diverged = run.diverged;
    const { validation, test } = driver.final();
    if (!Number.isFinite(validation.loss)) diverged = true;
    const optimizerReport = driver.optimizerReport?.();
    const target = driver.target ?? task.target;
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
      ...(optimizerReport ? { optimizerReport } : {}),
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
    driver.dispose();
    inst.dispose();
  }
}
