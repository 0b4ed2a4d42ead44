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
import { type AlraoModel, wrap } from '../alrao/model.js';
import { withoutLastLayer } from '../alrao/split.js';
import { LrfreeConfigError } from '../core/validate.js';
import { type RunOptions, runBench } from './benchLoop.js';
import type { RunRecord } from './record.js';
import { ALRAO_WRAPPED } from './specs.js';
import type { Suite, Task } from './task.js';

export { ALRAO_WRAPPED };

/** Cost of one step: one forward and one backward of the network (the heads not counted). */
const STEP_COST = 3;

/** Runs the wrapped Alrao model on one (task, seed) for the suite's budget. */
export async function runAlraoWrapped(
  task: Task,
  seed: number,
  suite: Suite,
  options: RunOptions = {},
): Promise<RunRecord> {
  const inst = task.create(seed, suite);
  let alrao: AlraoModel | undefined;
  const model = () => alrao as AlraoModel;
  const evaluate = (split: 'monitor' | 'validation' | 'test') => {
    const d = inst.splitXY!(split);
    const logs = model().evaluate(d.x, d.y);
    return { loss: logs.loss, metric: logs.acc };
  };
  return runBench(task, ALRAO_WRAPPED, seed, suite, options, inst, {
    start: () => {
      if (!inst.model || !inst.batchXY || !inst.splitXY || task.metricName !== 'accuracy') {
        throw new LrfreeConfigError(
          `${ALRAO_WRAPPED}: Alrao's wrapped model needs a classification task with a model and batch tensors; ${task.name} is not one.`,
        );
      }
      const { preClassifier, classes } = withoutLastLayer(inst.model);
      alrao = wrap(preClassifier, { classes, seed });
    },
    batch: (step) => inst.batchXY!(step),
    trainStep: ({ x, y }, step) => model().trainOnBatch(x, y, { validate: step === 0 }),
    stepCost: () => STEP_COST,
    eta: () => Number.NaN,
    monitor: () => evaluate('monitor'),
    final: () => ({ validation: evaluate('validation'), test: evaluate('test') }),
    counters: (steps) => ({ forwards: steps, backwards: steps, skipped: 0 }),
    // Alrao's time to target is always on accuracy (higher is better), never on loss.
    target: { metric: task.target?.metric ?? Number.POSITIVE_INFINITY },
    dispose: () => {
      // The heads and the two optimizers are Alrao's own; the pre-classifier's weights are the task
      // model's, which the task instance disposes.
      if (alrao) {
        alrao.preClassifierOptimizer.dispose();
        alrao.headsOptimizer.dispose();
        tf.dispose([alrao.heads.kernel, alrao.heads.bias]);
      }
    },
  });
}
