/**
 * Gradient transforms (optax style): clipping and decoupled weight decay, composed with `chain`, usable
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
