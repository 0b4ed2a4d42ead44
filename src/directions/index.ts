/**
 * Directions: how the gradient becomes an update direction.
 *
 * The `*Direction` names below are deprecated aliases kept for existing code: those pieces compute the
 * whole update, step size included, so they are methods (`lrfree.methods.prodigy()`, ...). Under
 * `constant(1)` they run as the method; under any other step rule the optimizer refuses them.
 */

/** @deprecated use `lrfree.methods.dadaptAdam()` with `optimizer({ method })`. */
export { dadaptAdamDirection } from '../optimizers/dadaptAdam.js';
/** @deprecated use `lrfree.methods.dadaptSgd()` with `optimizer({ method })`. */
export { dadaptSgdDirection } from '../optimizers/dadaptSgd.js';
/** @deprecated use `lrfree.methods.dog()` with `optimizer({ method })`. */
export { dogDirection } from '../optimizers/dog.js';
/** @deprecated use `lrfree.methods.prodigy()` with `optimizer({ method })`. */
export { prodigyDirection } from '../optimizers/prodigy.js';
/** @deprecated use `lrfree.methods.scheduleFreeSgd()` / `scheduleFreeAdamW()` with `optimizer({ method })`. */
export { scheduleFreeDirection } from '../optimizers/scheduleFree.js';
export { type AdamOptions, adam } from './adam.js';
export { type MomentumOptions, momentum } from './momentum.js';
export { type NewtonOptions, newton } from './newton.js';
export { type SgdOptions, sgd } from './sgd.js';
