/**
 * Transpose for wasm when the innermost axis stays innermost: multi-head attention's reshuffles
 * ([B, T, 3, H, Dh] -> [3, B, H, T, Dh], [B, H, T, Dh] -> [B, T, H, Dh] and their gradients). Stock wasm
 * computes a source index per element for ranks above 4 (and per element at any rank): ~70 ms for one
 * [32, 64, 3, 4, 16] tensor on this machine, a quarter of a transformer training step. Here the axes that
 * stay adjacent are merged first, and each innermost run (Dh floats and more) is copied as a block through
 * heap views. Perms that move the innermost axis (matrix transposes) go to the stock kernel.
 */
import type * as tf from '@tensorflow/tfjs';
import {
  isUnviewable,
  type KernelArgs,
  replaceWasmKernel,
  runStockKernel,
  type WasmBackendLike,
} from './heap.js';

/**
 * `shape` and `perm` with every run of input axes that stays adjacent and in order in the output merged into
 * one axis (size-1 axes dropped): the smallest equivalent transpose.
 */
export function collapseTranspose(
  shape: readonly number[],
  perm: readonly number[],
): { shape: number[]; perm: number[] } {
  const kept = perm.filter((axis) => shape[axis] !== 1);
  // Groups of input axes, in output order; a group continues while the next output axis is the next input one.
  const groups: number[][] = [];
  for (const axis of kept) {
    const last = groups[groups.length - 1];
    if (last && last[last.length - 1] + 1 === axis) last.push(axis);
    else groups.push([axis]);
  }
  // Each group becomes one axis; number the groups by their position in the input.
  const byInput = [...groups].sort((a, b) => a[0] - b[0]);
  return {
    shape: byInput.map((g) => g.reduce((p, axis) => p * shape[axis], 1)),
    perm: groups.map((g) => byInput.indexOf(g)),
  };
}

/**
 * Copies `src` (row-major, `shape`) transposed by `perm` into `dst`, when `perm` keeps the last axis last:
 * one block copy per innermost run. Returns false (copying nothing) for other perms.
 */
export function transposeRuns<T extends Float32Array | Int32Array | Uint8Array>(
  src: T,
  shape: readonly number[],
  perm: readonly number[],
  dst: T,
): boolean {
  const c = collapseTranspose(shape, perm);
  const r = c.shape.length;
  if (r === 0) {
    if (dst.length > 0) dst[0] = src[0];
    return true;
  }
  if (c.perm[r - 1] !== r - 1) return false;
  const run = c.shape[r - 1];
  const inStride = new Array<number>(r);
  let s = 1;
  for (let a = r - 1; a >= 0; a--) {
    inStride[a] = s;
    s *= c.shape[a];
  }
  // An odometer over the output's outer axes, with the input offset it points at.
  const outer = c.perm.slice(0, -1).map((a) => c.shape[a]);
  const step = c.perm.slice(0, -1).map((a) => inStride[a]);
  const index = new Array<number>(outer.length).fill(0);
  const rows = dst.length / run;
  let from = 0;
  for (let row = 0, to = 0; row < rows; row++, to += run) {
    if (run >= 32) dst.set(src.subarray(from, from + run), to);
    else for (let j = 0; j < run; j++) dst[to + j] = src[from + j];
    for (let d = outer.length - 1; d >= 0; d--) {
      from += step[d];
      if (++index[d] < outer[d]) break;
      from -= step[d] * outer[d];
      index[d] = 0;
    }
  }
  return true;
}

function transpose(args: KernelArgs): tf.TensorInfo {
  const { x } = args.inputs;
  const { perm } = args.attrs as unknown as { perm: number[] };
  if (isUnviewable(x.dtype) || perm.length !== x.shape.length) return runStockKernel('Transpose', args);
  const c = collapseTranspose(x.shape, perm);
  if (c.shape.length > 0 && c.perm[c.perm.length - 1] !== c.perm.length - 1)
    return runStockKernel('Transpose', args);
  const backend = args.backend as WasmBackendLike;
  const out = backend.makeOutput(
    perm.map((a) => x.shape[a]),
    x.dtype,
  );
  // Views taken after the allocation: makeOutput may grow the heap and detach older views.
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  if (dst.length > 0) transposeRuns(src, x.shape, perm, dst as typeof src);
  return out;
}

/** Replaces wasm's Transpose with the run-copying version, once. False when wasm is not imported. */
export function installTranspose(): boolean {
  return replaceWasmKernel('Transpose', transpose);
}
