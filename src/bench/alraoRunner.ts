/**
 * Alrao as its authors run it (ALGORITHMS.md §5, docs/alrao.md): the task's network without its classifier,
 * trained with one random learning rate per feature, plus 10 classifier copies at log-spaced rates averaged
 * by the switch (`lrfree.alrao.wrap`, used as is, at its defaults: rates in [1e-5, 10]). It replaces the
 * model's last layer, so it does not fit the optimizer-only runner: this runs it on the task's batches and
 * evaluates the wrapped model (its posterior-weighted mixture) on the same splits, and records a run like
 * `runOne` does. Tasks without classification tensors (the regressions, the synthetic problems) refuse it.
 *
 * Cost: one forward and one backward of the network per step (3 forward-equivalents), the heads included:
 * K heads on the last hidden features cost about K times one classifier layer, which is not counted.
 */
import * as tf from '@tensorflow/tfjs';
import { wrap } from '../alrao/model.js';
import { withoutLastLayer } from '../alrao/split.js';
import { LrfreeConfigError } from '../core/validate.js';
import { codeVersion } from './codeVersion.js';
import { costWeightedLogLossArea, logLossArea, timeToTarget } from './metrics.js';
import { type EvalPoint, type RunRecord, runKey, type TracePoint } from './record.js';
import { ALRAO_WRAPPED } from './specs.js';
import type { Suite, Task } from './task.js';

export { ALRAO_WRAPPED };

const DIVERGENCE_FACTOR = 1e3;

/** Runs the wrapped Alrao model on one (task, seed) for the suite's budget. */
export async function runAlraoWrapped(
  task: Task,
  seed: number,
  suite: Suite,
  options: { onStep?: (step: number, total: number) => void; maxTracePoints?: number } = {},
): Promise<RunRecord> {
  const started = performance.now();
  const total = task.budget[suite];
  const inst = task.create(seed, suite);
  const trace: TracePoint[] = [];
  const evals: EvalPoint[] = [];
  const losses: number[] = [];
  let step = 0;
  let cost = 0;
  let ms = 0;
  let diverged = false;
  const counts = () => ({
    key: runKey(task.name, ALRAO_WRAPPED, seed, suite),
    task: task.name,
    optimizer: ALRAO_WRAPPED,
    seed,
    suite,
    backend: tf.getBackend(),
    code: codeVersion(),
    steps: step,
    budget: total,
    forwards: step,
    backwards: step,
    cost,
    wallMs: ms,
    elapsedMs: performance.now() - started,
    skipped: 0,
  });
  let alrao: ReturnType<typeof wrap> | undefined;
  try {
    if (!inst.model || !inst.batchXY || !inst.splitXY || task.metricName !== 'accuracy') {
      throw new LrfreeConfigError(
        `${ALRAO_WRAPPED}: Alrao's wrapped model needs a classification task with a model and batch tensors; ${task.name} is not one.`,
      );
    }
    const { preClassifier, classes } = withoutLastLayer(inst.model);
    alrao = wrap(preClassifier, { classes, seed });
    const am = alrao;
    const evaluate = (split: 'monitor' | 'validation' | 'test') => {
      const d = inst.splitXY!(split);
      const logs = am.evaluate(d.x, d.y);
      return { loss: logs.loss, metric: logs.acc };
    };
    const every = Math.max(1, Math.ceil(total / (options.maxTracePoints ?? 250)));
    const monitor = () => evals.push({ step, cost, ms, ...evaluate('monitor') });
    monitor();
    for (; step < total; ) {
      const { x, y, release } = inst.batchXY(step);
      const t0 = performance.now();
      let loss: number;
      try {
        loss = am.trainOnBatch(x, y, { validate: step === 0 });
      } finally {
        release();
      }
      ms += performance.now() - t0;
      step += 1;
      cost += 3;
      losses.push(loss);
      if (step % every === 0 || step === total) trace.push({ step, loss, eta: Number.NaN, cost, ms });
      if (!Number.isFinite(loss) || loss > DIVERGENCE_FACTOR * Math.max(losses[0], 1e-3)) {
        diverged = true;
        break;
      }
      if (step % task.evalEvery === 0 || step === total) monitor();
      options.onStep?.(step, total);
      if (step % 25 === 0) await new Promise((r) => setImmediate(r));
    }
    const validation = evaluate('validation');
    const test = evaluate('test');
    if (!Number.isFinite(validation.loss)) diverged = true;
    const goal = task.target?.metric ?? Number.POSITIVE_INFINITY;
    const values = evals.map((e) => e.metric ?? Number.NaN);
    const at = (times: number[]) => timeToTarget(times, values, goal, true);
    return {
      ...counts(),
      diverged,
      L: diverged ? Number.POSITIVE_INFINITY : logLossArea(losses),
      Lcost: diverged
        ? Number.POSITIVE_INFINITY
        : costWeightedLogLossArea(
            losses,
            losses.map(() => 3),
          ),
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
    // The heads and the two optimizers are Alrao's own; the pre-classifier's weights are the task model's,
    // which the task instance disposes.
    if (alrao) {
      alrao.preClassifierOptimizer.dispose();
      alrao.headsOptimizer.dispose();
      tf.dispose([alrao.heads.kernel, alrao.heads.bias]);
    }
    inst.dispose();
  }
}
