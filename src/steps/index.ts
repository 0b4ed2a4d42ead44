/**
 * Step rules: how far to go along the direction. The public `lrfree.steps` namespace adds Alrao's rates
 * (src/namespaces/steps.ts).
 */

export { type ArmijoOptions, armijo } from './armijo.js';
export { constant } from './constant.js';
export { type GoldsteinOptions, goldstein } from './goldstein.js';
export { type KeepSteppingOptions, keepStepping } from './keepStepping.js';
export type { LineSearchRule, ResetOption } from './lineSearchCommon.js';
export { type ParabolicOptions, parabolic } from './parabolic.js';
export { type PerLayerOptions, perLayer } from './perLayer.js';
export { type PolyakOptions, type PolyakVariant, polyak } from './polyak.js';
export { scheduled } from './scheduled.js';
export { type SmoothedArmijoOptions, smoothedArmijo } from './smoothedArmijo.js';
export { type VaultOptions, vault } from './vault.js';
export { type WalkOptions, walk } from './walk.js';
