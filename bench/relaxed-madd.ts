/**
 * What relaxed SIMD's fused multiply-add gives lrfree's matrix product (not part of npm test): the kernel
 * module of src/backend/wasm/simd/kernels.wat as it is, and its relaxed variant (scripts/wasm.ts
 * `relaxedMaddVariant`: the 4x8 tile accumulates with `f32x4.relaxed_madd` instead of `f32x4.add(acc,
 * f32x4.mul(x, b))`; the module instance.ts runs where the engine has relaxed SIMD), timed side by side on
 * the same packed operands (the kernel alone: no TF.js, no packing in the timing), with the largest
 * relative difference.
 * Node 20's V8 (11.3) has relaxed SIMD behind a flag, which this script sets as `ready()` does; later V8s
 * (Chrome among them) have it on by default:
 *
 *   npx tsx bench/relaxed-madd.ts
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileWatText, relaxedMaddVariant, SIMD_DIR } from '../scripts/wasm.js';
import { turnOnRelaxedSimd } from '../src/backend/relaxedSimd.js';
import type { SimdKernels } from '../src/backend/wasm/simd/instance.js';

await turnOnRelaxedSimd();

const source = readFileSync(join(SIMD_DIR, 'kernels.wat'), 'utf8');
const compile = async (text: string) =>
  new Uint8Array(await compileWatText('kernels.wat', text, true)) as Uint8Array<ArrayBuffer>;
type Kernels = Pick<SimdKernels, 'pack_b' | 'matmul_packed'>;
const memory = new WebAssembly.Memory({ initial: 2048 });
const instance = (bytes: Uint8Array<ArrayBuffer>) =>
  new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports as unknown as Kernels;
let plain: Kernels;
let madd: Kernels;
try {
  plain = instance(await compile(source));
  madd = instance(await compile(relaxedMaddVariant(source)));
} catch (e) {
  console.error(
    `relaxed SIMD is not available here (${(e as Error).message}): this engine has no relaxed SIMD, not even behind --experimental-wasm-relaxed-simd`,
  );
  process.exit(1);
}
const f32 = new Float32Array(memory.buffer);
for (const [m, k, n] of [
  [128, 784, 128],
  [784, 128, 128],
  [128, 128, 128],
  [512, 512, 512],
]) {
  const A = 1 << 20;
  const B = A + m * k * 4 + 64;
  const P = B + k * n * 4 + 64;
  const C1 = P + k * (n + 8) * 4 + 64;
  const C2 = C1 + m * n * 4 + 64;
  const S = C2 + m * n * 4 + 64;
  for (let i = 0; i < m * k; i++) f32[A / 4 + i] = Math.sin(i * 1.3);
  for (let i = 0; i < k * n; i++) f32[B / 4 + i] = Math.cos(i * 0.7);
  plain.pack_b(B, P, k, n, n * 4, 4);
  const run = (kernels: Kernels, c: number) => kernels.matmul_packed(A, P, c, m, k, n, k * 4, 4, S);
  run(plain, C1);
  run(madd, C2);
  let diff = 0;
  for (let i = 0; i < m * n; i++) {
    const want = f32[C1 / 4 + i];
    diff = Math.max(diff, Math.abs(want - f32[C2 / 4 + i]) / (1 + Math.abs(want)));
  }
  const reps = Math.max(20, Math.round(2e9 / (m * k * n)));
  const time = (kernels: Kernels, c: number) => {
    for (let i = 0; i < 5; i++) run(kernels, c);
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) run(kernels, c);
    return (performance.now() - t0) / reps;
  };
  // Three rounds, alternating; the best of each (the least disturbed by other load).
  const rounds = [0, 1, 2].map(() => [time(plain, C1), time(madd, C2)]);
  const [t0, t1] = [0, 1].map((j) => Math.min(...rounds.map((r) => r[j])));
  const gflops = (ms: number) => ((2 * m * k * n) / ms / 1e6).toFixed(1);
  console.log(
    `${m}x${k}x${n}: mul + add ${t0.toFixed(3)} ms (${gflops(t0)} GFLOP/s), relaxed_madd ${t1.toFixed(3)} ms ` +
      `(${gflops(t1)} GFLOP/s): ${(t0 / t1).toFixed(2)}x; largest relative difference ${diff.toExponential(1)}`,
  );
}
