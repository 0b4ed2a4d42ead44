/**
 * Backend benchmark (not part of npm test): training-step times of an MLP, a small CNN and an
 * Embedding+LSTM on cpu, stock wasm and lrfree-patched wasm, measured side by side in one run and printed
 * as ratios; the GFLOP/s of the forward and both backward matmuls against numpy/OpenBLAS when present
 * (one BLAS thread: wasm runs single-threaded in Node, and 2-thread numpy is noisy on a shared machine).
 *
 *   npx tsx bench/backend-kernels.ts            # full run (~1-2 min on 2 cores)
 *   npx tsx bench/backend-kernels.ts --quick    # fewer repetitions, skips the slow stock-cpu CNN/LSTM
 */
import { execFileSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { patchCpu, patchWasm } from '../src/backend/patchWasm.js';
import { stockKernel } from '../src/backend/wasm/heap.js';

const quick = process.argv.includes('--quick');
const BATCH = 64;

// ---- switching kernel sets in one process -------------------------------------------------------------
const LRFREE_WASM = [
  'Conv2DBackpropFilter',
  'DepthwiseConv2dNativeBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
  'UnsortedSegmentSum',
];
const stockCpu = ['Conv2DBackpropFilter', 'UnsortedSegmentSum'].map((n) => tf.getKernel(n, 'cpu')!);

type Mode = 'cpu' | 'cpu+lrfree' | 'wasm' | 'wasm+kernels' | 'wasm+lrfree';
const MODES: Mode[] = ['cpu', 'cpu+lrfree', 'wasm', 'wasm+kernels', 'wasm+lrfree'];

function restore(config: tf.KernelConfig): void {
  if (tf.getKernel(config.kernelName, config.backendName))
    tf.unregisterKernel(config.kernelName, config.backendName);
  tf.registerKernel(config);
}

/** Puts the kernel registry in the state of `mode` and selects its backend. */
async function setMode(mode: Mode): Promise<void> {
  for (const c of stockCpu) restore(c);
  if (mode === 'cpu+lrfree') patchCpu();
  const lrfree = patchWasm(); // (re)installs lrfree's kernels, remembering the stock ones it replaces
  if (mode === 'wasm') for (const n of LRFREE_WASM) tf.unregisterKernel(n, 'wasm');
  // Every stock kernel lrfree replaced (BatchMatMul, Tile, Slice, elementwise, ...) back, except in wasm+lrfree.
  if (mode !== 'wasm+lrfree') {
    for (const n of lrfree) {
      const stock = stockKernel(n);
      if (stock) restore(stock);
    }
  }
  await tf.setBackend(mode.startsWith('cpu') ? 'cpu' : 'wasm');
}

// ---- models -------------------------------------------------------------------------------------------
interface Task {
  name: string;
  build: () => tf.LayersModel;
  data: () => { x: tf.Tensor; y: tf.Tensor };
}

const seeded = (seed: number) => tf.initializers.glorotUniform({ seed });
const labels = () =>
  tf.oneHot(
    tf.tensor1d(
      Array.from({ length: BATCH }, (_, i) => (i * 7) % 10),
      'int32',
    ),
    10,
  );
const uniform = (shape: number[], seed: number) => tf.randomUniform(shape, -1, 1, 'float32', seed);

const TASKS: Task[] = [
  {
    name: 'MLP 784-128-10',
    build: () =>
      tf.sequential({
        layers: [
          tf.layers.dense({
            inputShape: [784],
            units: 128,
            activation: 'relu',
            kernelInitializer: seeded(1),
          }),
          tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: seeded(2) }),
        ],
      }),
    data: () => ({ x: uniform([BATCH, 784], 3), y: labels() }),
  },
  {
    name: 'CNN 28x28 c8-p2-c16-d10',
    build: () =>
      tf.sequential({
        layers: [
          tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 8, kernelSize: 3, activation: 'relu' }),
          tf.layers.maxPooling2d({ poolSize: 2 }),
          tf.layers.conv2d({ filters: 16, kernelSize: 3, activation: 'relu' }),
          tf.layers.flatten(),
          tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: seeded(4) }),
        ],
      }),
    data: () => ({ x: uniform([BATCH, 28, 28, 1], 5), y: labels() }),
  },
  {
    name: 'Embedding(1000,32)+LSTM(64), seq 20',
    build: () =>
      tf.sequential({
        layers: [
          tf.layers.embedding({ inputDim: 1000, outputDim: 32, inputLength: 20 }),
          tf.layers.lstm({ units: 64 }),
          tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: seeded(6) }),
        ],
      }),
    data: () => ({ x: tf.floor(tf.randomUniform([BATCH, 20], 0, 1000, 'float32', 7)), y: labels() }),
  },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Median ms of one trainOnBatch step (SGD), or the error message when the backend cannot train it. */
