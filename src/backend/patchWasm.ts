/**
 * Kernels lrfree registers on the wasm backend so that training works and is fast there
 * (docs/backends.md): the four training kernels stock wasm lacks, a BatchMatMul that keeps transposed
 * products (every Dense/LSTM backward pass) on XNNPACK, a Tile by block copies (every BatchNorm backward), a Slice
 * and GatherV2 that read through heap views instead of copying whole inputs (batches, predict, embeddings),
 * faster MaxPoolGrad and Conv2DBackpropInput (every CNN backward pass), SIMD Sqrt and broadcasting
 * Add/Sub/Multiply/RealDiv (Adam's update, bias adds), an Identity and Cast that share memory instead of
 * copying (the gradient tape's clones), a fused SIMD kernel for Adam's direction, fused kernels for the
 * optimizer core's per-step norms, finiteness check and commit, and NaN-keeping versions of the kernels whose
 * stock clamps turned NaN into a number (ClipByValue, Relu6, Maximum, Minimum, Pow, fused convolutions with a
 * ReLU, MaxPool, AvgPool).
 */
import * as tf from '@tensorflow/tfjs';
import { installBatchMatMul } from './wasm/batchMatMul.js';
import { conv2dBackpropFilterConfig } from './wasm/conv2dBackpropFilter.js';
import { installConv2dBackpropInput } from './wasm/conv2dBackpropInput.js';
import { installConvNaN } from './wasm/convNaN.js';
import { depthwiseConv2dBackpropFilterConfig } from './wasm/depthwiseConv2dBackpropFilter.js';
import { depthwiseConv2dBackpropInputConfig } from './wasm/depthwiseConv2dBackpropInput.js';
import { installElementwise } from './wasm/elementwise.js';
import { installEmptyReductions } from './wasm/emptyReductions.js';
import { FUSED_ADAM, fusedAdamConfig } from './wasm/fusedAdam.js';
import { FUSED_AUTO, fusedAutoConfig } from './wasm/fusedAuto.js';
import { installFusedMatMul } from './wasm/fusedMatMul.js';
import { installGather } from './wasm/gather.js';
import { isLrfreeKernel } from './wasm/heap.js';
import { installIdentity } from './wasm/identity.js';
import { installMaxPoolGrad } from './wasm/maxPoolGrad.js';
import { installNanElementwise } from './wasm/nanElementwise.js';
import { installNanPools } from './wasm/nanPools.js';
import { installSlice } from './wasm/slice.js';
import { stepKernelConfigs } from './wasm/stepKernels.js';
import { installSum } from './wasm/sum.js';
import { installTile } from './wasm/tile.js';
import { installTranspose } from './wasm/transpose.js';
import { unsortedSegmentSumConfig } from './wasm/unsortedSegmentSum.js';

export { patchCpu } from './cpu/patchCpu.js';

const MISSING: tf.KernelConfig[] = [
  conv2dBackpropFilterConfig,
  depthwiseConv2dBackpropFilterConfig,
  depthwiseConv2dBackpropInputConfig,
  unsortedSegmentSumConfig,
];

/**
 * Registers lrfree's wasm kernels: Conv2DBackpropFilter, DepthwiseConv2dNativeBackpropFilter,
 * DepthwiseConv2dNativeBackpropInput and UnsortedSegmentSum where wasm has none (a native kernel, e.g. in a
 * later TF.js, is left alone), wraps BatchMatMul so transposed products run on XNNPACK, and replaces Tile
 * with a block-copy version, Slice and GatherV2 with versions that copy only what they take, MaxPoolGrad and
 * Conv2DBackpropInput with a window scan and col2im(dy @ W^T), Sqrt and broadcasting Add, Sub, Multiply and
 * RealDiv with single SIMD passes, Identity and same-dtype Cast with versions that share the input's memory
 * instead of copying it (the gradient tape clones every tensor it saves), ClipByValue, Relu6, Maximum, Minimum,
 * Pow, FusedConv2D, FusedDepthwiseConv2D, MaxPool and AvgPool with versions that give NaN where the cpu
 * backend does (the stock ones returned a clamp bound, the other operand or 1), and adds
 * `LrfreeFusedAdam` (lrfree's Adam direction in one SIMD pass), `LrfreeFusedAuto` (auto()'s direction and
 * Schedule-Free step in three) and the optimizer core's per-step kernels `LrfreeSumOfSquares`,
 * `LrfreeAllFinite` and `LrfreeStepAlong` (src/backend/wasm/stepKernels.ts). Call it after importing
 * `@tensorflow/tfjs-backend-wasm` (`lrfree.ready()` does both); before or after `tf.setBackend('wasm')` both
 * work. Idempotent: a second call changes nothing.
 *
 * @returns the names of the lrfree kernels now installed on 'wasm' (the same list on every call).
 *
 * @example
 * ```ts
 * import '@tensorflow/tfjs-backend-wasm';
 * import * as lrfree from 'lrfree';
 * lrfree.backend.patchWasm(); // ['Conv2DBackpropFilter', ..., '_FusedMatMul', 'MaxPoolGrad', ..., 'Sqrt', 'ClipByValue', ..., 'AvgPool', 'LrfreeFusedAdam', 'LrfreeFusedAuto', 'LrfreeSumOfSquares', ...]
 * await tf.setBackend('wasm');
 * ```
 */
export function patchWasm(): string[] {
  const names: string[] = [];
  for (const config of MISSING) {
    const present = tf.getKernel(config.kernelName, 'wasm');
    if (!present) tf.registerKernel(config);
    if (!present || isLrfreeKernel(config.kernelName, 'wasm')) names.push(config.kernelName);
  }
  if (installBatchMatMul()) names.push('BatchMatMul');
  if (installTile()) names.push('Tile');
  if (installSlice()) names.push('Slice');
  if (installGather()) names.push('GatherV2');
  if (installFusedMatMul()) names.push('_FusedMatMul');
  if (installMaxPoolGrad()) names.push('MaxPoolGrad');
  if (installConv2dBackpropInput()) names.push('Conv2DBackpropInput');
  if (installTranspose()) names.push('Transpose');
  if (installSum()) names.push('Sum');
  names.push(...installEmptyReductions());
  if (installIdentity()) names.push('Identity', 'Cast');
  names.push(...installElementwise());
  names.push(...installNanElementwise(), ...installConvNaN(), ...installNanPools());
  // A new kernel name rather than a replacement: register it only where the wasm backend's kernels are.
  if (tf.getKernel('BatchMatMul', 'wasm')) {
    if (!tf.getKernel(FUSED_ADAM, 'wasm')) tf.registerKernel(fusedAdamConfig);
    if (isLrfreeKernel(FUSED_ADAM, 'wasm')) names.push(FUSED_ADAM);
    if (!tf.getKernel(FUSED_AUTO, 'wasm')) tf.registerKernel(fusedAutoConfig);
    if (isLrfreeKernel(FUSED_AUTO, 'wasm')) names.push(FUSED_AUTO);
    for (const config of stepKernelConfigs) {
      if (!tf.getKernel(config.kernelName, 'wasm')) tf.registerKernel(config);
      if (isLrfreeKernel(config.kernelName, 'wasm')) names.push(config.kernelName);
    }
  }
  return names;
}
