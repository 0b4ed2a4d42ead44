/**
 * Run by relaxedMadd.test.ts in a child process, with or without `--experimental-wasm-relaxed-simd` and
 * `LRFREE_FMA`:
 *
 *   [LRFREE_FMA=0|1] node [--experimental-wasm-relaxed-simd] --import tsx test/backend/relaxedProbe.ts
 *
 * Starts wasm on one thread, computes matrix products (awkward sizes, transposed operands) with lrfree's
 * product kernel and prints one JSON line: which accumulation the kernel module uses, what backendInfo()
 * says, the largest error against a float64 product in JS, and the products themselves.
 */
import * as tf from '@tensorflow/tfjs';
import { backendInfo, ready } from '../../src/backend/ready.js';
import { productAccumulation } from '../../src/backend/wasm/simd/instance.js';

// Whether V8 validates relaxed SIMD before ready() (Node 22+ do by default; Node 20 only with the flag).
const engineBefore = WebAssembly.validate(relaxedMaddModule());
await ready({ backend: 'wasm', threads: 1 }); // not quiet: the test reads the log line
const values = (n: number, seed: number) =>
  Float64Array.from({ length: n }, (_, i) => Math.sin(seed * 7919 + i * 12.9898));
const cases: [number, number, number, boolean, boolean][] = [
  [67, 129, 33, false, false],
  [128, 784, 128, false, false],
  [129, 67, 33, true, false],
  [67, 129, 33, false, true],
  [5, 3, 9, false, false],
];
let maxErr = 0;
const outputs: number[][] = [];
for (const [m, k, n, ta, tb] of cases) {
  const a = values(m * k, m + k);
  const b = values(k * n, k + n);
  // Stored layouts: a is [m, k] or, transposed, [k, m]; b is [k, n] or [n, k].
  const A = tf.tensor(Float32Array.from(a), ta ? [k, m] : [m, k]);
  const B = tf.tensor(Float32Array.from(b), tb ? [n, k] : [k, n]);
  const C = tf.matMul(A, B, ta, tb);
  const got = C.dataSync();
  const f32 = (x: number) => Math.fround(x);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let want = 0;
      for (let kk = 0; kk < k; kk++) {
        const av = f32(ta ? a[kk * m + i] : a[i * k + kk]);
        const bv = f32(tb ? b[j * k + kk] : b[kk * n + j]);
        want += av * bv;
      }
      maxErr = Math.max(maxErr, Math.abs(got[i * n + j] - want) / (1 + Math.abs(want)));
    }
  }
  outputs.push(Array.from(got));
  tf.dispose([A, B, C]);
}
// Whether V8 validates relaxed SIMD in this process now (set by the command line or by ready()).
const engine = WebAssembly.validate(relaxedMaddModule());
console.log(
  JSON.stringify({
    accumulation: productAccumulation(),
    info: backendInfo(),
    maxErr,
    outputs,
    engine,
    engineBefore,
  }),
);

/** The smallest module with one `f32x4.relaxed_madd` (v128, v128, v128) -> v128. */
function relaxedMaddModule(): Uint8Array<ArrayBuffer> {
  return new Uint8Array([
    0, 97, 115, 109, 1, 0, 0, 0, 1, 8, 1, 96, 3, 123, 123, 123, 1, 123, 3, 2, 1, 0, 10, 13, 1, 11, 0, 32, 0,
    32, 1, 32, 2, 253, 133, 2, 11,
  ]);
}