async function stepMs(task: Task, mode: Mode): Promise<number | string> {
  await setMode(mode);
  const model = task.build();
  model.compile({ optimizer: tf.train.sgd(0.01), loss: 'categoricalCrossentropy' });
  const { x, y } = task.data();
  try {
    await model.trainOnBatch(x, y);
    // Aim at ~1.5 s per cell (0.6 s quick), between 3 and 30 steps.
    const t0 = performance.now();
    await model.trainOnBatch(x, y);
    const first = performance.now() - t0;
    const reps = Math.max(3, Math.min(30, Math.round((quick ? 600 : 1500) / first)));
    const times: number[] = [first];
    for (let i = 1; i < reps; i++) {
      const t = performance.now();
      await model.trainOnBatch(x, y);
      times.push(performance.now() - t);
    }
    return median(times);
  } catch (e) {
    const m = String((e as Error).message).match(/Kernel '(\w+)' not registered/);
    return m ? `fails: no ${m[1]}` : `fails: ${(e as Error).message.slice(0, 40)}`;
  } finally {
    tf.dispose([x, y]);
    model.dispose();
  }
}

// ---- matmul throughput ----------------------------------------------------------------------------------
/** [label, batch, in, out]: a Dense layer y[B, out] = x[B, in] @ W[in, out] and its two backward products. */
const MATMULS: [string, number, number, number][] = [
  ['MLP layer 1 (64x784 @ 784x128)', 64, 784, 128],
  ['LSTM gates (64x64 @ 64x256)', 64, 64, 256],
  ['Dense 256x1024 @ 1024x1024', 256, 1024, 1024],
];
const PRODUCTS = [
  // [name, a shape, b shape, transposeA, transposeB] in terms of (B, I, O)
  ['forward  x @ W', (B: number, I: number, O: number) => [[B, I], [I, O], false, false]],
  ['dW = x^T @ dy', (B: number, I: number, O: number) => [[B, I], [B, O], true, false]],
  ['dx = dy @ W^T', (B: number, I: number, O: number) => [[B, O], [I, O], false, true]],
] as const;

function gflops(a: number[], b: number[], ta: boolean, tb: boolean): number {
  const m = ta ? a[1] : a[0];
  const k = ta ? a[0] : a[1];
  const n = tb ? b[0] : b[1];
  const A = tf.randomUniform(a, -1, 1, 'float32', 1);
  const Bt = tf.randomUniform(b, -1, 1, 'float32', 2);
  tf.matMul(A, Bt, ta, tb).dispose();
  let reps = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < (quick ? 100 : 300)) {
    tf.matMul(A, Bt, ta, tb).dispose();
    reps++;
  }
  const s = (performance.now() - t0) / 1000 / reps;
  tf.dispose([A, Bt]);
  return (2 * m * n * k) / s / 1e9;
}

const NUMPY = `
import sys, time, json, numpy as np
out = []
for B, I, O in json.loads(sys.argv[1]):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((B, I), dtype=np.float32); w = rng.standard_normal((I, O), dtype=np.float32)
    dy = rng.standard_normal((B, O), dtype=np.float32)
    row = []
    for f in (lambda: x @ w, lambda: x.T @ dy, lambda: dy @ w.T):
        f(); n = 0; t0 = time.perf_counter()
        while time.perf_counter() - t0 < 0.3: f(); n += 1
        row.append(2 * B * I * O / ((time.perf_counter() - t0) / n) / 1e9)
    out.append(row)
print(json.dumps(out))
`;

/** numpy GFLOP/s of the same three products per shape, with `threads` BLAS threads; null without numpy. */
function numpyGflops(threads: number): number[][] | null {
  try {
    const shapes = JSON.stringify(MATMULS.map(([, B, I, O]) => [B, I, O]));
    const env = { ...process.env, OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads) };
    return JSON.parse(execFileSync('python3', ['-c', NUMPY, shapes], { env, encoding: 'utf8' }));
  } catch {
    return null;
  }
}

// ---- conv filter-gradient kernels -------------------------------------------------------------------------
const CONVS: [number[], number[]][] = [
  [
    [64, 28, 28, 1],
    [3, 3, 1, 8],
  ],
  [
    [64, 13, 13, 8],
    [3, 3, 8, 16],
  ],
  [
    [128, 14, 14, 32],
    [3, 3, 32, 64],
  ],
];

