/**
 * MaxPoolGrad for wasm. The stock kernel took 3.2 ms per call on a 64x26x26x8 input (a Fashion-MNIST CNN
 * spent a third of its training step there); this one scans each window once on heap views.
 */
import type * as tf from '@tensorflow/tfjs';
import { maxPoolGradInto } from '../cpu/arrays/maxPoolGrad.js';
import { f32, type KernelArgs, replaceWasmKernel, runStockKernel, type WasmBackendLike } from './heap.js';
import { poolInfo } from './poolInfo.js';

function maxPoolGrad(args: KernelArgs): tf.TensorInfo {
  const { dy, input } = args.inputs;
  if (dy.dtype !== 'float32' || input.dtype !== 'float32' || input.shape.length !== 4) {
    return runStockKernel('MaxPoolGrad', args);
  }
  const info = poolInfo(input.shape, args.attrs);
  const backend = args.backend as WasmBackendLike;
  const out = backend.makeOutput(input.shape, 'float32');
  // Views after the allocation (the heap may have grown).
  maxPoolGradInto(f32(backend, input), f32(backend, dy), info, f32(backend, out));
  return out;
}

/** Replaces wasm's MaxPoolGrad, once; false when wasm is not imported. */
export function installMaxPoolGrad(): boolean {
  return replaceWasmKernel('MaxPoolGrad', maxPoolGrad);
}
