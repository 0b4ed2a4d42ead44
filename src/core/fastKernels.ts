/**
 * Fused kernels a backend module may provide, named here so that directions ask the core, never a backend.
 * src/backend/wasm/fusedAdam.ts registers the TF.js kernel {@link FUSED_ADAM} and tells this module how to
 * check that it can run ({@link provideFusedAdam}); src/directions/adamMoments.ts asks
 * {@link fusedAdamAvailable} and calls the kernel by name, falling back to TF.js ops.
 */

/** The fused Adam kernel's name: `tf.engine().runKernel(FUSED_ADAM, { g, m, v }, attrs)`. */
export const FUSED_ADAM = 'LrfreeFusedAdam';

/** Attributes of {@link FUSED_ADAM}: the constants of one Adam step. */
export interface FusedAdamAttrs {
  beta1: number;
  beta2: number;
  epsilon: number;
  /** Bias corrections 1 - beta1^k and 1 - beta2^k. */
  c1: number;
  c2: number;
  /** Also return the search direction g / den. */
  withSearch: boolean;
}

let fusedAdamCheck: (() => boolean) | undefined;

/** Called by the module that registers {@link FUSED_ADAM}: how to tell whether it can run right now. */
export function provideFusedAdam(available: () => boolean): void {
  fusedAdamCheck = available;
}

/** True when a provider is loaded and says the fused Adam kernel can run on the current backend. */
export function fusedAdamAvailable(): boolean {
  return fusedAdamCheck?.() ?? false;
}
