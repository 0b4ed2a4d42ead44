/**
 * Where one training step's time goes on lrfree's wasm (not part of npm test): the MLP 784-128-128-10,
 * batch 128, Adam at lr 1e-3, split into the gradient pass (forward, loss, backward) and the optimizer's
 * update, with per-kernel CPU time and call counts.
 *
 *   npx tsx bench/engine-breakdown.ts [THREADS] [STEPS] [tf|lrfree]   # defaults: 1 thread, 100 steps, tf
 *
 * `tf` steps with tf.train.adam (as bench/engine.ts's "tf.train.adam" rows), `lrfree` with lrfree.adam
 * (its fused Adam kernel, finiteness guards and records; the "lrfree.adam" rows). Both read the loss back.
 *
 * Every kernel the step runs is wrapped to add up its CPU time (process.cpuUsage: less sensitive to other
 * load than wall-clock time, but each call adds a system call, so small kernels read high). What the
 * kernels do not account for is TF.js's own work per kernel (engine bookkeeping, the gradient tape, tensor
 * objects) plus the timing calls.
 */
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { ready } from '../src/backend/ready.js';
import { crossEntropy } from '../src/bench/task.js';
import { adam } from '../src/optimizers/baselines.js';
import { engineMlp } from './engine-mlp.js';

const threads = Number(process.argv[2] ?? 1);
const STEPS = Number(process.argv[3] ?? 100);
const OPTIMIZER = process.argv[4] ?? 'tf';
if (OPTIMIZER !== 'tf' && OPTIMIZER !== 'lrfree') throw new Error('optimizer: tf or lrfree');
await ready({ backend: 'wasm', threads, quiet: true });

const sizes = [784, 128, 128, 10];
const batch = 128;
const { model, x, y } = engineMlp(sizes, batch);
const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
const optimizer = OPTIMIZER === 'tf' ? tf.train.adam(1e-3) : adam(1e-3);
const loss = () => crossEntropy(y, model.apply(x, { training: true }) as tf.Tensor);

let phase = 'gradient';
if (OPTIMIZER === 'lrfree') {
  // lrfree's minimize runs the gradient pass itself, then its (private) runStep: the update phase.
  const o = optimizer as unknown as { runStep: (...a: unknown[]) => boolean };
  const runStep = o.runStep;
  o.runStep = (...a) => {
    phase = 'update';
    return runStep.apply(optimizer, a);
  };
}
/** One step as bench/engine-peer.ts takes it, in two phases: gradient pass, optimizer update. */
function step(): void {
  phase = 'gradient';
  if (OPTIMIZER === 'lrfree') {
    const value = optimizer.minimize(loss, true, vars) as tf.Scalar;
    value.dataSync();
    value.dispose();
    return;
  }
  const { value, grads } = tf.variableGrads(loss, vars);
  phase = 'update';
  optimizer.applyGradients(Object.entries(grads).map(([name, tensor]) => ({ name, tensor })));
  value.dataSync();
  tf.dispose([value, ...Object.values(grads)]);
}
for (let i = 0; i < 10; i++) step();

// Wrap every kernel the step runs (found by one profiled step).
const names = new Set((await tf.profile(step)).kernels.map((k) => k.name));
const spent = new Map<string, { calls: number; ms: number }>();
let timing = false;
for (const name of names) {
  const k = tf.getKernel(name, 'wasm');
  if (!k) continue;
  tf.unregisterKernel(name, 'wasm');
  const timed: tf.KernelFunc = (args) => {
    if (!timing) return k.kernelFunc(args);
    const c0 = process.cpuUsage();
    const out = k.kernelFunc(args);
    const c = process.cpuUsage(c0);
    const key = `${phase} ${name}`;
    const e = spent.get(key) ?? { calls: 0, ms: 0 };
    e.calls++;
    e.ms += (c.user + c.system) / 1000;
    spent.set(key, e);
    return out;
  };
  // Keep lrfree's marker (src/backend/wasm/heap.ts): without it the fused Adam is taken for absent.
  Object.assign(timed, k.kernelFunc);
  tf.registerKernel({ ...k, kernelFunc: timed });
}
for (let i = 0; i < 5; i++) step();
timing = true;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
for (let i = 0; i < STEPS; i++) step();
const wall = (performance.now() - t0) / STEPS;
const c = process.cpuUsage(cpu0);
const cpu = (c.user + c.system) / 1000 / STEPS;
timing = false;

const rows = [...spent.entries()].sort((a, b) => b[1].ms - a[1].ms);
const total = (prefix = '') =>
  rows
    .filter(([k]) => k.startsWith(prefix))
    .reduce((s, [, e]) => ({ calls: s.calls + e.calls / STEPS, ms: s.ms + e.ms / STEPS }), {
      calls: 0,
      ms: 0,
    });
const all = total();
const load = os.loadavg()[0].toFixed(1);
console.log(
  `MLP 784-128-128-10, batch 128, ${OPTIMIZER === 'tf' ? 'tf.train.adam' : 'lrfree.adam'}, wasm ${threads}T, ${STEPS} steps (load average ${load} on ${os.cpus().length} cores)`,
);
console.log(`step: ${wall.toFixed(2)} ms wall, ${cpu.toFixed(2)} ms CPU (all threads)`);
console.log(
  `kernels: ${all.calls.toFixed(0)} per step, ${all.ms.toFixed(2)} ms CPU (the process, all threads, while kernels ran)`,
);
console.log(`rest (TF.js engine, tape, tensor objects, timing calls): ${(cpu - all.ms).toFixed(2)} ms CPU`);
for (const p of ['gradient', 'update']) {
  const t = total(`${p} `);
  console.log(`phase ${p}: ${t.calls.toFixed(0)} kernels, ${t.ms.toFixed(2)} ms CPU`);
}
console.log('\n| phase kernel | calls/step | ms CPU/step |\n|---|---|---|');
for (const [k, e] of rows) {
  if (e.ms / STEPS < 0.02) continue;
  console.log(`| ${k} | ${(e.calls / STEPS).toFixed(0)} | ${(e.ms / STEPS).toFixed(3)} |`);
}
