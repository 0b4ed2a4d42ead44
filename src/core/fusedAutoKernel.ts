/**
 * auto()'s fused direction-and-step kernel, named here so that src/optimizers/auto/direction.ts asks the
 * core, never a backend (the pattern of src/core/fastKernels.ts). src/backend/wasm/fusedAuto.ts registers the
 * TF.js kernel {@link FUSED_AUTO} on wasm and tells this module how to check that it can run
 * ({@link provideFusedAuto}); auto() falls back to TF.js ops everywhere else.
 */

/**
 * The kernel's name: `tf.engine().runKernel(FUSED_AUTO, { g, v0, z0, x0, y }, attrs)` returns
 * `[v, u, z, x, d, yc]`: the second moment, the clipped direction, the new z and x, the update
 * d = y - yNew and the committed point y - d.
 */
export const FUSED_AUTO = 'LrfreeFusedAuto';

/** Attributes of {@link FUSED_AUTO}: the constants of one step of auto()'s direction. */
export interface FusedAutoAttrs {
  /** Adam's beta2 and its bias correction 1 - beta2^k. */
  beta2: number;
  bc2: number;
  /** eps = sqrt(mean(v-hat)) * epsRel + epsFloor. */
  epsRel: number;
  epsFloor: number;
  /** Update clipping: per-tensor RMS of u at most 1. */
  clip: boolean;
  /** The scale (0: z does not move). */
  eta: number;
  /** Decoupled weight decay at y, z <- z - (eta*weightDecay)*y when eta > 0 (0: none). */
  weightDecay: number;
  /** Weight of z in x's average (0: x stays x0). */
  c: number;
  /** Schedule-Free interpolation y = x*beta + z*(1 - beta); false: y = z. */
  average: boolean;
  beta: number;
}

let fusedAutoCheck: (() => boolean) | undefined;

/** Called by the module that registers {@link FUSED_AUTO}: how to tell whether it can run right now. */
export function provideFusedAuto(available: () => boolean): void {
  fusedAutoCheck = available;
}

/** True when a provider is loaded and says the fused auto kernel can run on the current backend. */
export function fusedAutoAvailable(): boolean {
  return fusedAutoCheck?.() ?? false;
}
