/** The benchmark's tasks, by name. */
import { LrfreeConfigError } from '../../core/validate.js';
import type { Task } from '../task.js';
import { charLstm } from './charLstm.js';
import { fashionCnn } from './fashion.js';
import { mnistBnDropout, mnistMlp } from './mnist.js';
import { deepRegressionLinear, deepRegressionRelu, linreg } from './regression.js';
import { quadratic, rosenbrock } from './synthetic.js';
import { charTransformerTask } from './transformer.js';

/**
 * The same task with every budget multiplied by `factor`, named `<name>-<factor>x` (same data, model,
 * batch order and evaluations; the target is set from that task's own reference, docs/benchmark.md).
 */
export function longer(task: Task, factor: number): Task {
  const b = task.budget;
  return {
    ...task,
    name: `${task.name}-${factor}x`,
    description: `${task.description}; ${factor}x the budget`,
    budget: { quick: b.quick * factor, standard: b.standard * factor, full: b.full * factor },
  };
}

/** All tasks, in suite order. A new task is one import and one line here. */
export const TASKS: readonly Task[] = [
  quadratic,
  rosenbrock,
  linreg,
  deepRegressionLinear,
  deepRegressionRelu,
  mnistMlp,
  longer(mnistMlp, 4),
  mnistBnDropout,
  longer(mnistBnDropout, 4),
  fashionCnn,
  charLstm,
  charTransformerTask,
];

/** The task called `name`, or an error listing the known ones. */
export function taskByName(name: string): Task {
  const t = TASKS.find((x) => x.name === name);
  if (!t)
    throw new LrfreeConfigError(`unknown task '${name}'; known: ${TASKS.map((x) => x.name).join(', ')}.`);
  return t;
}
