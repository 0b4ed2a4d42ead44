/**
 * Robustness of auto() without any change of settings (issue 18's goal; docs/auto.md): the same call
 * `auto()` on a task and on the task changed in one way, several seeds:
 *
 * - the loss multiplied by 1e-3 and by 1e3 (the final loss is divided back by the factor);
 * - the inputs multiplied by 100 (train and test);
 * - batch sizes 16, 64, 128 and 512 at the same number of epochs (the same examples seen), and again at
 *   the same number of steps as the unchanged run.
 *
 * Reported per change: diverged runs, and final test loss (at the evaluation point) over the unchanged
 * run's with the same seed: the per-seed ratios, and the mean of log(ratio) with a percentile-bootstrap
 * 95% interval over seeds. The goal: no divergence, every ratio within [0.9, 1.1].
 * Tasks: a small MNIST MLP (784-64-10, 4096 training images, batch 128, 4 epochs) and a regression MLP
 * (10-32-32-1 ReLU on y = Xw + sin(x_1) + 0.1 noise, 2048 rows, batch 64, 10 epochs).
 * Not part of npm test. One JSON line per run in --out (resumable), then the table.
 * `--epochs-factor F` multiplies every task's epochs (and so the equal-steps runs' steps) by F, to ask the
 * batch-size question nearer convergence; `--changes batch` runs only the changes whose name contains
 * that text (and the unchanged run).
 *
 *   npx tsx bench/auto-robustness.ts [--seeds 1,2,3] [--opt auto,adam] [--out /tmp/auto-robustness.jsonl]
 *   npx tsx bench/auto-robustness.ts --epochs-factor 8 --changes batch --out /tmp/auto-robustness-x8.jsonl
 *   npx tsx bench/auto-robustness.ts --summary /tmp/auto-robustness.jsonl
 *   npx tsx bench/auto-robustness.ts --opt auto,adam@0.0003,adam@0.001,adam@0.003,adam@0.01,adam@0.03
 *     (an Adam grid: the summary adds Adam re-tuned for each change, bench/robustness-retuned.ts)
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { ready } from '../src/backend/ready.js';
import { withEvalPoint } from '../src/core/evalPoint.js';
import type { LrfreeOptimizer } from '../src/core/optimizer.js';
import { modelVariables } from '../src/core/params.js';
import { deriveSeed, gaussian, mulberry32, permutation } from '../src/core/rng.js';
import { loadMnist } from '../src/data/mnist.js';
import { auto, autoWith } from '../src/optimizers/auto.js';
import { adam } from '../src/optimizers/baselines.js';
import { mlp } from '../src/train/models.js';
import { AUTO_VARIANTS } from './auto-variants.js';
import { fmtRatios, interval, printRetuned } from './robustness-retuned.js';

const arg = (n: string, d?: string) => {
  const i = process.argv.indexOf(`--${n}`);
  return i > 0 ? process.argv[i + 1] : d;
};

/** One change of the task: a loss factor, an input factor, a batch size. */
interface Change {
  name: string;
  lossScale: number;
  inputScale: number;
  /** Batch size; undefined: the task's own. */
  batch?: number;
  /** Run the unchanged run's number of steps (not its number of epochs) at this batch size. */
  equalSteps?: boolean;
}
const CHANGES: Change[] = [
  { name: 'unchanged', lossScale: 1, inputScale: 1 },
  { name: 'loss x 1e-3', lossScale: 1e-3, inputScale: 1 },
  { name: 'loss x 1e3', lossScale: 1e3, inputScale: 1 },
  { name: 'inputs x 100', lossScale: 1, inputScale: 100 },
  { name: 'batch 16', lossScale: 1, inputScale: 1, batch: 16 },
  { name: 'batch 64', lossScale: 1, inputScale: 1, batch: 64 },
  { name: 'batch 128', lossScale: 1, inputScale: 1, batch: 128 },
  { name: 'batch 512', lossScale: 1, inputScale: 1, batch: 512 },
  // The same batch sizes at the unchanged run's number of steps: batch 16 then sees an eighth of the
  // examples batch 128 sees, batch 512 four times as many.
  { name: 'batch 16, equal steps', lossScale: 1, inputScale: 1, batch: 16, equalSteps: true },
  { name: 'batch 64, equal steps', lossScale: 1, inputScale: 1, batch: 64, equalSteps: true },
  { name: 'batch 128, equal steps', lossScale: 1, inputScale: 1, batch: 128, equalSteps: true },
  { name: 'batch 512, equal steps', lossScale: 1, inputScale: 1, batch: 512, equalSteps: true },
];

