/**
 * The modern learning-rate-free methods (ALGORITHMS.md §9) as catalog entries, and a reader for their
 * estimates (d, r, G, ...), which live in the optimizer's saved scalar state.
 */
import type { LrfreeOptimizer } from '../core/optimizer.js';
import type { ScalarState } from '../core/types.js';
import type { CatalogEntry } from './catalogEntry.js';
import { dadaptAdam } from './dadaptAdam.js';
import { dadaptSgd } from './dadaptSgd.js';
import { dog, ldog } from './dog.js';
import { prodigy } from './prodigy.js';
import { scheduleFreeAdamW, scheduleFreeSgd } from './scheduleFree.js';

/**
 * The direction's scalar state of an lrfree optimizer: Prodigy/D-Adaptation `d`, `dMax`, `r`...; DoG
 * `rBar`, `G`, `eta`; Schedule-Free `lrMax`, `weightSum`. Empty before the first step. Read-only view.
 *
 * @example
 * ```ts
 * const opt = lrfree.prodigy();
 * model.compile({ optimizer: opt, loss: 'categoricalCrossentropy' });
 * await model.fit(x, y, { epochs: 1 });
 * const { d } = lrfree.methodState(opt); // Prodigy's current estimate of the distance to the solution
 * ```
 */
export function methodState(opt: LrfreeOptimizer): Readonly<ScalarState> {
  return opt.directionState();
}

/** Catalog entries, one per method at its reference defaults. */
export const CATALOG: CatalogEntry[] = [
  {
    name: 'prodigy',
    description: 'Prodigy (Mishchenko & Defazio 2024): Adam with an estimated step size d, lr = 1',
    family: 'lr-free',
    make: ({ seed, stepsPerEpoch }) => prodigy({ seed, stepsPerEpoch }),
  },
  {
    name: 'dadaptAdam',
    description:
      'D-Adaptation Adam (Defazio & Mishchenko 2023): Adam with a lower-bound estimate of d, lr = 1',
    family: 'lr-free',
    make: ({ seed, stepsPerEpoch }) => dadaptAdam({ seed, stepsPerEpoch }),
  },
  {
    name: 'dadaptSgd',
    description: 'D-Adaptation SGD: dual averaging with an estimated step, lr = 1, momentum 0',
    family: 'lr-free',
    make: ({ seed, stepsPerEpoch }) => dadaptSgd({ seed, stepsPerEpoch }),
  },
  {
    name: 'dog',
    description:
      'DoG (Ivgi et al. 2023): SGD with eta = max distance from x0 / sqrt(sum of |g|^2), repsRel 1e-6',
    family: 'lr-free',
    make: ({ seed, stepsPerEpoch }) => dog({ seed, stepsPerEpoch }),
  },
  {
    name: 'ldog',
    description: 'L-DoG: DoG with one step size per weight tensor, repsRel 1e-6',
    family: 'lr-free',
    make: ({ seed, stepsPerEpoch }) => ldog({ seed, stepsPerEpoch }),
  },
  {
    name: 'scheduleFreeSgd',
    description:
      'Schedule-Free SGD (Defazio et al. 2024): no schedule, lr 1, beta 0.9; evaluate at x (opt.eval())',
    family: 'lr-free',
    make: ({ seed, stepsPerEpoch }) => scheduleFreeSgd({ seed, stepsPerEpoch }),
  },
  {
    name: 'scheduleFreeAdamW',
    description:
      'Schedule-Free AdamW (AlgoPerf 2024 self-tuning core): lr 0.0025; evaluate at x (opt.eval())',
    family: 'lr-free',
    make: ({ seed, stepsPerEpoch }) => scheduleFreeAdamW({ seed, stepsPerEpoch }),
  },
];
