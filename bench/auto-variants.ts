/**
 * Variants of auto() for the ablation and the design choices (docs/auto.md): each registers a catalog
 * entry `auto:<variant>` with one ingredient switched or one setting changed. Imported by the bench
 * scripts (not part of npm test, not in the library's catalog).
 */
import { type AutoIngredients, type AutoOptions, autoWith } from '../src/optimizers/auto.js';
import { registerOptimizer } from '../src/optimizers/catalog.js';

/** Variant name -> (hints, ingredients). */
export const AUTO_VARIANTS: Record<string, [AutoOptions, AutoIngredients]> = {
  'auto:noCheck': [{}, { noChecks: true }],
  'auto:checkEveryStep': [{ probeEvery: 1 }, {}],
  'auto:noClip': [{ clip: false }, {}],
  'auto:noCalibration': [{}, { calibrate: false }],
  'auto:noAveraging': [{}, { average: false }],
  'auto:gain1': [{}, { gain: 1 }],
  'auto:gain1.25': [{}, { gain: 1.25 }],
  'auto:gain1.5': [{}, { gain: 1.5 }],
  'auto:gain2': [{}, { gain: 2 }],
  'auto:gain3': [{}, { gain: 3 }],
  'auto:wd0': [{ weightDecay: 0 }, {}],
  'auto:wd0.01': [{ weightDecay: 0.01 }, {}],
  'auto:wd0.03': [{ weightDecay: 0.03 }, {}],
  'auto:wd0.08': [{ weightDecay: 0.08 }, {}],
  'auto:wd0.3': [{ weightDecay: 0.3 }, {}],
  'auto:beta0.95': [{ beta: 0.95 }, {}],
  'auto:checkY': [{}, { checkMove: 'y' }],
  'auto:checkUpdate': [{}, { checkMove: 'update' }],
  'auto:unfused': [{}, { fused: false }],
  'auto:noRegimes': [{}, { regimes: false }],
  'auto:noisyArmijo': [{}, { noisyChecks: 'armijo' }],
  'auto:noisyDecrease': [{}, { noisyChecks: 'decrease' }],
  'auto:floor0.05': [{}, { deterministicFloor: 0.05 }],
  'auto:floor0.1': [{}, { deterministicFloor: 0.1 }],
  'auto:floor0': [{}, { deterministicFloor: 0 }],
  'auto:floor0.15': [{}, { deterministicFloor: 0.15 }],
  'auto:detLine': [{}, { deterministicCheck: 'line' }],
  'auto:detLine0.2': [{}, { deterministicCheck: 'line', deterministicFloor: 0.2 }],
  /** The deterministic regime on the Schedule-Free direction (the design before conjugate gradients). */
  'auto:detSf': [{}, { deterministicDirection: 'sf' }],
  /** Conjugate gradients' moves compensated for float32 rounding (Kahan carry). */
  'auto:compensate': [{}, { compensate: true }],
  /** Without the Newton polish (the design before 2026-12-03's polish). */
  'auto:noPolish': [{}, { polish: false }],
  /** The default since 2026-12-03 (named so the runs made before then can be re-made by name). */
  'auto:plateau': [{}, { noisyChecks: 'plateau' }],
  /** The design before 2026-12-03: the noisy regime's guard alone, no halving on a plateau. */
  'auto:noPlateau': [{}, { noisyChecks: 'none' }],
};

for (const [name, [hints, ingredients]] of Object.entries(AUTO_VARIANTS)) {
  registerOptimizer({
    name,
    description: `auto() variant ${name}`,
    family: 'lr-free',
    make: ({ seed, stepsPerEpoch }) => autoWith({ seed, stepsPerEpoch, ...hints }, ingredients),
  });
}
