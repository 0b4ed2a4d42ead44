/**
 * auto()'s direction and Schedule-Free step fused for wasm: three SIMD passes per variable
 * (`auto_moments`, `auto_direction`, `auto_sf` in src/backend/wasm/simd/kernels.wat) replace the ~29 TF.js
 * kernels of the ops path in src/optimizers/auto/direction.ts. Two per-tensor reductions (the mean of v-hat
 * for the relative eps, the RMS of u for the clipping) are why there are three passes; their sums come back
 * from wasm as numbers, and the scalars between the passes are computed here in float32 (Math.fround) as the
 * TF.js scalar ops compute them. Element-wise, the operations and their order are those of the ops path;
 * the two sums add the same float32 terms in float64, where TF.js's Sum and Mean add them in float32 one
 * after the other, so the results agree with the ops path to float32 round-off, not bit for bit, and are
 * closer to the exact step (test/backend/fusedAuto.test.ts checks both against a float64 reference). One
 * TF.js kernel call per variable; the module imports TF.js's own wasm memory, so it reads and writes tensors
 * in place.
 */
import * as tf from '@tensorflow/tfjs';
import { FUSED_AUTO, type FusedAutoAttrs, provideFusedAuto } from '../../core/fusedAutoKernel.js';
import { isLrfreeKernel, type KernelArgs, markKernel, offsetOf, type WasmBackendLike } from './heap.js';
import { simdKernels } from './simd/instance.js';

export { FUSED_AUTO, type FusedAutoAttrs } from '../../core/fusedAutoKernel.js';

/**
 * True when the current backend is wasm, {@link FUSED_AUTO} is installed (patchWasm) and the SIMD module can
 * run there.
 */
export function fusedAutoAvailable(): boolean {
  return (
    tf.getBackend() === 'wasm' &&
    isLrfreeKernel(FUSED_AUTO, 'wasm') &&
    simdKernels(tf.backend()) !== undefined
  );
}
provideFusedAuto(fusedAutoAvailable);

const f = Math.fround;

function fusedAuto(args: KernelArgs): tf.TensorInfo[] {
  const { g, v0, z0, x0, y } = args.inputs;
  const a = args.attrs as unknown as FusedAutoAttrs;
  const n = tf.util.sizeFromShape(g.shape);
  for (const [name, t] of [
    ['g', g],
    ['v0', v0],
    ['z0', z0],
    ['x0', x0],
    ['y', y],
  ] as const) {
    if (t.dtype !== 'float32')
      throw new Error(`lrfree ${FUSED_AUTO}: ${name} must be float32, got ${t.dtype}.`);
    if (tf.util.sizeFromShape(t.shape) !== n) {
      throw new Error(
        `lrfree ${FUSED_AUTO}: ${name} has shape [${t.shape}], the gradient [${g.shape}]; they must match.`,
      );
    }
  }
  const backend = args.backend as WasmBackendLike;
  const kernels = simdKernels(backend);
  if (!kernels)
    throw new Error(`lrfree ${FUSED_AUTO} (wasm): wasm SIMD or TF.js's memory is unavailable here.`);
  // [v, u, z, x, d, yc]; offsets are taken after every allocation (the heap may have grown meanwhile).
  const outs = Array.from({ length: 6 }, () => backend.makeOutput(g.shape, 'float32'));
  const [v, u, z, x, d, yc] = outs.map((t) => offsetOf(backend, t));
  const bc2 = f(a.bc2);
  // eps = sqrt(mean(v / bc2)) * epsRel + epsFloor, each operation rounded to float32 as TF.js's scalars are.
  const sumVHat = kernels.auto_moments(
    offsetOf(backend, g),
    offsetOf(backend, v0),
    v,
    n,
    a.beta2,
    1 - a.beta2,
    bc2,
  );
  const eps = f(f(f(Math.sqrt(f(sumVHat / n))) * f(a.epsRel)) + f(a.epsFloor));
  const sumSq = kernels.auto_direction(offsetOf(backend, g), v, u, n, bc2, eps);
  // rms = max(sqrt(sum(u^2)) / sqrt(n), 1); dividing by 1 changes nothing, so pass 3 then leaves u alone.
  const rms = a.clip ? Math.max(f(f(Math.sqrt(sumSq)) / f(Math.sqrt(Math.max(n, 1)))), 1) : 1;
  const move = a.eta > 0;
  const flags =
    (rms !== 1 ? 1 : 0) |
    (move ? 2 : 0) |
    (move && a.weightDecay > 0 ? 4 : 0) |
    (a.c > 0 ? 8 : 0) |
    (a.average ? 16 : 0);
  kernels.auto_sf(
    u,
    offsetOf(backend, z0),
    offsetOf(backend, x0),
    offsetOf(backend, y),
    z,
    x,
    d,
    yc,
    n,
    flags,
    rms,
    a.eta,
    a.eta * a.weightDecay,
    a.c,
    1 - a.c,
    a.beta,
    1 - a.beta,
  );
  return outs;
}

/** Registration of {@link FUSED_AUTO} on 'wasm' (patchWasm installs it; {@link fusedAutoAvailable} says when to use it). */
export const fusedAutoConfig: tf.KernelConfig = {
  kernelName: FUSED_AUTO,
  backendName: 'wasm',
  kernelFunc: markKernel(fusedAuto as unknown as tf.KernelFunc),
};
