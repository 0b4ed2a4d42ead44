/**
 * Directions: how the gradient becomes an update direction. The public `lrfree.directions` namespace adds
 * the learning-rate-free methods' directions (src/namespaces/directions.ts).
 */

export { type AdamOptions, adam } from './adam.js';
export { type MomentumOptions, momentum } from './momentum.js';
export { type NewtonOptions, newton } from './newton.js';
export { type SgdOptions, sgd } from './sgd.js';