interface Problem {
  model: tf.LayersModel;
  train: { x: tf.Tensor; y: tf.Tensor };
  test: { x: tf.Tensor; y: tf.Tensor };
  loss: (y: tf.Tensor, p: tf.Tensor) => tf.Scalar;
}

interface RobustTask {
  name: string;
  batch: number;
  epochs: number;
  create(seed: number): Problem;
}

const crossEntropy = (y: tf.Tensor, p: tf.Tensor) =>
  tf.mean(tf.metrics.categoricalCrossentropy(y, p)) as tf.Scalar;
const mse = (y: tf.Tensor, p: tf.Tensor) => tf.mean(tf.square(tf.sub(y, p))) as tf.Scalar;

const mnistSmall: RobustTask = {
  name: 'mnist-mlp-small',
  batch: 128,
  epochs: 4,
  create(seed) {
    const { train, test } = loadMnist({ trainSize: 4096, validationSize: 0, testSize: 2000 });
    return { model: mlp({ inputs: 784, hidden: [64], classes: 10, seed }), train, test, loss: crossEntropy };
  },
};

function regressionData(n: number, seed: number, part: number): { x: tf.Tensor; y: tf.Tensor } {
  const d = 10;
  const g = gaussian(mulberry32(deriveSeed(seed, 1, part)));
  const gw = gaussian(mulberry32(deriveSeed(seed, 2)));
  const x = Float32Array.from({ length: n * d }, g);
  const w = Float32Array.from({ length: d }, gw);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = Math.sin(x[i * d]);
    for (let j = 0; j < d; j++) s += x[i * d + j] * w[j];
    y[i] = s + 0.1 * g();
  }
  return { x: tf.tensor2d(x, [n, d]), y: tf.tensor2d(y, [n, 1]) };
}

const regression: RobustTask = {
  name: 'regression-mlp',
  batch: 64,
  epochs: 10,
  create(seed) {
    const init = (i: number) => tf.initializers.glorotUniform({ seed: deriveSeed(seed, 10 + i) });
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ units: 32, activation: 'relu', inputShape: [10], kernelInitializer: init(0) }),
        tf.layers.dense({ units: 32, activation: 'relu', kernelInitializer: init(1) }),
        tf.layers.dense({ units: 1, kernelInitializer: init(2) }),
      ],
    });
    return { model, train: regressionData(2048, seed, 0), test: regressionData(1000, seed, 1), loss: mse };
  },
};

const TASKS = [mnistSmall, regression];
const OPTIMIZERS: Record<string, () => LrfreeOptimizer> = {
  auto: () => auto(),
  adam: () => adam(1e-3),
  // auto's variants (bench/auto-variants.ts), e.g. --opt auto:plateau
  ...Object.fromEntries(
    Object.entries(AUTO_VARIANTS).map(([name, [hints, ingredients]]) => [
      name,
      () => autoWith(hints, ingredients),
    ]),
  ),
};

/** `auto`, an auto variant, `adam` (1e-3) or `adam@<lr>` (a grid point for the re-tuned yardstick). */
function makeOptimizer(name: string): LrfreeOptimizer {
  const lr = /^adam@(.+)$/.exec(name)?.[1];
  if (lr !== undefined) {
    const eta = Number(lr);
    if (!(eta > 0))
      throw new Error(`--opt ${name}: the learning rate after 'adam@' must be a positive number.`);
    return adam(eta);
  }
  const make = OPTIMIZERS[name];
  if (!make)
    throw new Error(`--opt ${name}: unknown; known: ${Object.keys(OPTIMIZERS).join(', ')}, adam@<lr>.`);
  return make();
}

