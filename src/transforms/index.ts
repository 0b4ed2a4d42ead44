/**
 * Gradient transforms (optax style): clipping, decoupled weight decay and an EMA of the updates (per-variable
 * state), composed with `chain`, usable
 * around any direction + step rule or any method: `optimizer({ transforms: chain(...), ... })`.
 */
export { chain } from './chain.js';
export { clipByGlobalNorm } from './clipByGlobalNorm.js';
export {
  type DecayMask,
  type DecoupledWeightDecayOptions,
  decoupledWeightDecay,
  defaultDecayMask,
} from './decoupledWeightDecay.js';
export { type EmaOptions, ema } from './ema.js';
