/**
 * The TF.js side of bench/engine.ts (run by it, one process per engine configuration):
 *
 *   node --import tsx bench/engine-peer.ts lrfree|stock THREADS [tf|lrfree]
 *
 * Reads one JSON request a line on stdin, `{ "task": name, "ms": budget }`, runs training steps of that task
 * (Adam, lr 1e-3, loss forced to a number each step) until `budget` ms have passed (at least 3 steps) and
 * answers one line `{ "ms": [per-step ms...], "cpuMs": CPU ms per step, all threads }`, or `{ "error": text }` when this engine cannot train it.
 * Models are built once, on first request, with 3 warm-up steps. `lrfree` = `ready()` with lrfree's wasm
 * kernels on THREADS threads; `stock` = TF.js's wasm as shipped (no patchWasm; 1 thread: its threaded build
 * does not start in Node). The optimizer is `tf.train.adam(1e-3)` (`tf`, the default) or lrfree's own
 * `adam(1e-3)` (`lrfree`: the same Adam, bias-corrected, eps 1e-7 outside the square root, run by lrfree's
 * optimizer core with its fused wasm kernel and its finiteness guard; what a user of lrfree trains with).
 */
import { createInterface } from 'node:readline';
import * as tf from '@tensorflow/tfjs';
import { backendInfo, ready } from '../src/backend/ready.js';
import { crossEntropy } from '../src/bench/task.js';
import { charLstm } from '../src/bench/tasks/charLstm.js';
import { fashionCnn } from '../src/bench/tasks/fashion.js';
import { CHAR_TRANSFORMER, charTransformer } from '../src/bench/tasks/transformerModel.js';
import { adam } from '../src/optimizers/baselines.js';
import { engineMlp } from './engine-mlp.js';
import { ENGINE_TASKS, type EngineTaskName } from './engine-tasks.js';

const [engine, threadsArg, optimizerArg = 'tf'] = process.argv.slice(2);
if ((engine !== 'lrfree' && engine !== 'stock') || (optimizerArg !== 'tf' && optimizerArg !== 'lrfree'))
  throw new Error('usage: engine-peer.ts lrfree|stock THREADS [tf|lrfree]');
/** A new Adam at lr 1e-3: TF.js's, or lrfree's. */
const newAdam = (): tf.Optimizer => (optimizerArg === 'tf' ? tf.train.adam(1e-3) : adam(1e-3));
await ready({ backend: 'wasm', threads: Number(threadsArg), patch: engine === 'lrfree', quiet: true });

/** One training step's pieces: the loss of a fixed batch and what to dispose afterwards. */
interface Trainer {
  loss: () => tf.Scalar;
  variables: tf.Variable[];
  dispose: () => void;
}

/**
 * The engine benchmark's MLP (bench/engine-mlp.ts) on its fixed batch: a softmax output with `crossEntropy`,
 * or (`logits`) a linear output with TF.js's fused softmax cross-entropy on the logits.
 */
function mlp(sizes: number[], batch: number, logits = false): Trainer {
  const { model, x, y } = engineMlp(sizes, batch, logits ? 'linear' : 'softmax');
  const lossOf = logits
    ? (t: tf.Tensor, p: tf.Tensor) => tf.losses.softmaxCrossEntropy(t, p) as tf.Scalar
    : crossEntropy;
  return fromModel(
    model,
    x,
    y,
    () => {
      tf.dispose([x, y]);
      model.dispose();
    },
    lossOf,
  );
}

/** A trainer of `model` on the batch (x, y) with loss `lossOf`; `release` frees the batch and the model. */
function fromModel(
  model: tf.LayersModel,
  x: tf.Tensor,
  y: tf.Tensor,
  release: () => void,
  lossOf: (y: tf.Tensor, p: tf.Tensor) => tf.Scalar = crossEntropy,
): Trainer {
  return {
    loss: () => lossOf(y, model.apply(x, { training: true }) as tf.Tensor),
    variables: model.trainableWeights.map((w) => w.read() as tf.Variable),
    dispose: release,
  };
}

/** A benchmark task's own model on its own first training batch. */
function taskTrainer(task: typeof fashionCnn): Trainer {
  const instance = task.create(1, 'quick');
  const { x, y, release } = instance.batchXY!(0);
  return fromModel(instance.model!, x, y, () => {
    release();
    instance.dispose?.(); // disposes the model too
  });
}

/** The char-transformer task's model (2 pre-norm blocks, width 64, 4 heads, context 64) on a batch of 32. */
function transformerTrainer(): Trainer {
  const model = charTransformer(CHAR_TRANSFORMER, 1);
  const ids = tf.randomUniform([32, CHAR_TRANSFORMER.context + 1], 0, CHAR_TRANSFORMER.vocab, 'int32', 7);
  const x = ids.slice([0, 0], [32, CHAR_TRANSFORMER.context]) as tf.Tensor2D;
  const y = ids.slice([0, 1], [32, CHAR_TRANSFORMER.context]) as tf.Tensor2D;
  return {
    loss: () => model.loss(x, y),
    variables: model.variables,
    dispose: () => {
      tf.dispose([ids, x, y]);
      model.dispose();
    },
  };
}

/** How each task is built here; bench/engine_torch.py builds the same shapes. */
const BUILDERS: Record<EngineTaskName, (() => Trainer) | undefined> = {
  'mlp-784-128-10': () => mlp([784, 128, 10], 64),
  'mlp-784-128-128-10': () => mlp([784, 128, 128, 10], 128),
  'mlp-784-128-128-10-logits': () => mlp([784, 128, 128, 10], 128, true),
  'fashion-cnn': () => taskTrainer(fashionCnn),
  'char-lstm': () => taskTrainer(charLstm),
  transformer: transformerTrainer,
};

const trainers = new Map<string, { trainer: Trainer; optimizer: tf.Optimizer }>();

function step(t: { trainer: Trainer; optimizer: tf.Optimizer }): void {
  const loss = t.optimizer.minimize(t.trainer.loss, true, t.trainer.variables) as tf.Scalar;
  loss.dataSync();
  loss.dispose();
}

function run(name: EngineTaskName, budgetMs: number): { ms: number[]; cpuMs: number } | { error: string } {
  try {
    let t = trainers.get(name);
    if (!t) {
      const build = BUILDERS[name];
      if (!build) return { error: 'not built yet' };
      t = { trainer: build(), optimizer: newAdam() };
      trainers.set(name, t);
      for (let i = 0; i < 3; i++) step(t);
    }
    const ms: number[] = [];
    const t0 = performance.now();
    const cpu0 = process.cpuUsage(); // this process, all its threads (the wasm pool's workers included)
    while (ms.length < 3 || performance.now() - t0 < budgetMs) {
      const s = performance.now();
      step(t);
      ms.push(performance.now() - s);
    }
    const cpu = process.cpuUsage(cpu0);
    return { ms, cpuMs: (cpu.user + cpu.system) / 1000 / ms.length };
  } catch (e) {
    const m = String((e as Error).message).match(/Kernel '(\w+)' not registered/);
    return { error: m ? `no ${m[1]} kernel` : String((e as Error).message).slice(0, 60) };
  }
}

console.log(JSON.stringify({ ready: backendInfo(), optimizer: optimizerArg, tasks: ENGINE_TASKS.length }));
for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const req = JSON.parse(line) as { task: EngineTaskName; ms: number };
  console.log(JSON.stringify(run(req.task, req.ms)));
}
for (const t of trainers.values()) {
  t.trainer.dispose();
  t.optimizer.dispose();
}
