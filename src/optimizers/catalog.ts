/**
 * The catalog: every named optimizer lrfree offers, registered once, with how to build it for a run.
 * The demo, the benchmark and the playground enumerate it, so a new optimizer appears everywhere by
 * adding one entry.
 */

import { CATALOG as ALRAO } from '../alrao/presets.js';
import type { LrfreeOptimizer } from '../core/optimizer.js';
import { LrfreeConfigError } from '../core/validate.js';
import { adam, momentum, sgd } from './baselines.js';
import type { CatalogEntry, RunContext } from './catalogEntry.js';
import { CATALOG as LINE_SEARCH } from './lineSearch.js';
import { CATALOG as LRFREE_METHODS } from './lrfreeMethods.js';
import { CATALOG as MORE_DESCENT } from './moreDescent.js';
import { CATALOG as RIVALS } from './rivals.js';

export type { CatalogEntry, RunContext } from './catalogEntry.js';

const entries = new Map<string, CatalogEntry>();

/** Adds (or replaces) an entry. */
export function registerOptimizer(entry: CatalogEntry): void {
  entries.set(entry.name, entry);
}

/** All entries, in registration order. */
export function catalog(): CatalogEntry[] {
  return [...entries.values()];
}

/** The entry called `name`, or an error listing the known names. */
export function catalogEntry(name: string): CatalogEntry {
  const e = entries.get(name);
  if (!e) {
    throw new LrfreeConfigError(`unknown optimizer '${name}'; known: ${[...entries.keys()].join(', ')}.`);
  }
  return e;
}

/** Baselines at one learning rate each; the benchmark's grids build more. */
registerOptimizer({
  name: 'sgd',
  description: 'SGD, eta 0.1 (a good MNIST value; a baseline still needs tuning elsewhere)',
  family: 'baseline',
  make: ({ seed }) => sgd(0.1, { seed }),
});
registerOptimizer({
  name: 'momentum',
  description: 'SGD + momentum 0.9, eta 0.01',
  family: 'baseline',
  make: ({ seed }) => momentum(0.01, 0.9, { seed }),
});
registerOptimizer({
  name: 'adam',
  description: 'Adam at its default eta 1e-3',
  family: 'baseline',
  make: ({ seed }) => adam(1e-3, { seed }),
});

/** The learning-rate-free families, each registered from its own preset file. */
for (const e of [...LINE_SEARCH, ...MORE_DESCENT, ...ALRAO, ...LRFREE_METHODS]) registerOptimizer(e);
/** The published self-tuning rivals (ScheduleFree+, Prodigy + Schedule-Free). */
for (const e of RIVALS) registerOptimizer(e);

/** The baselines that take a learning rate in a spec `name@eta`. */
const BASELINES: Record<string, (eta: number, seed: number) => LrfreeOptimizer> = {
  sgd: (eta, seed) => sgd(eta, { seed }),
  momentum: (eta, seed) => momentum(eta, 0.9, { seed }),
  adam: (eta, seed) => adam(eta, { seed }),
};

/** The baseline grids of the benchmark: SGD 7 points in [1e-3, 1], momentum 0.9 and Adam 5 points. */
export const GRIDS: Record<string, number[]> = {
  sgd: [1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1],
  momentum: [1e-3, 3e-3, 1e-2, 3e-2, 1e-1],
  adam: [1e-4, 3e-4, 1e-3, 3e-3, 1e-2],
};

/** Throws the error `optimizerFromSpec` would, without building anything. */
export function checkSpec(spec: string): void {
  parseSpec(spec);
}

/**
 * Splits `name` or `name@eta`. After '@' a baseline takes its learning rate and an entry with `startEta`
 * its starting step size; any other entry refuses.
 */
function parseSpec(spec: string): { entry?: CatalogEntry; baseline?: string; eta?: number } {
  const at = spec.indexOf('@');
  if (at < 0) return { entry: catalogEntry(spec) };
  const base = spec.slice(0, at);
  const eta = Number(spec.slice(at + 1));
  const entry = BASELINES[base] ? undefined : entries.get(base);
  if (!BASELINES[base] && !entry?.startEta) {
    const takers = [
      ...Object.keys(BASELINES),
      ...catalog()
        .filter((e) => e.startEta)
        .map((e) => e.name),
    ];
    throw new LrfreeConfigError(`'${spec}': only ${takers.join(', ')} take a learning rate after '@'.`);
  }
  if (!(eta > 0) || !Number.isFinite(eta)) {
    throw new LrfreeConfigError(
      `'${spec}': the learning rate after '@' must be a positive number, e.g. sgd@0.1.`,
    );
  }
  return entry ? { entry, eta } : { baseline: base, eta };
}

/**
 * Parses `name`, `baseline@eta` (e.g. `sgd@0.03`) or `entry@eta` (e.g. `walk@0.1`, a starting step size)
 * and builds the optimizer for a run.
 */
export function optimizerFromSpec(spec: string, ctx: RunContext): LrfreeOptimizer {
  const { entry, baseline, eta } = parseSpec(spec);
  if (entry) return entry.make(eta === undefined ? ctx : { ...ctx, startEta: eta });
  return BASELINES[baseline as string](eta as number, ctx.seed);
}

/** Grid specs of a baseline, e.g. `sgd@0.001` ... `sgd@1`. */
export function gridSpecs(base: keyof typeof GRIDS): string[] {
  return GRIDS[base].map((eta) => `${base}@${eta}`);
}
