/**
 * lrfree.adam against tf.train.adam on lrfree's wasm, in one process (not part of npm test): the MLPs of
 * bench/engine.ts, one copy of the model per optimizer (same initial weights), stepped in alternating blocks
 * of 10 steps (loss read back every step), so that both see the same machine load. Prints the median CPU
 * and wall time per step of each and the median (and range) over blocks of the ratio within a block: a
 * comparison that holds on a loaded machine, where bench/engine.ts's cross-process ratios do not.
 *
 *   npx tsx bench/engine-adam-ab.ts [THREADS] [BLOCKS]      # defaults: 1 thread, 40 blocks
 */
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { ready } from '../src/backend/ready.js';
import { crossEntropy } from '../src/bench/task.js';
import { adam } from '../src/optimizers/baselines.js';
import { engineMlp } from './engine-mlp.js';

const threads = Number(process.argv[2] ?? 1);
const BLOCKS = Number(process.argv[3] ?? 40);
const STEPS = 10;
await ready({ backend: 'wasm', threads, quiet: true });

/** The engine benchmark's MLP (bench/engine-mlp.ts) on its fixed batch; its loss closure. */
function mlp(sizes: number[], batch: number) {
  const { model, x, y } = engineMlp(sizes, batch);
  return {
    loss: () => crossEntropy(y, model.apply(x, { training: true }) as tf.Tensor),
    vars: model.trainableWeights.map((w) => w.read() as tf.Variable),
    dispose: () => {
      tf.dispose([x, y]);
      model.dispose();
    },
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const fmt = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return `${median(s).toFixed(2)}x (${s[0].toFixed(2)}-${s.at(-1)!.toFixed(2)})`;
};

console.log(
  `lrfree.adam vs tf.train.adam, lr 1e-3, lrfree wasm ${threads}T, ${BLOCKS} alternating blocks of ${STEPS} steps, load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores\n`,
);
console.log(
  '| training step | tf.train.adam CPU ms | lrfree.adam CPU ms | lrfree / tf, CPU | tf.train.adam wall ms | lrfree.adam wall ms | lrfree / tf, wall |',
);
console.log('|---|---|---|---|---|---|---|');
for (const [label, sizes, batch] of [
  ['MLP 784-128-10, batch 64', [784, 128, 10], 64],
  ['MLP 784-128-128-10, batch 128', [784, 128, 128, 10], 128],
] as const) {
  const runs = [
    {
      name: 'tf',
      task: mlp([...sizes], batch),
      opt: tf.train.adam(1e-3) as tf.Optimizer,
      cpu: [] as number[],
      wall: [] as number[],
    },
    {
      name: 'lrfree',
      task: mlp([...sizes], batch),
      opt: adam(1e-3) as tf.Optimizer,
      cpu: [] as number[],
      wall: [] as number[],
    },
  ];
  const step = (r: (typeof runs)[number]) => {
    const l = r.opt.minimize(r.task.loss, true, r.task.vars) as tf.Scalar;
    l.dataSync();
    l.dispose();
  };
  for (const r of runs) for (let i = 0; i < 10; i++) step(r);
  for (let b = 0; b < BLOCKS; b++) {
    for (const r of b % 2 ? [...runs].reverse() : runs) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      for (let i = 0; i < STEPS; i++) step(r);
      const c = process.cpuUsage(c0);
      r.wall.push((performance.now() - t0) / STEPS);
      r.cpu.push((c.user + c.system) / 1000 / STEPS);
    }
  }
  const [t, l] = runs;
  console.log(
    `| ${label} | ${median(t.cpu).toFixed(2)} | ${median(l.cpu).toFixed(2)} | ${fmt(l.cpu.map((v, i) => v / t.cpu[i]))} | ${median(t.wall).toFixed(2)} | ${median(l.wall).toFixed(2)} | ${fmt(l.wall.map((v, i) => v / t.wall[i]))} |`,
  );
  for (const r of runs) {
    r.task.dispose();
    r.opt.dispose();
  }
}