interface Line {
  task: string;
  optimizer: string;
  change: string;
  seed: number;
  steps: number;
  diverged: boolean;
  /** Final test loss at the evaluation point, divided by the loss factor. */
  testLoss: number;
  /**
   * Final loss on the whole training set at the evaluation point, divided by the loss factor (absent in
   * lines written before it was recorded): it tells optimisation apart from generalisation.
   */
  trainLoss?: number;
  lastEta: number;
  /** The task's epochs were multiplied by this (absent in lines written before the option: 1). */
  epochsFactor?: number;
}

/** `--epochs-factor`: a positive integer. */
const EPOCHS_FACTOR = Number(arg('epochs-factor', '1'));
if (!Number.isInteger(EPOCHS_FACTOR) || EPOCHS_FACTOR < 1)
  throw new Error(`--epochs-factor must be a positive integer, got '${arg('epochs-factor')}'.`);
/** `--changes`: only the changes whose name contains this text (and the unchanged run). */
const CHANGE_FILTER = arg('changes');
const selected = (c: Change) =>
  c.name === 'unchanged' || CHANGE_FILTER === undefined || c.name.includes(CHANGE_FILTER);
const factorOf = (l: Line) => l.epochsFactor ?? 1;

function runOnce(task: RobustTask, optimizer: string, change: Change, seed: number): Line {
  const p = task.create(seed);
  const scaleX = (x: tf.Tensor) => (change.inputScale === 1 ? x : tf.mul(x, change.inputScale));
  const trainX = tf.tidy(() => scaleX(p.train.x));
  const testX = tf.tidy(() => scaleX(p.test.x));
  const n = trainX.shape[0];
  const batch = change.batch ?? task.batch;
  const perEpoch = Math.ceil(n / batch);
  const opt = makeOptimizer(optimizer);
  const vars = modelVariables(p.model);
  let first = Number.NaN;
  let diverged = false;
  let steps = 0;
  const totalSteps = EPOCHS_FACTOR * task.epochs * (change.equalSteps ? Math.ceil(n / task.batch) : perEpoch);
  for (let e = 0; steps < totalSteps && !diverged; e++) {
    const order = permutation(n, deriveSeed(seed, 100 + e));
    for (let b = 0; b < perEpoch && steps < totalSteps; b++) {
      const idx = tf.tensor1d(order.slice(b * batch, Math.min(n, (b + 1) * batch)), 'int32');
      const xb = tf.gather(trainX, idx);
      const yb = tf.gather(p.train.y, idx);
      const f = () =>
        tf.tidy(() =>
          tf.mul(p.loss(yb, p.model.apply(xb, { training: true }) as tf.Tensor), change.lossScale),
        );
      opt.minimize(f as () => tf.Scalar, false, vars);
      tf.dispose([idx, xb, yb]);
      steps++;
      const loss = opt.lastStep.loss;
      if (Number.isNaN(first)) first = loss;
      if (!Number.isFinite(loss) || loss > 1e3 * Math.max(first, 1e-3 * change.lossScale)) {
        diverged = true;
        break;
      }
    }
  }
  const [testLoss, trainLoss] = diverged
    ? [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY]
    : withEvalPoint(opt, { model: p.model }, () =>
        [
          [p.test.y, testX],
          [p.train.y, trainX],
        ].map(([y, x]) => tf.tidy(() => p.loss(y, p.model.predict(x) as tf.Tensor).dataSync()[0])),
      );
  const eta = opt.lastStep.eta;
  tf.dispose([trainX, testX, p.train.x, p.train.y, p.test.x, p.test.y]);
  p.model.dispose();
  opt.dispose();
  return {
    task: task.name,
    optimizer,
    change: change.name,
    seed,
    steps,
    diverged: diverged || !Number.isFinite(testLoss),
    testLoss,
    trainLoss,
    lastEta: typeof eta === 'number' ? eta : Number.NaN,
    epochsFactor: EPOCHS_FACTOR,
  };
}

