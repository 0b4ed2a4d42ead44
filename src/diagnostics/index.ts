/**
 * Diagnostics: weight-space lines and planes, the learning-rate and momentum range tests with their
 * suggestion rules, the decay / cyclical / variant checks, and the step-by-step procedure that chains
 * them into recommendations and red flags (docs/diagnostics.md, docs/procedure.md).
 *
 * Browser-safe (the root entry's `lrfree.diagnostics`). The Node-only parts — saving/loading the procedure's
 * state to a file, and the data sources that read files and data-set packages — are added by ./node.ts
 * (`lrfree/node`'s `diagnostics`).
 */
export {
  compareVariants,
  cyclicalCheck,
  decayCheck,
  type MomentumRangeOptions,
  type MomentumRangeResult,
  momentumRangeTest,
  plateauEpoch,
  type ScheduleCheckOptions,
  type ScheduleCheckResult,
  type VariantResult,
} from './checks.js';
export {
  type DataSplit,
  DiagnosticAborted,
  type DiagnosticData,
  type Evaluation,
  evaluate,
  type LossSpec,
  snapshotModel,
} from './common.js';
export { type Curve, trainCurve } from './curves.js';
export {
  ProcedureInterrupted,
  type ProcedureOptions,
  type ProcedureState,
  procedure,
  type Recommendations,
  redFlagsOf,
  STEPS,
} from './procedure.js';
export {
  lrRangeTest,
  type RangeTestOptions,
  type RangeTestResult,
  RULES,
  rangeTestLrs,
} from './rangeTest.js';
export type { RedFlag, RedFlagId } from './redFlags.js';
export {
  fastaiSlice,
  minimumOver10,
  npGradient,
  type Suggestion,
  type Suggestions,
  slide,
  smoothDebiased,
  smoothEma,
  steep,
  steepestGradient,
  suggestAll,
  valley,
} from './suggest.js';
export { VARIANTS, type Variant } from './trainer.js';
export {
  type LineOptions,
  type LineResult,
  modelValues,
  type PlaneOptions,
  type PlaneResult,
  randomDirection,
  trainableValues,
  weightSpaceLine,
  weightSpacePlane,
} from './weightSpace.js';
