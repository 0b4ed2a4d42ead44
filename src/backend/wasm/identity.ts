/**
 * Identity and same-dtype Cast that share the input's memory (a reference count), as TF.js's cpu backend
 * and wasm's own Reshape do, instead of stock wasm's copy into a fresh allocation. TF.js runs an Identity
 * for every tensor its gradient tape saves (engine.clone) and a Cast for the gradient of every such clone:
 * the MLP 784-128-128-10's step made 30 Identity copies (1.6 MB) and 8 Casts. Tensor data is immutable,
 * so sharing is safe. Casts to bool test x != 0 (stock wasm truncated modulo 256); other casts, and
 * strings, go to the stock kernels.
 */
import type * as tf from '@tensorflow/tfjs';
import {
  isUnviewable,
  type KernelArgs,
  replaceWasmKernel,
  runStockKernel,
  type WasmBackendLike,
} from './heap.js';

/** The input itself, one more reference on its data. */
function share(args: KernelArgs): tf.TensorInfo {
  const { x } = args.inputs;
  (args.backend as WasmBackendLike).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

function identity(args: KernelArgs): tf.TensorInfo {
  return isUnviewable(args.inputs.x.dtype) ? runStockKernel('Identity', args) : share(args);
}

/**
 * x != 0 as bool (NaN is true), as cpu casts. Stock wasm stores the numbers into a byte array, which
 * truncates them modulo 256: 0.5 became false and 256 false, -1 the byte 255.
 */
function castToBool(args: KernelArgs): tf.TensorInfo {
  const { x } = args.inputs;
  const backend = args.backend as WasmBackendLike;
  const out = backend.makeOutput(x.shape, 'bool');
  // Views after the allocation: the heap may have grown.
  const from = backend.typedArrayFromHeap(x);
  const to = backend.typedArrayFromHeap(out);
  for (let i = 0; i < from.length; i++) to[i] = from[i] !== 0 ? 1 : 0;
  return out;
}

function cast(args: KernelArgs): tf.TensorInfo {
  const { x } = args.inputs;
  const { dtype } = args.attrs as unknown as { dtype: tf.DataType };
  if (isUnviewable(dtype) || isUnviewable(x.dtype)) return runStockKernel('Cast', args);
  if (dtype === x.dtype) return share(args);
  return dtype === 'bool' ? castToBool(args) : runStockKernel('Cast', args);
}

/** Replaces wasm's Identity and Cast with the sharing versions, once. False when wasm is not imported. */
export function installIdentity(): boolean {
  return replaceWasmKernel('Identity', identity) && replaceWasmKernel('Cast', cast);
}
