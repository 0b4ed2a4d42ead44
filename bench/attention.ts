/**
 * Attention benchmark (not part of npm test): the char-transformer training step (src/bench/tasks/
 * transformerModel.ts, batch 32) and the kernels it spends its time in, on stock wasm and on lrfree-patched
 * wasm, measured side by side in one run (modes interleaved round by round) and printed as ratios.
 * "stock wasm" has only the kernels stock wasm lacks (UnsortedSegmentSum, the embedding's gradient), without
 * which it cannot train the model at all.
 *
 *   npx tsx bench/attention.ts            # ~2 CPU-minutes on an idle 2-core machine
 *   npx tsx bench/attention.ts --quick    # fewer rounds
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { patchWasm } from '../src/backend/patchWasm.js';
import { transformerStep } from '../src/bench/tasks/transformerModel.js';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 2 : 5;

// ---- switching kernel sets in one process -------------------------------------------------------------
const REPLACED = [
  'BatchMatMul',
  'Tile',
  'Slice',
  'GatherV2',
  '_FusedMatMul',
  'MaxPoolGrad',
  'Conv2DBackpropInput',
  'Transpose',
  'Sum',
];
const stock = REPLACED.map((n) => tf.getKernel(n, 'wasm')!);

type Mode = 'stock wasm' | 'lrfree wasm';
const MODES: Mode[] = ['stock wasm', 'lrfree wasm'];

function restore(config: tf.KernelConfig): void {
  if (tf.getKernel(config.kernelName, config.backendName))
    tf.unregisterKernel(config.kernelName, config.backendName);
  tf.registerKernel(config);
}

async function setMode(mode: Mode): Promise<void> {
  patchWasm();
  if (mode === 'stock wasm') for (const c of stock) restore(c);
  await tf.setBackend('wasm');
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Median ms of `f` over `reps` calls after one warm-up call. */
function timeMs(f: () => void, reps: number): number {
  f();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    f();
    times.push(performance.now() - t);
  }
  return median(times);
}

// ---- the kernels of one step (shapes at batch 32, 4 heads, context 64, head size 16) ------------------
function attentionKernels(): { name: string; run: () => void }[] {
  const t = (shape: number[], seed: number) => tf.randomUniform(shape, -1, 1, 'float32', seed);
  const q = t([32, 4, 64, 16], 1);
  const scores = t([32, 4, 64, 64], 2);
  const qkv = t([32, 64, 3, 4, 16], 3);
  const rows = t([2048, 256], 4);
  const keep =
    <T>(f: () => T) =>
    () =>
      tf.dispose(f() as tf.Tensor);
  return [
    // The three batched products of attention's forward and backward passes.
    { name: 'q @ k^T, dy @ v^T [32,4,64,16] (k = 16)', run: keep(() => tf.matMul(q, q, false, true)) },
    { name: 'att @ v, dS @ k [32,4,64,64] @ [..,64,16]', run: keep(() => tf.matMul(scores, q)) },
    { name: 'att^T @ dy, dS^T @ q (dv, dk)', run: keep(() => tf.matMul(scores, q, true, false)) },
    { name: 'Transpose [32,64,3,4,16] -> heads', run: keep(() => tf.transpose(qkv, [2, 0, 3, 1, 4])) },
    { name: 'Transpose [32,4,64,16] -> rows', run: keep(() => tf.transpose(q, [0, 2, 1, 3])) },
    { name: 'Sum [2048,256] over rows (bias grad)', run: keep(() => tf.sum(rows, 0)) },
    { name: 'Softmax [32,4,64,64]', run: keep(() => tf.softmax(scores)) },
  ];
}

async function main(): Promise<void> {
  await tf.setBackend('wasm');
  const step = transformerStep({ batch: 32 });
  const kernels = attentionKernels();
  const stepTimes = new Map<Mode, number[]>(MODES.map((m) => [m, []]));
  const kernelTimes = new Map<string, number[]>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const mode of MODES) {
      await setMode(mode);
      stepTimes.get(mode)!.push(timeMs(step.step, quick ? 3 : 5));
      for (const k of kernels) {
        const key = `${k.name}|${mode}`;
        kernelTimes.set(key, [...(kernelTimes.get(key) ?? []), timeMs(k.run, 10)]);
      }
    }
  }
  const ratio = (a: number, b: number) => `${(a / b).toFixed(1)}x`;
  console.log(`\n${ROUNDS} rounds, modes interleaved; medians of per-round medians (ms)\n`);
  console.log('| kernel | stock wasm | lrfree wasm | speedup |');
  console.log('|---|---|---|---|');
  for (const k of kernels) {
    const [s, l] = MODES.map((m) => median(kernelTimes.get(`${k.name}|${m}`)!));
    console.log(`| ${k.name} | ${s.toFixed(2)} | ${l.toFixed(2)} | ${ratio(s, l)} |`);
  }
  const [s, l] = MODES.map((m) => median(stepTimes.get(m)!));
  console.log(
    `| **training step** (char-transformer, batch 32, SGD) | ${s.toFixed(1)} | ${l.toFixed(1)} | ${ratio(s, l)} |`,
  );
  console.log(
    `\nper-round step ratios: ${stepTimes
      .get('stock wasm')!
      .map((v, i) => ratio(v, stepTimes.get('lrfree wasm')![i]))
      .join(', ')}`,
  );
  step.dispose();
}

await main();
