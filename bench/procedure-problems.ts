/**
 * User-like problems for the procedure benchmark (issue #21), generated from seeds: tabular data with
 * features on very different scales and imbalanced classes, regression with targets in the thousands,
 * models with and without BatchNorm/Dropout, small and large batches. None of them was used to design
 * the procedure. Also the benchmark's own tasks (src/bench/tasks: MNIST MLP, MNIST BN+Dropout, linreg,
 * deep ReLU regression) rebuilt as diagnostic data (same generators, read-only use of src/bench).
 */
import * as tf from '@tensorflow/tfjs';
import { deepRegressionModel } from '../src/bench/tasks/regression.js';
import { deriveSeed, gaussian, mulberry32 } from '../src/core/rng.js';
import type { DiagnosticData, LossSpec } from '../src/diagnostics/common.js';
import { builtinSource } from '../src/diagnostics/sources.js';

/** One problem instance: a model, data, the loss, the batch size the "user" trains with. */
export interface ProblemInstance {
  model: tf.LayersModel;
  data: DiagnosticData;
  loss: LossSpec;
  batchSize: number;
  dispose(): void;
}

/** A seeded problem generator. */
export interface Problem {
  name: string;
  description: string;
  /**
   * `benchmark` (src/bench/tasks), `user-like` (generated here) or `held-out` (generated here, added
   * after the rules of the confirmation were changed and never used to design them: reported apart).
   */
  kind: 'benchmark' | 'user-like' | 'held-out';
  create(seed: number): ProblemInstance;
}

function normal(n: number, seed: number): Float32Array {
  const g = gaussian(mulberry32(seed));
  return Float32Array.from({ length: n }, g);
}

interface TabularSpec {
  rows: number;
  features: number;
  /** Class shares (classification) or undefined (regression). */
  shares?: number[];
  /** Feature scales: each column is multiplied by 10^u, u uniform in [lo, hi]; shifted by as much. */
  scale: [number, number];
  /** Regression target: offset + spread * teacher (standardised). */
  target?: { offset: number; spread: number };
  hidden: number[];
  batchNorm?: boolean;
  dropout?: number;
  activation?: 'relu' | 'tanh';
  batchSize: number;
}

/**
 * Tabular data from a random 2-layer tanh teacher on standard-normal latent features; the observed
 * features are the latent ones scaled by 10^u and shifted (what a user who does not standardise gives
 * the model). Classes: the teacher's score cut at quantiles so that the classes have the given shares.
 * 25% of the rows are held out.
 */
function tabular(spec: TabularSpec, seed: number): ProblemInstance {
  const n = spec.rows;
  const d = spec.features;
  const rng = mulberry32(deriveSeed(seed, 11));
  const z = normal(n * d, deriveSeed(seed, 12));
  const w1 = normal(d * 16, deriveSeed(seed, 13));
  const w2 = normal(16, deriveSeed(seed, 14));
  const score = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let h = 0; h < 16; h++) {
      let a = 0;
      for (let j = 0; j < d; j++) a += z[i * d + j] * w1[j * 16 + h];
      s += Math.tanh(a / Math.sqrt(d)) * w2[h];
    }
    score[i] = s / 4 + 0.3 * normal(1, deriveSeed(seed, 15, i))[0];
  }
  const scales = Array.from(
    { length: d },
    () => 10 ** (spec.scale[0] + (spec.scale[1] - spec.scale[0]) * rng()),
  );
  const x = new Float32Array(n * d);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < d; j++) x[i * d + j] = scales[j] * (z[i * d + j] + (j % 3 === 0 ? 2 : 0));
  let y: tf.Tensor;
  let k = 1;
  if (spec.shares) {
    k = spec.shares.length;
    const sorted = [...score].sort((a, b) => a - b);
    const cuts: number[] = [];
    let acc = 0;
    for (const s of spec.shares.slice(0, -1)) {
      acc += s;
      cuts.push(sorted[Math.min(n - 1, Math.floor(acc * n))]);
    }
    const labels = Int32Array.from(score, (s) => cuts.filter((c) => s >= c).length);
    y = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), k).toFloat());
  } else {
    const m = score.reduce((a, b) => a + b, 0) / n;
    const sd = Math.sqrt(score.reduce((a, b) => a + (b - m) ** 2, 0) / n);
    const t = spec.target ?? { offset: 0, spread: 1 };
    y = tf.tensor2d(
      Float32Array.from(score, (s) => t.offset + (t.spread * (s - m)) / sd),
      [n, 1],
    );
  }
  const xt = tf.tensor2d(x, [n, d]);
  const nt = Math.floor(0.75 * n);
  const [xtr, xva] = tf.split(xt, [nt, n - nt]);
  const [ytr, yva] = tf.split(y, [nt, n - nt]);
  tf.dispose([xt, y]);
  const model = tf.sequential();
  spec.hidden.forEach((units, i) => {
    model.add(
      tf.layers.dense({
        units,
        activation: spec.activation ?? 'relu',
        kernelInitializer: tf.initializers.glorotUniform({ seed: deriveSeed(seed, 20, i) }),
        ...(i === 0 ? { inputShape: [d] } : {}),
      }),
    );
    if (spec.batchNorm) model.add(tf.layers.batchNormalization());
    if (spec.dropout) model.add(tf.layers.dropout({ rate: spec.dropout }));
  });
  model.add(
    tf.layers.dense({
      units: k,
      activation: spec.shares ? 'softmax' : 'linear',
      kernelInitializer: tf.initializers.glorotUniform({ seed: deriveSeed(seed, 21) }),
    }),
  );
  return {
    model,
    data: { train: { x: xtr, y: ytr }, validation: { x: xva, y: yva } },
    loss: spec.shares ? 'categoricalCrossentropy' : 'meanSquaredError',
    batchSize: spec.batchSize,
    dispose: () => {
      tf.dispose([xtr, xva, ytr, yva]);
      model.dispose();
    },
  };
}

