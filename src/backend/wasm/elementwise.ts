/**
 * Elementwise float32 kernels on wasm where the stock ones are slow, one SIMD pass each (`binary` and
 * `unary` in src/backend/wasm/simd/kernels.wat):
 * - Add, Sub, Multiply, RealDiv with a broadcast operand: a scalar (Adam's update multiplies and divides
 *   every weight tensor by scalars about ten times per step) or the other operand's trailing axes (a Dense
 *   layer's bias). Stock wasm runs these through a generic broadcasting loop; equal shapes stay on stock
 *   (XNNPACK's SIMD loop, as fast as this one when measured).
 * - Sqrt: stock wasm computes it one element at a time (measured ~3.5x slower on 100K floats).
 * Each element is the same single IEEE float32 operation, so results are bit-identical to the stock
 * kernels'. Other broadcasts, other dtypes and the same-shape binary cases go to the stock kernels.
 */
import * as tf from '@tensorflow/tfjs';
import {
  type KernelArgs,
  offsetOf,
  replaceWasmKernel,
  runStockKernel,
  type WasmBackendLike,
} from './heap.js';
import { simdKernels } from './simd/instance.js';

/** The `binary` kernel's operation codes, by TF.js kernel name. */
const BINARY_OPS = { Add: 0, Sub: 1, Multiply: 2, RealDiv: 3 } as const;
/** The `unary` kernel's operation codes. */
const UNARY_OPS = { Sqrt: 0 } as const;

/** `small`'s shape without leading 1s. */
function core(shape: number[]): number[] {
  const first = shape.findIndex((d) => d !== 1);
  return first < 0 ? [] : shape.slice(first);
}

/**
 * How `a op b` maps onto the kernel: which operand is the big one (the output's shape and size) and the
 * period of the other; undefined for broadcasts it does not handle.
 */
export function binaryPlan(
  aShape: number[],
  bShape: number[],
): { outShape: number[]; yIsA: boolean; period: number } | undefined {
  let outShape: number[];
  try {
    outShape = tf.backend_util.assertAndGetBroadcastShape(aShape, bShape);
  } catch {
    return undefined; // the stock kernel throws its own error
  }
  const size = tf.util.sizeFromShape(outShape);
  const sa = tf.util.sizeFromShape(aShape);
  const sb = tf.util.sizeFromShape(bShape);
  // `y` (the repeating operand) is a trailing block of the output: equal, size 1, or the trailing axes.
  const fits = (big: number[], bigSize: number, small: number[]) => {
    if (bigSize !== size) return false;
    const c = core(small);
    return c.length <= big.length && c.every((d, i) => d === big[big.length - c.length + i]);
  };
  if (fits(aShape, sa, bShape)) return { outShape, yIsA: false, period: sb };
  if (fits(bShape, sb, aShape)) return { outShape, yIsA: true, period: sa };
  return undefined;
}

function binary(name: keyof typeof BINARY_OPS) {
  return (args: KernelArgs): tf.TensorInfo => {
    const { a, b } = args.inputs;
    const backend = args.backend as WasmBackendLike;
    const kernels = simdKernels(backend);
    const plan = a.dtype === 'float32' && b.dtype === 'float32' && kernels && binaryPlan(a.shape, b.shape);
    // Equal sizes: stock (XNNPACK) is as fast.
    if (!plan || !kernels || plan.period === tf.util.sizeFromShape(plan.outShape)) {
      return runStockKernel(name, args);
    }
    const out = backend.makeOutput(plan.outShape, 'float32');
    const [x, y] = plan.yIsA ? [b, a] : [a, b];
    const n = tf.util.sizeFromShape(plan.outShape);
    if (n > 0) {
      kernels.binary(
        BINARY_OPS[name],
        offsetOf(backend, x),
        offsetOf(backend, y),
        offsetOf(backend, out),
        n,
        plan.period,
        plan.yIsA ? 1 : 0,
      );
    }
    return out;
  };
}

function unary(name: keyof typeof UNARY_OPS) {
  return (args: KernelArgs): tf.TensorInfo => {
    const { x } = args.inputs;
    const backend = args.backend as WasmBackendLike;
    const kernels = simdKernels(backend);
    if (x.dtype !== 'float32' || !kernels) return runStockKernel(name, args);
    const out = backend.makeOutput(x.shape, 'float32');
    const n = tf.util.sizeFromShape(x.shape);
    if (n > 0) kernels.unary(UNARY_OPS[name], offsetOf(backend, x), offsetOf(backend, out), n);
    return out;
  };
}

/**
 * Replaces wasm's Add, Sub, Multiply, RealDiv and Sqrt with the SIMD versions, once. Returns the
 * names replaced (none when wasm is not imported).
 */
export function installElementwise(): string[] {
  const names: string[] = [];
  for (const name of Object.keys(BINARY_OPS) as (keyof typeof BINARY_OPS)[]) {
    if (replaceWasmKernel(name, binary(name))) names.push(name);
  }
  for (const name of Object.keys(UNARY_OPS) as (keyof typeof UNARY_OPS)[]) {
    if (replaceWasmKernel(name, unary(name))) names.push(name);
  }
  return names;
}
