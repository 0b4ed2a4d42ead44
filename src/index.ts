/**
 * lrfree: train neural networks on TensorFlow.js without tuning the learning rate.
 *
 * Optimizers are compositions of a direction (how the gradient becomes d) and a step rule (how far to
 * go along -d), or a method that owns its step, with optional gradient transforms; see
 * docs/ARCHITECTURE.md. Top-level names such as `lrfree.adam`, `lrfree.walk`, `lrfree.prodigy` are whole
 * optimizers; the pieces live in `lrfree.directions`, `lrfree.steps`, `lrfree.methods`,
 * `lrfree.transforms`.
 *
 * This is the root entry `lrfree`: browser-safe. It imports no Node built-in, no chart library and no data
 * set (checked by .dependency-cruiser.cjs and test/web/package.e2e.test.ts). Node-only pieces — file I/O
 * (`io`), data sets (`data`), reports and charts (`report`), the benchmark (`bench`) and the diagnostics'
 * file sources and state files — are in `lrfree/node` (src/node.ts), which re-exports all of this too.
 * New browser-safe exports go here; Node-only ones go to src/node.ts.
 */

import { patchCpu, patchWasm } from './backend/patchWasm.js';

export * as alrao from './alrao/index.js';
export { type AlraoPresetOptions, alraoAdam, alraoSgd } from './alrao/presets.js';

import * as backendReady from './backend/ready.js';

export {
  type BackendInfo,
  type BackendName,
  backendInfo,
  type ReadyOptions,
  ready,
} from './backend/ready.js';
export {
  type EvalPointOptions,
  type HasEvalPoint,
  hasEvalPoint,
  withEvalPoint,
  withEvalPointAsync,
} from './core/evalPoint.js';
export { EvalPointCallback, evalPointCallback } from './core/evalPointCallback.js';
export { Hyperparameters, type HyperScope } from './core/hyperparams.js';
export type { LossWindow } from './core/lossTrace.js';
export {
  type LossFn,
  LrfreeOptimizer,
  type NamedTensor,
  type OptimizerOptions,
  optimizer,
} from './core/optimizer.js';
export { featureAxisOf, modelVariables, type ParamGroup, paramGroups } from './core/params.js';
export {
  registerDirection,
  registeredKinds,
  registerMethod,
  registerSchedule,
  registerStepRule,
  registerTransform,
} from './core/registry.js';
export { deriveSeed, mulberry32, withSeededMathRandom } from './core/rng.js';
export {
  formatReport,
  type LossChange,
  type ReportFlag,
  type ReportFlagId,
  type TrainingReport,
} from './core/runReport.js';
export type { Schedule } from './core/schedule.js';
export type * from './core/types.js';
export { LrfreeConfigError } from './core/validate.js';
export * as diagnostics from './diagnostics/index.js';
export * as directions from './namespaces/directions.js';
export * as methods from './namespaces/methods.js';
export * from './namespaces/steps.js';
export * as steps from './namespaces/steps.js';
export {
  AUTO_REASONS,
  AUTO_REGIMES,
  AUTO_WEIGHT_DECAY,
  AutoOptimizer,
  type AutoOptions,
  type AutoReasonName,
  type AutoReport,
  type AutoScaleChange,
  auto,
} from './optimizers/auto.js';
export { AveragedOptimizer, type AveragedOptimizerOptions } from './optimizers/averaged.js';
export {
  type AveragerOptions,
  type AveragerState,
  averager,
  PolynomialDecayAverager,
} from './optimizers/averager.js';
export { adam, type CommonOptions, momentum, sgd } from './optimizers/baselines.js';
export {
  type CatalogEntry,
  catalog,
  catalogEntry,
  type RunContext,
  registerOptimizer,
} from './optimizers/catalog.js';
export { type DadaptAdamOptions, dadaptAdam, dadaptAdamDirection } from './optimizers/dadaptAdam.js';
export { type DadaptSgdOptions, dadaptSgd, dadaptSgdDirection } from './optimizers/dadaptSgd.js';
export { type DogOptions, type DogPresetOptions, dog, dogDirection, ldog } from './optimizers/dog.js';
export {
  committedPoint,
  type EvalPointDirection,
  EvalPointOptimizer,
  isEvalPointDirection,
} from './optimizers/evalPointMethod.js';
export {
  type AdamSlsOptions,
  adamSls,
  plasls,
  type SalsaOptions,
  type SlsOptions,
  type SpsOptions,
  salsa,
  sls,
  sps,
} from './optimizers/lineSearch.js';
export { methodState } from './optimizers/lrfreeMethods.js';
export type { MethodCommonOptions } from './optimizers/methodCommon.js';
export {
  keepStepping,
  keepVaulting,
  type NewtonPresetOptions,
  newton,
  pal,
  type WalkPresetOptions,
  walk,
} from './optimizers/moreDescent.js';
export {
  type ProdigyOptions,
  prodigy,
  prodigyDirection,
} from './optimizers/prodigy.js';
export {
  type ProdigyScheduleFreeOptions,
  prodigyScheduleFree,
  prodigyScheduleFreeDirection,
} from './optimizers/prodigyScheduleFree.js';
export {
  type EvalOptions,
  type ScheduleFreeAdamWOptions,
  ScheduleFreeOptimizer,
  type ScheduleFreeSgdOptions,
  scheduleFreeAdamW,
  scheduleFreeDirection,
  scheduleFreeSgd,
} from './optimizers/scheduleFree.js';
export {
  type AtXOptions,
  atEvalPoint,
  atX,
  type BatchNormRecompute,
  batchNormLayers,
  evaluateAtEvalPoint,
  evaluateAtX,
  predictAtEvalPoint,
  predictAtX,
  recomputeBatchNorm,
  restoreBatchNorm,
  saveAtEvalPoint,
  saveAtX,
} from './optimizers/scheduleFreeMode.js';
export {
  type ScheduleFreePlusOptions,
  scheduleFreePlus,
  scheduleFreePlusDirection,
} from './optimizers/scheduleFreePlus.js';
export * from './schedules/index.js';
export * as schedules from './schedules/index.js';
export * as train from './train/index.js';
export * as transforms from './transforms/index.js';

/** Backend helpers: pick the best backend, patch wasm's missing/slow kernels. */
export const backend = { ready: backendReady.ready, info: backendReady.backendInfo, patchWasm, patchCpu };

/** Package version. */
export const version = '0.1.0';