const userLike = (
  name: string,
  description: string,
  spec: TabularSpec,
  kind: Problem['kind'] = 'user-like',
): Problem => ({
  name,
  description,
  kind,
  create: (seed) => tabular(spec, seed),
});

/**
 * Problems added with the bracketing rules of the confirmation (bracket.ts) and never used to design or
 * tune them: the held-out check of those rules. Settings none of the other problems has: 8 imbalanced
 * classes with heavy Dropout and batch 8; a negative regression target with wide feature scales,
 * three BatchNorm layers and batch 256.
 */
export const HELD_OUT_PROBLEMS: Problem[] = [
  userLike(
    'ho-8-classes-batch-8',
    '2400 x 30, 8 classes 30/20/15/10/10/7/5/3, features x10^[-0.5,0.5], Dense 128+Dropout 0.5, batch 8',
    {
      rows: 2400,
      features: 30,
      shares: [0.3, 0.2, 0.15, 0.1, 0.1, 0.07, 0.05, 0.03],
      scale: [-0.5, 0.5],
      hidden: [128],
      dropout: 0.5,
      batchSize: 8,
    },
    'held-out',
  ),
  userLike(
    'ho-reg-negative-bn3',
    '2500 x 40 regression, target -300 +- 50, features x10^[-1.5,1.5], Dense 32 x3 + BN, batch 256',
    {
      rows: 2500,
      features: 40,
      scale: [-1.5, 1.5],
      target: { offset: -300, spread: 50 },
      hidden: [32, 32, 32],
      batchNorm: true,
      batchSize: 256,
    },
    'held-out',
  ),
];

/** The user-like problems. */
export const USER_PROBLEMS: Problem[] = [
  userLike(
    'tab-bn-dropout',
    '3000 x 12 standardised, 3 balanced classes, Dense 64+BN+Dropout 0.3 x2, batch 32',
    {
      rows: 3000,
      features: 12,
      shares: [1 / 3, 1 / 3, 1 / 3],
      scale: [0, 0],
      hidden: [64, 64],
      batchNorm: true,
      dropout: 0.3,
      batchSize: 32,
    },
  ),
  userLike('tab-imbalanced', '3000 x 16, 2 classes 90/10, features x10^[-1,1], Dense 32, batch 64', {
    rows: 3000,
    features: 16,
    shares: [0.9, 0.1],
    scale: [-1, 1],
    hidden: [32],
    batchSize: 64,
  }),
  userLike(
    'tab-raw-scales',
    '3000 x 10, 4 classes 40/30/20/10, features x10^[-2,2] unscaled, Dense 64-32, batch 64',
    {
      rows: 3000,
      features: 10,
      shares: [0.4, 0.3, 0.2, 0.1],
      scale: [-2, 2],
      hidden: [64, 32],
      batchSize: 64,
    },
  ),
  userLike('tab-large-batch', '4000 x 20, 5 classes, BN, tanh Dense 64, batch 512', {
    rows: 4000,
    features: 20,
    shares: [0.2, 0.2, 0.2, 0.2, 0.2],
    scale: [0, 0],
    hidden: [64],
    batchNorm: true,
    activation: 'tanh',
    batchSize: 512,
  }),
  userLike('reg-thousands', '3000 x 8 regression, target 5000 +- 1500, Dense 64, MSE, batch 64', {
    rows: 3000,
    features: 8,
    scale: [0, 0],
    target: { offset: 5000, spread: 1500 },
    hidden: [64],
    batchSize: 64,
  }),
  userLike(
    'reg-thousands-bn-dropout',
    '3000 x 8 regression, target 2000 +- 800, Dense 64+BN+Dropout 0.2, batch 128',
    {
      rows: 3000,
      features: 8,
      scale: [0, 0],
      target: { offset: 2000, spread: 800 },
      hidden: [64],
      batchNorm: true,
      dropout: 0.2,
      batchSize: 128,
    },
  ),
  userLike('reg-small-batch', '2000 x 6 regression, target +- 1, tanh Dense 32-32, batch 16', {
    rows: 2000,
    features: 6,
    scale: [0, 0],
    hidden: [32, 32],
    activation: 'tanh',
    batchSize: 16,
  }),
];

