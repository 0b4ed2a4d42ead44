/**
 * Fused kernels for the optimizer core's own per-step work, named here so that the core asks for them by
 * name and never imports a backend (the pattern of src/core/fastKernels.ts). src/backend/wasm/stepKernels.ts
 * registers them on wasm and tells this module how to check that they can run ({@link provideStepKernels}).
 * Each function below falls back to TF.js ops elsewhere, with the same result: bit for bit for
 * {@link lossAndSquaredNorms} and {@link stepAlong}, the same verdict for {@link allFinite}.
 *
 * Why: on the MLP 784-128-128-10 a constant-step Adam step ran 63 small kernels around the fused Adam
 * kernel (squared gradient norms, the commit w - eta*d, the finiteness check of the new weights and
 * moments); TF.js's per-kernel work made them cost about as much as the Adam update itself.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * `runKernel(SUM_OF_SQUARES, { x0, x1, ... })`: float32 [n], the sum of squares of each input, bit for bit
 * `tf.sum(tf.square(x))` on the same backend.
 */
export const SUM_OF_SQUARES = 'LrfreeSumOfSquares';
/** `runKernel(ALL_FINITE, { x0, x1, ... })`: int32 scalar, 1 when no element of any input is NaN or infinite. */
export const ALL_FINITE = 'LrfreeAllFinite';
/** `runKernel(STEP_ALONG, { base, d }, { scale })`: scale * d + base (a Multiply, then an Add). */
export const STEP_ALONG = 'LrfreeStepAlong';

let stepKernelsCheck: (() => boolean) | undefined;

/** Called by the module that registers the kernels: how to tell whether they can run right now. */
export function provideStepKernels(available: () => boolean): void {
  stepKernelsCheck = available;
}

/** True when a provider is loaded and says the kernels can run on the current backend. */
export function stepKernelsAvailable(): boolean {
  return stepKernelsCheck?.() ?? false;
}

/** Inputs named x0, x1, ... in order, as the list kernels take them. */
function listInputs(tensors: readonly tf.Tensor[]): tf.NamedTensorMap {
  const inputs: tf.NamedTensorMap = {};
  tensors.forEach((t, i) => {
    inputs[`x${i}`] = t;
  });
  return inputs;
}

const isFloat = (t: tf.Tensor) => t.dtype === 'float32';

/**
 * The loss (NaN without one) and sum(g^2) of every gradient, as numbers: the step's first statistics.
 * With the fused kernel, two cheap read-backs (wasm reads its own heap); else one read-back of a stack
 * (on a GPU backend every read-back waits for the device).
 */
export function lossAndSquaredNorms(
  loss: tf.Scalar | undefined,
  grads: readonly tf.Tensor[],
): { loss: number; squaredNorms: number[] } {
  if (stepKernelsAvailable() && grads.length > 0 && grads.every(isFloat)) {
    const norms = tf.engine().runKernel(SUM_OF_SQUARES, listInputs(grads)) as tf.Tensor;
    const squaredNorms = Array.from(norms.dataSync());
    norms.dispose();
    return { loss: loss ? loss.dataSync()[0] : Number.NaN, squaredNorms };
  }
  const stats = tf.tidy(() =>
    tf.stack([loss ? tf.reshape(loss, []) : tf.scalar(0), ...grads.map((g) => tf.sum(tf.square(g)))]),
  );
  const values = stats.dataSync();
  stats.dispose();
  return { loss: loss ? values[0] : Number.NaN, squaredNorms: Array.from(values.subarray(1)) };
}

/** True when no element of any tensor is NaN or infinite; one read-back. */
export function allFinite(tensors: readonly tf.Tensor[]): boolean {
  if (tensors.length === 0) return true;
  if (stepKernelsAvailable()) {
    // Non-float tensors cannot hold NaN or infinities.
    const floats = tensors.filter(isFloat);
    if (floats.length === 0) return true;
    const flag = tf.engine().runKernel(ALL_FINITE, listInputs(floats)) as tf.Tensor;
    const ok = flag.dataSync()[0] === 1;
    flag.dispose();
    return ok;
  }
  // 0 * x is NaN exactly where x is NaN or infinite, and the sum carries it.
  const t = tf.tidy(() => tf.addN(tensors.map((x) => tf.sum(tf.mul(x, 0)))));
  const ok = Number.isFinite(t.dataSync()[0]);
  t.dispose();
  return ok;
}

/**
 * `d * scale + base`, computed as `add(mul(scalar(scale), d), base)` (so that a plain SGD step is
 * bit-identical to `tf.train.sgd`, which computes `add(mul(-lr, g), w)`); one fused kernel where available.
 */
export function stepAlong(base: tf.Tensor, d: tf.Tensor, scale: number): tf.Tensor {
  if (
    stepKernelsAvailable() &&
    isFloat(base) &&
    isFloat(d) &&
    tf.util.arraysEqual(base.shape, d.shape) &&
    // The fused kernel has no gradient: inside a gradient tape take the ops.
    !tapeRecording()
  ) {
    return tf.engine().runKernel(STEP_ALONG, { base, d }, { scale }) as tf.Tensor;
  }
  return tf.add(tf.mul(tf.scalar(scale), d), base);
}

/** True while TF.js records a gradient tape (inside tf.grad, variableGrads, customGrad's forward). */
function tapeRecording(): boolean {
  const state = (tf.engine() as unknown as { state?: { gradientDepth?: number } }).state;
  // Unknown engine internals: assume a tape, the safe answer.
  return state?.gradientDepth === undefined || state.gradientDepth > 0;
}
