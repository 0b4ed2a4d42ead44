/**
 * The catalog's entry type and run context, in their own file so that the preset files (which export their
 * CATALOG entries) and src/optimizers/catalog.ts (which gathers them) do not import each other.
 */
import type { LrfreeOptimizer } from '../core/optimizer.js';

/** What a run tells an optimizer factory. */
export interface RunContext {
  /** Optimizer steps per epoch of this run. */
  stepsPerEpoch: number;
  /** Total steps planned. */
  totalSteps: number;
  seed: number;
  /**
   * The starting step size of a spec `name@eta` for an entry with {@link CatalogEntry.startEta}
   * (walk's eta0, SLS's initStepSize): how a benchmark measures sensitivity to the one number left.
   */
  startEta?: number;
}

/** One catalog entry. */
export interface CatalogEntry {
  /** Unique name used on the command line, e.g. `sls` or `adam@1e-3`. */
  name: string;
  /** One line for listings. */
  description: string;
  /** `baseline` needs a tuned learning rate; the others claim not to. */
  family: 'baseline' | 'line-search' | 'more-descent' | 'alrao' | 'lr-free' | 'composed';
  make(ctx: RunContext): LrfreeOptimizer;
  /** True when `make` honours `ctx.startEta`, so `name@eta` sets the starting step size. */
  startEta?: boolean;
}