/** The benchmark's classification and regression tasks, as diagnostic data. */
export const BENCH_PROBLEMS: Problem[] = [
  {
    name: 'mnist-mlp',
    description: 'bench task mnist-mlp: MNIST 2000 train / 500 validation, MLP 784-128-128-10, batch 64',
    kind: 'benchmark',
    create: (seed) => mnist('mnist-mlp', seed),
  },
  {
    name: 'mnist-bn-dropout',
    description: 'bench task mnist-bn-dropout: the same MLP with BatchNorm + Dropout 0.2, batch 64',
    kind: 'benchmark',
    create: (seed) => mnist('mnist-bn-dropout', seed),
  },
  {
    name: 'linreg',
    description: 'bench task linreg: 1000 x 10, y = Xw + 2 + 0.1 noise, one Dense unit, full batch',
    kind: 'benchmark',
    create: (seed) => linreg(seed),
  },
  {
    name: 'deep-regression-relu',
    description:
      'bench task deep-regression-relu: 10K x 20 (here 4000), y = row sum, 5 ReLU layers of 10, batch 256',
    kind: 'benchmark',
    create: (seed) => deepRelu(seed),
  },
];

function mnist(task: 'mnist-mlp' | 'mnist-bn-dropout', seed: number): ProblemInstance {
  const src = builtinSource(task, { trainSize: 2000, validationSize: 500, seed });
  return { model: src.model, data: src.data, loss: src.loss, batchSize: 64, dispose: src.dispose };
}

/** src/bench/tasks/regression.ts linreg, the same generator (normal data from deriveSeed(seed, ...)). */
function linreg(seed: number): ProblemInstance {
  const d = 10;
  const split = (part: number, size: number) =>
    tf.tidy(() => {
      const x = tf.tensor2d(normal(size * d, deriveSeed(seed, 1, part)), [size, d]);
      const w = tf.tensor2d(normal(d, deriveSeed(seed, 2)), [d, 1]);
      const noise = tf.mul(0.1, tf.tensor2d(normal(size, deriveSeed(seed, 3, part)), [size, 1]));
      return { x, y: tf.add(tf.add(tf.matMul(x, w), 2), noise) };
    });
  const train = split(0, 1000);
  const validation = split(1, 500);
  const model = tf.sequential({
    layers: [tf.layers.dense({ units: 1, inputShape: [d], kernelInitializer: tf.initializers.zeros() })],
  });
  return {
    model,
    data: { train, validation },
    loss: 'meanSquaredError',
    batchSize: 1000,
    dispose: () => {
      tf.dispose([train.x, train.y, validation.x, validation.y]);
      model.dispose();
    },
  };
}

/** src/bench/tasks/regression.ts deep-regression-relu: y = row sum of 20 normal inputs (4000 rows here). */
function deepRelu(seed: number): ProblemInstance {
  const split = (part: number, size: number) =>
    tf.tidy(() => {
      const x = tf.tensor2d(normal(size * 20, deriveSeed(seed, 7, part)), [size, 20]);
      return { x, y: tf.sum(x, 1, true) };
    });
  const train = split(0, 4000);
  const validation = split(1, 1000);
  const model = deepRegressionModel(true, seed);
  return {
    model,
    data: { train, validation },
    loss: 'meanSquaredError',
    batchSize: 256,
    dispose: () => {
      tf.dispose([train.x, train.y, validation.x, validation.y]);
      model.dispose();
    },
  };
}

/** The 10k-row tabular problem of the timing goal (Dense 64+BN+Dropout, 3 classes, batch 64). */
export const TIMING_PROBLEM: Problem = userLike(
  'tab-10k',
  '13334 x 20 (10000 train / 3334 held out), 3 classes, Dense 64+BN+Dropout 0.2, batch 64',
  {
    rows: 13334,
    features: 20,
    shares: [0.5, 0.3, 0.2],
    scale: [-1, 1],
    hidden: [64],
    batchNorm: true,
    dropout: 0.2,
    batchSize: 64,
  },
);
