/**
 * The strongest published self-tuning rivals of lrfree's own methods (issue 18, item 1) as catalog
 * entries, at their authors' defaults: ScheduleFree+ (§15) and Prodigy + Schedule-Free (§16).
 */
import { auto } from './auto.js';
import type { CatalogEntry } from './catalogEntry.js';
import { prodigyScheduleFree } from './prodigyScheduleFree.js';
import { scheduleFreePlus } from './scheduleFreePlus.js';

/** Catalog entries, one per rival at its reference defaults. */
export const CATALOG: CatalogEntry[] = [
  {
    name: 'scheduleFreePlus',
    description:
      'ScheduleFree+ (Defazio 2026): Schedule-Free Adam with a Polyak step from the loss (f* = 0), lr 1; evaluate at x',
    family: 'lr-free',
    make: ({ seed, stepsPerEpoch }) => scheduleFreePlus({ seed, stepsPerEpoch }),
  },
  {
    name: 'prodigyScheduleFree',
    description:
      'Prodigy + Schedule-Free (prodigy-plus-schedule-free 2.0.1): d-estimate with a growth limiter, StableAdamW; evaluate at x',
    family: 'lr-free',
    make: ({ seed, stepsPerEpoch }) => prodigyScheduleFree({ seed, stepsPerEpoch }),
  },
  {
    name: 'auto',
    description:
      'auto() PROTOTYPE: Schedule-Free + clipped Adam direction, scale calibrated by probes and checked by an occasional Armijo probe; evaluate at x',
    family: 'lr-free',
    make: ({ seed, stepsPerEpoch }) => auto({ seed, stepsPerEpoch }),
  },
];