function convMs(xs: number[], fs: number[], maxMs: number): number {
  const info = tf.backend_util.computeConv2DInfo(xs as never, fs as never, 1, 1, 'valid');
  const x = tf.randomUniform(xs, -1, 1, 'float32', 1);
  const dy = tf.randomUniform(info.outShape, -1, 1, 'float32', 2);
  const run = () =>
    (
      tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, {
        strides: 1,
        pad: 'valid',
        dataFormat: 'NHWC',
        filterShape: fs,
      } as unknown as tf.NamedAttrMap) as tf.Tensor
    ).dispose();
  const times: number[] = [];
  const t0 = performance.now();
  do {
    const t = performance.now();
    run();
    times.push(performance.now() - t);
  } while (performance.now() - t0 < maxMs && times.length < 20);
  tf.dispose([x, dy]);
  return median(times);
}

// ---- report -------------------------------------------------------------------------------------------------
const fmt = (v: number | string) => (typeof v === 'number' ? (v >= 100 ? v.toFixed(0) : v.toFixed(1)) : v);
const ratio = (a: number | string, b: number | string) =>
  typeof a === 'number' && typeof b === 'number' ? `${(a / b).toFixed(1)}x` : 'n/a';

async function main(): Promise<void> {
  const cpu = tf.findBackend('cpu') as unknown as { firstUse?: boolean };
  cpu.firstUse = false;
  console.log(
    `lrfree backend bench: tfjs ${tf.version.tfjs}, node ${process.version}, batch ${BATCH}${quick ? ', quick' : ''}`,
  );
  console.log('\n## Training step (trainOnBatch, SGD), median ms\n');
  console.log(
    '| model | cpu | cpu+lrfree | stock wasm | wasm + missing kernels | wasm+lrfree | vs stock wasm* | vs cpu |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  for (const task of TASKS) {
    const row: Record<Mode, number | string> = {} as Record<Mode, number | string>;
    for (const mode of MODES) {
      row[mode] = quick && mode === 'cpu' && task.name[0] !== 'M' ? 'skipped' : await stepMs(task, mode);
    }
    // Stock wasm cannot train CNN/Embedding models; the fair baseline is then stock + the missing kernels.
    const base = typeof row.wasm === 'number' ? row.wasm : row['wasm+kernels'];
    console.log(
      `| ${task.name} | ${MODES.map((m) => fmt(row[m])).join(' | ')} | ${ratio(base, row['wasm+lrfree'])} | ${ratio(row.cpu, row['wasm+lrfree'])} |`,
    );
  }
  console.log('\n*stock wasm where it can train the model, else stock wasm + only the missing kernels.');

  console.log('\n## Conv2DBackpropFilter kernel, median ms\n');
  console.log('| x -> filter | cpu | cpu+lrfree | wasm+lrfree | wasm GFLOP/s | vs cpu |');
  console.log('|---|---|---|---|---|---|');
  for (const [xs, fs] of CONVS) {
    const flop = 2 * fs.reduce((a, b) => a * b) * xs[0] * (xs[1] - fs[0] + 1) * (xs[2] - fs[1] + 1);
    const big = xs[0] * xs[3] * fs[3] > 64 * 8 * 16;
    await setMode('cpu');
    const c = big || quick ? 'skipped' : convMs(xs, fs, 3000);
    await setMode('cpu+lrfree');
    const cp = convMs(xs, fs, 2000);
    await setMode('wasm+lrfree');
    const w = convMs(xs, fs, 1000);
    console.log(
      `| ${xs.join('x')} -> ${fs.join('x')} | ${fmt(c)} | ${fmt(cp)} | ${fmt(w)} | ${(flop / w / 1e6).toFixed(1)} | ${ratio(c, w)} |`,
    );
  }

  console.log('\n## Matmul GFLOP/s (single-threaded wasm vs numpy/OpenBLAS on 1 thread)\n');
  const np1 = numpyGflops(1);
  console.log('| shape | product | stock wasm | wasm+lrfree | speedup | numpy 1T | lrfree / numpy |');
  console.log('|---|---|---|---|---|---|---|');
  for (let s = 0; s < MATMULS.length; s++) {
    const [label, B, I, O] = MATMULS[s];
    for (let p = 0; p < PRODUCTS.length; p++) {
      const [name, shapes] = PRODUCTS[p];
      const [a, b, ta, tb] = shapes(B, I, O) as unknown as [number[], number[], boolean, boolean];
      await setMode('wasm');
      const stock = gflops(a, b, ta, tb);
      await setMode('wasm+lrfree');
      const fast = gflops(a, b, ta, tb);
      const n1 = np1?.[s][p];
      console.log(
        `| ${label} | ${name} | ${stock.toFixed(1)} | ${fast.toFixed(1)} | ${ratio(fast, stock)} | ${n1?.toFixed(1) ?? 'no numpy'} | ${n1 ? ratio(fast, n1) : '-'} |`,
      );
    }
  }
}

await main();
