/**
 * The optimizer core's per-step kernels on wasm (named in src/core/stepKernels.ts): the gradients' squared
 * norms in one kernel for all variables, the finiteness check of the new weights and state in one kernel,
 * and the commit w + scale*d in one kernel per variable. Each reads TF.js's heap in place through lrfree's
 * SIMD module (src/backend/wasm/simd/kernels.wat: `sum_squares`, `any_non_finite`, `axpy`).
 */
import * as tf from '@tensorflow/tfjs';
import { ALL_FINITE, provideStepKernels, STEP_ALONG, SUM_OF_SQUARES } from '../../core/stepKernels.js';
import { knownToBeFinite, rememberFinite } from './finiteMemo.js';
import {
  assertFloat32,
  isLrfreeKernel,
  type KernelArgs,
  markKernel,
  offsetOf,
  type WasmBackendLike,
} from './heap.js';
import { type SimdKernels, simdKernels } from './simd/instance.js';

export { ALL_FINITE, STEP_ALONG, SUM_OF_SQUARES } from '../../core/stepKernels.js';

/** True when the current backend is wasm, the three kernels are installed (patchWasm) and SIMD runs there. */
export function stepKernelsAvailable(): boolean {
  return (
    tf.getBackend() === 'wasm' &&
    isLrfreeKernel(SUM_OF_SQUARES, 'wasm') &&
    isLrfreeKernel(ALL_FINITE, 'wasm') &&
    isLrfreeKernel(STEP_ALONG, 'wasm') &&
    simdKernels(tf.backend()) !== undefined
  );
}
provideStepKernels(stepKernelsAvailable);

function kernelsOf(name: string, backend: WasmBackendLike): SimdKernels {
  const kernels = simdKernels(backend);
  if (!kernels) throw new Error(`lrfree ${name} (wasm): wasm SIMD or TF.js's memory is unavailable here.`);
  return kernels;
}

/** The inputs x0, x1, ... in order. */
function listed(name: string, args: KernelArgs): tf.TensorInfo[] {
  const list: tf.TensorInfo[] = [];
  for (let i = 0; `x${i}` in args.inputs; i++) list.push(args.inputs[`x${i}`]);
  if (list.length !== Object.keys(args.inputs).length)
    throw new Error(`lrfree ${name}: inputs must be named x0, x1, ... without gaps.`);
  return list;
}

function sumOfSquares(args: KernelArgs): tf.TensorInfo {
  const list = listed(SUM_OF_SQUARES, args);
  assertFloat32(SUM_OF_SQUARES, ...list);
  const backend = args.backend as WasmBackendLike;
  const kernels = kernelsOf(SUM_OF_SQUARES, backend);
  const sums = list.map((t) => kernels.sum_squares(offsetOf(backend, t), tf.util.sizeFromShape(t.shape)));
  const out = backend.makeOutput([list.length], 'float32');
  (backend.typedArrayFromHeap(out) as Float32Array).set(sums);
  return out;
}

function allFinite(args: KernelArgs): tf.TensorInfo {
  const list = listed(ALL_FINITE, args);
  const backend = args.backend as WasmBackendLike;
  const kernels = kernelsOf(ALL_FINITE, backend);
  // Integer and boolean tensors hold no NaN or infinity; those a fused kernel checked as it wrote them
  // need no second reading.
  const ok = list.every(
    (t) =>
      t.dtype !== 'float32' ||
      knownToBeFinite(t) ||
      !kernels.any_non_finite(offsetOf(backend, t), tf.util.sizeFromShape(t.shape)),
  );
  const out = backend.makeOutput([], 'int32');
  (backend.typedArrayFromHeap(out) as Int32Array)[0] = ok ? 1 : 0;
  return out;
}

function stepAlong(args: KernelArgs): tf.TensorInfo {
  const { base, d } = args.inputs;
  const { scale } = args.attrs as unknown as { scale: number };
  assertFloat32(STEP_ALONG, base, d);
  if (!tf.util.arraysEqual(base.shape, d.shape))
    throw new Error(`lrfree ${STEP_ALONG}: base [${base.shape}] and d [${d.shape}] must have one shape.`);
  const backend = args.backend as WasmBackendLike;
  const kernels = kernelsOf(STEP_ALONG, backend);
  const out = backend.makeOutput(base.shape, 'float32');
  const nonFinite = kernels.axpy(
    offsetOf(backend, d),
    offsetOf(backend, base),
    offsetOf(backend, out),
    tf.util.sizeFromShape(base.shape),
    scale,
  );
  if (!nonFinite) rememberFinite(out);
  return out;
}

/** Registrations on 'wasm' (patchWasm installs them; {@link stepKernelsAvailable} says when to use them). */
export const stepKernelConfigs: tf.KernelConfig[] = [
  [SUM_OF_SQUARES, sumOfSquares],
  [ALL_FINITE, allFinite],
  [STEP_ALONG, stepAlong],
].map(([kernelName, fn]) => ({
  kernelName: kernelName as string,
  backendName: 'wasm',
  kernelFunc: markKernel(fn as unknown as tf.KernelFunc),
}));
