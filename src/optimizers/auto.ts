/**
 * `lrfree.auto()`, the optimizer with no knobs: its public names, re-exported from src/optimizers/auto/
 * (constants, direction, conjugate gradients, scale rule, optimizer; the design is in auto/optimizer.ts) so
 * that imports of optimizers/auto.js keep working and importing this module registers its direction, step
 * rule and class.
 */
export type { AutoDeterministicDirection } from './auto/conjugate.js';
export {
  AUTO_GAIN,
  AUTO_REASONS,
  AUTO_REGIMES,
  AUTO_WEIGHT_DECAY,
  DETERMINISTIC_C_FLOOR,
} from './auto/constants.js';
export {
  type AutoIngredients,
  AutoOptimizer,
  type AutoOptions,
  auto,
  autoWith,
} from './auto/optimizer.js';
export {
  type AutoReasonName,
  type AutoReport,
  type AutoScaleChange,
  MAX_CHANGES,
} from './auto/report.js';
export type { AutoCheckMove, AutoNoisyChecks } from './auto/scaleRule.js';
