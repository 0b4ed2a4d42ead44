/**
 * Methods: pieces that compute the whole update, step size included (ALGORITHMS.md §9). Each one takes
 * the place of a direction and a step rule: `lrfree.optimizer({ method: lrfree.methods.prodigy() })`,
 * with optional `transforms`, `schedule` (a multiplier on the method's own lr), `seed`, `stepsPerEpoch`.
 * The named presets (`lrfree.prodigy()`, `lrfree.dog()`, ...) are exactly that composition.
 *
 * Weight decay: each method keeps its published decay inside (`weightDecay` option), because it differs
 * from the decoupled decay of `transforms.decoupledWeightDecay`: Prodigy and D-Adapt scale it by d*lr,
 * Schedule-Free decays at y (SGD: added to g; AdamW: z <- z - lr*wd*y), DoG adds it to g (so G sees it).
 */
import type { Method } from '../core/types.js';
import { type DadaptAdamOptions, dadaptAdamDirection } from '../optimizers/dadaptAdam.js';
import { type DadaptSgdOptions, dadaptSgdDirection } from '../optimizers/dadaptSgd.js';
import { type DogOptions, dogDirection } from '../optimizers/dog.js';
import { type ProdigyOptions, prodigyDirection } from '../optimizers/prodigy.js';
import {
  type ScheduleFreeAdamWOptions,
  type ScheduleFreeSgdOptions,
  scheduleFreeDirection,
} from '../optimizers/scheduleFree.js';

export type {
  DadaptAdamOptions,
  DadaptSgdOptions,
  DogOptions,
  ProdigyOptions,
  ScheduleFreeAdamWOptions,
  ScheduleFreeSgdOptions,
};

/**
 * Prodigy (Mishchenko & Defazio 2024): Adam with an estimated step size d. Options as {@link ProdigyOptions}.
 *
 * @example
 * ```ts
 * const opt = lrfree.optimizer({ method: lrfree.methods.prodigy({ dCoef: 0.5 }) });
 * ```
 */
export function prodigy(options: ProdigyOptions = {}): Method {
  return prodigyDirection(options);
}

/**
 * D-Adaptation Adam (Defazio & Mishchenko 2023).
 *
 * @example
 * ```ts
 * const opt = lrfree.optimizer({ method: lrfree.methods.dadaptAdam() });
 * ```
 */
export function dadaptAdam(options: DadaptAdamOptions = {}): Method {
  return dadaptAdamDirection(options);
}

/**
 * D-Adaptation SGD (dual averaging with an estimated step).
 *
 * @example
 * ```ts
 * const opt = lrfree.optimizer({ method: lrfree.methods.dadaptSgd({ momentum: 0.9 }) });
 * ```
 */
export function dadaptSgd(options: DadaptSgdOptions = {}): Method {
  return dadaptSgdDirection(options);
}

/**
 * Schedule-Free SGD (Defazio et al. 2024). `optimizer({ method })` returns a `ScheduleFreeOptimizer`
 * (train()/eval(), evaluation point at x).
 *
 * @example
 * ```ts
 * const opt = lrfree.optimizer({ method: lrfree.methods.scheduleFreeSgd({ lr: 1, warmupSteps: 100 }) });
 * ```
 */
export function scheduleFreeSgd(options: ScheduleFreeSgdOptions = {}): Method {
  return scheduleFreeDirection('sgd', options);
}

/**
 * Schedule-Free AdamW (the AlgoPerf 2024 self-tuning core).
 *
 * @example
 * ```ts
 * const opt = lrfree.optimizer({ method: lrfree.methods.scheduleFreeAdamW({ warmupSteps: 200 }) });
 * ```
 */
export function scheduleFreeAdamW(options: ScheduleFreeAdamWOptions = {}): Method {
  return scheduleFreeDirection('adamw', options);
}

/**
 * DoG (Ivgi et al. 2023): eta = lr * max distance from x0 / sqrt(sum of |g|^2).
 *
 * @example
 * ```ts
 * const opt = lrfree.optimizer({ method: lrfree.methods.dog({ repsRel: 1e-4 }) });
 * ```
 */
export function dog(options: DogOptions = {}): Method {
  return dogDirection(options);
}

/**
 * L-DoG: DoG with one step size per variable.
 *
 * @example
 * ```ts
 * const opt = lrfree.optimizer({ method: lrfree.methods.ldog() });
 * ```
 */
export function ldog(options: DogOptions = {}): Method {
  return dogDirection({ ...options, layerwise: true });
}
