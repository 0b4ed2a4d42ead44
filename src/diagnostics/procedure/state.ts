/**
 * What the procedure records: its seven steps, their titles, and the JSON-safe state (every step's
 * evidence, the recommendations and the red flags) that an interrupted procedure resumes from.
 */
import type { MomentumRangeResult, ScheduleCheckResult, VariantResult } from '../checks.js';
import type { Curve } from '../curves.js';
import type { RangeTestResult, SuggestionRule } from '../rangeTest.js';
import type { LrChoice, LrFreeVerdict, ShortRun } from '../recommend.js';
import type { RedFlag } from '../redFlags.js';
import type { Variant } from '../trainer.js';
import type { LineResult } from '../weightSpace.js';

/** The seven steps, in order. */
export const STEPS = ['line', 'lr', 'momentum', 'decay', 'cyclical', 'variants', 'final'] as const;
/** One step's name. */
export type StepName = (typeof STEPS)[number];

/** Titles of the steps, as the procedure text names them. */
export const STEP_TITLES: Record<StepName, string> = {
  line: '1. Initial line search',
  lr: '2. Increase the learning rate',
  momentum: '3. Increase the momentum',
  decay: '4. Does learning-rate decay help?',
  cyclical: '5. Does a cyclical learning rate help?',
  variants: '6. Other optimizers',
  final: '7. Final line search (init -> final)',
};

/** A recommendation and the numbers behind it. */
export interface Recommendation<T> {
  value: T;
  evidence: string;
}

/** One rate the learning-rate confirmation tried (a summary of {@link LrChoice}'s candidates). */
export interface RateCandidate {
  lr: number;
  /** Range-test rules that proposed it, or `bracket`. */
  source: string[];
  /** Best held-out loss of its short run. */
  heldOutLoss: number;
  heldOutAccuracy?: number;
  /** The short run lowered the held-out loss beyond its noise. */
  fell: boolean;
}

/** The recommended learning rate: how sure, why, what was tried, what it cost. */
export interface LearningRateRecommendation extends Recommendation<number> {
  /** `confirmed` (range-test candidates checked by short runs, the default) or the range-test rule used alone. */
  method: 'confirmed' | SuggestionRule;
  /** False when the procedure is not sure of the rate; `why` says why. */
  sure: boolean;
  why: string[];
  candidates: RateCandidate[];
  /** Rates within noise of the recommended one (it included): any of them trains about as well. */
  ties: number[];
  /**
   * How much the winner's best held-out loss changed when run again with another batch order (0 when
   * not measured).
   */
  trainingNoise: number;
  /** Range test + confirmation runs: forwards, backwards, seconds. */
  cost: { forwards: number; backwards: number; seconds: number };
}

/** What the procedure recommends. */
export interface Recommendations {
  learningRate?: LearningRateRecommendation;
  /**
   * Learning-rate-free methods that did as well as the tuned rate on the held-out loss (same short
   * budget; "as well": worse by at most max(2 standard errors of the paired chunk differences, 2%)).
   */
  lrFree?: Recommendation<string[]>;
  momentum?: Recommendation<number>;
  decay?: Recommendation<boolean> & { plateauEpochs: number; alpha: number };
  cyclical?: Recommendation<boolean>;
  variant?: Recommendation<Variant> & { learningRate: number };
}

/** Everything the procedure recorded; JSON-safe (see `saveState` in ./stateFile.ts), so it can be resumed. */
export interface ProcedureState {
  version: 1;
  /** Steps finished, in order. */
  completed: StepName[];
  /** Steps skipped, with the reason. */
  skipped: Partial<Record<StepName, string>>;
  /** Wall time of each finished step, ms. */
  ms: Partial<Record<StepName, number>>;
  line?: LineResult;
  lr?: RangeTestResult;
  momentum?: { test: MomentumRangeResult; without: Curve; with: Curve; helps: boolean };
  decay?: ScheduleCheckResult;
  cyclical?: ScheduleCheckResult;
  variants?: { results: VariantResult[]; best?: Variant; lrFree?: LrFreeVerdict[] };
  /** The confirmation of step 2 (candidates, their short runs, the region where the loss fell). */
  lrChoice?: LrChoice;
  /**
   * Runs made only to rule out the optimizer before a flag blames the data: Adam at 1e-3 for the
   * confirmation budget, when nothing the procedure tried lowered the loss or beat chance.
   */
  recheck?: ShortRun[];
  final?: { curve: Curve; line: LineResult };
  recommendations: Recommendations;
  redFlags: RedFlag[];
  /** Settings the procedure ran with (so a resumed run can check it is the same). */
  settings: { epochs: number; batchSize: number; seed: number; trainSize: number; classes: number };
}
