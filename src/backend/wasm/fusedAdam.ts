/**
 * A fused Adam-direction kernel for wasm: one SIMD pass (src/backend/wasm/simd/kernels.wat) replaces the 13
 * TF.js kernels of src/directions/adamMoments.ts per variable, with bit-identical results. On the MNIST MLP that
 * took Adam's direction from ~0.75 ms to ~0.15 ms per step (bench/line-search.ts). The module imports
 * TF.js's own wasm memory, so it reads and writes tensors in place: no copies.
 */
import * as tf from '@tensorflow/tfjs';
import { FUSED_ADAM, type FusedAdamAttrs, provideFusedAdam } from '../../core/fastKernels.js';
import { rememberFinite } from './finiteMemo.js';
import { isLrfreeKernel, type KernelArgs, markKernel, offsetOf, type WasmBackendLike } from './heap.js';
import { simdKernels } from './simd/instance.js';

export { FUSED_ADAM, type FusedAdamAttrs } from '../../core/fastKernels.js';

/**
 * True when the current backend is wasm, {@link FUSED_ADAM} is installed (patchWasm) and the SIMD module can
 * run there (checked on every Adam step: simdKernels caches its answer per wasm memory).
 */
export function fusedAdamAvailable(): boolean {
  return (
    tf.getBackend() === 'wasm' &&
    isLrfreeKernel(FUSED_ADAM, 'wasm') &&
    simdKernels(tf.backend()) !== undefined
  );
}
// Directions ask the core (src/core/fastKernels.ts), which asks this check once this module is loaded.
provideFusedAdam(fusedAdamAvailable);

function fusedAdam(args: KernelArgs): tf.TensorInfo[] {
  const { g, m, v } = args.inputs;
  const a = args.attrs as unknown as FusedAdamAttrs;
  const n = tf.util.sizeFromShape(g.shape);
  for (const [name, t] of [
    ['g', g],
    ['m', m],
    ['v', v],
  ] as const) {
    if (t.dtype !== 'float32')
      throw new Error(`lrfree ${FUSED_ADAM}: ${name} must be float32, got ${t.dtype}.`);
    if (tf.util.sizeFromShape(t.shape) !== n) {
      throw new Error(
        `lrfree ${FUSED_ADAM}: ${name} has shape [${t.shape}], the gradient [${g.shape}]; they must match.`,
      );
    }
  }
  const backend = args.backend as WasmBackendLike;
  const kernels = simdKernels(backend);
  if (!kernels)
    throw new Error(`lrfree ${FUSED_ADAM} (wasm): wasm SIMD or TF.js's memory is unavailable here.`);
  const outs = Array.from({ length: a.withSearch ? 4 : 3 }, () => backend.makeOutput(g.shape, 'float32'));
  // Offsets are taken after every allocation: they are stable even if the heap grew meanwhile.
  const nonFinite = kernels.adam(
    offsetOf(backend, g),
    offsetOf(backend, m),
    offsetOf(backend, v),
    offsetOf(backend, outs[0]),
    offsetOf(backend, outs[1]),
    offsetOf(backend, outs[2]),
    a.withSearch ? offsetOf(backend, outs[3]) : 0,
    a.withSearch ? 1 : 0,
    n,
    a.beta1,
    1 - a.beta1,
    a.beta2,
    1 - a.beta2,
    a.c1,
    a.c2,
    a.epsilon,
  );
  // The optimizer's finiteness check of the new state need not read m and v again.
  if (!nonFinite) for (const t of outs.slice(0, 2)) rememberFinite(t);
  return outs;
}

/** Registration of {@link FUSED_ADAM} on 'wasm' (patchWasm installs it; {@link fusedAdamAvailable} says when to use it). */
export const fusedAdamConfig: tf.KernelConfig = {
  kernelName: FUSED_ADAM,
  backendName: 'wasm',
  kernelFunc: markKernel(fusedAdam as unknown as tf.KernelFunc),
};
