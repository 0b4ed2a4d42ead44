/**
 * Relaxed SIMD (WebAssembly's `f32x4.relaxed_madd`, standardised in Wasm 3.0) lets lrfree's matrix product
 * accumulate by fused multiply-adds, about 1.25x faster than a multiply then an add (docs/backends.md).
 * Chrome and Node 22+ have it on by default; Node 20's V8 (11.3) has the finished feature behind
 * `--experimental-wasm-relaxed-simd`. V8 reads that flag when it validates a module, so turning it on
 * before lrfree's kernels compile is enough: no restart, no command-line flag.
 */
import { isNode, nodeImport } from '../core/platform.js';
import { engineHasRelaxedSimd } from './wasm/simd/instance.js';

/** The V8 flag that gates relaxed SIMD in Node 20. */
export const RELAXED_SIMD_FLAG = '--experimental-wasm-relaxed-simd';

/**
 * Makes relaxed SIMD available to this process where the engine has it only behind {@link RELAXED_SIMD_FLAG}
 * (Node 20), by setting the V8 flag (`node:v8`'s `setFlagsFromString`). Returns whether the engine now
 * validates relaxed SIMD; outside Node it only reports.
 */
export async function turnOnRelaxedSimd(): Promise<boolean> {
  if (engineHasRelaxedSimd() || !isNode) return engineHasRelaxedSimd();
  try {
    const v8 = await nodeImport<{ setFlagsFromString(flags: string): void }>('node:v8', 'ready');
    v8.setFlagsFromString(RELAXED_SIMD_FLAG);
  } catch {
    return false;
  }
  return engineHasRelaxedSimd();
}