function read(file: string): Line[] {
  return existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Line)
    : [];
}

async function run(out: string): Promise<void> {
  const seeds = (arg('seeds', '1,2,3') as string).split(',').map(Number);
  const opts = (arg('opt', 'auto') as string).split(',');
  await ready({ backend: (arg('backend', 'wasm') as 'cpu' | 'wasm') ?? 'wasm', quiet: true });
  const key = (task: string, o: string, change: string, seed: number, factor: number) =>
    `${task}|${o}|${change}|${seed}|${factor}`;
  const done = new Set(read(out).map((l) => key(l.task, l.optimizer, l.change, l.seed, factorOf(l))));
  for (const task of TASKS)
    for (const o of opts)
      for (const change of CHANGES.filter(selected)) {
        // The task's own batch size is the unchanged run.
        if (change.batch === task.batch) continue;
        for (const seed of seeds) {
          if (done.has(key(task.name, o, change.name, seed, EPOCHS_FACTOR))) continue;
          const line = runOnce(task, o, change, seed);
          appendFileSync(out, `${JSON.stringify(line)}\n`);
          console.log(
            task.name,
            o,
            change.name,
            seed,
            line.diverged ? 'DIVERGED' : line.testLoss.toPrecision(4),
          );
        }
      }
}

function summary(file: string): void {
  const lines = read(file).filter((l) => factorOf(l) === EPOCHS_FACTOR);
  if (EPOCHS_FACTOR !== 1) console.log(`Every task's epochs x ${EPOCHS_FACTOR}.\n`);
  console.log(
    '| task | optimizer | change | seeds | diverged | test loss / unchanged, per seed | log ratio mean [95% CI] | all within 10% | train loss / unchanged, per seed |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const task of TASKS)
    for (const o of [...new Set(lines.map((l) => l.optimizer))])
      for (const change of CHANGES) {
        const rs = lines.filter((l) => l.task === task.name && l.optimizer === o && l.change === change.name);
        if (rs.length === 0) continue;
        const base = (seed: number) =>
          lines.find(
            (l) => l.task === task.name && l.optimizer === o && l.change === 'unchanged' && l.seed === seed,
          );
        const div = rs.filter((r) => r.diverged).length;
        if (change.name === 'unchanged') {
          const losses = rs.map((r) => r.testLoss.toPrecision(4)).join(', ');
          const train = rs.every((r) => r.trainLoss !== undefined)
            ? `train loss ${rs.map((r) => (r.trainLoss as number).toPrecision(4)).join(', ')}`
            : '';
          console.log(
            `| ${task.name} | ${o} | unchanged (batch ${task.batch}, ${EPOCHS_FACTOR * task.epochs} epochs) | ${rs.length} | ${div} | test loss ${losses} | | | ${train} |`,
          );
          continue;
        }
        const ratios = rs.map((r) => r.testLoss / (base(r.seed)?.testLoss ?? Number.NaN));
        const finite = ratios.every(Number.isFinite);
        const paired = interval(ratios);
        const within = finite && ratios.every((q) => Math.abs(q - 1) <= 0.1) ? 'yes' : 'no';
        const trainRatios = rs.map(
          (r) => (r.trainLoss ?? Number.NaN) / (base(r.seed)?.trainLoss ?? Number.NaN),
        );
        const train = trainRatios.some(Number.isNaN) ? '' : fmtRatios(trainRatios);
        console.log(
          `| ${task.name} | ${o} | ${change.name} | ${rs.length} | ${div} | ${fmtRatios(ratios)} | ${paired} | ${within} | ${train} |`,
        );
      }
  printRetuned(
    lines,
    TASKS.map((t) => t.name),
    CHANGES.map((c) => c.name),
  );
}

const sumFile = arg('summary');
if (sumFile) summary(sumFile);
else {
  const out = arg('out', '/tmp/auto-robustness.jsonl') as string;
  await run(out);
  summary(out);
}
