/**
 * The public `lrfree.directions` namespace: the directions of src/directions/ plus the direction halves of
 * the learning-rate-free methods, which live with their presets in src/optimizers/ (a layer above
 * directions, so src/directions/index.ts cannot re-export them).
 */
export * from '../directions/index.js';
export { dadaptAdamDirection } from '../optimizers/dadaptAdam.js';
export { dadaptSgdDirection } from '../optimizers/dadaptSgd.js';
export { dogDirection } from '../optimizers/dog.js';
export { prodigyDirection } from '../optimizers/prodigy.js';
export { scheduleFreeDirection } from '../optimizers/scheduleFree.js';
