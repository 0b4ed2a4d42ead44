/**
 * Per-step cost of the bad-data guard (issue #20): the batch-norm snapshot before the gradient pass and
 * the last finiteness check (eta, committed point, new state), on an MLP with batch norm, wasm, custom loop.
 *
 *   npx tsx bench/guard-overhead.ts                    # this tree
 *   npx tsx bench/guard-overhead.ts --src /tmp/old/src # another copy of src/ (e.g. before the guard), for A/B
 *
 * Prints the median and mean step time (ms) per optimizer; run both trees alternately, a few times, and
 * compare (the machine is noisy: ±30% between runs). Because a shared machine's noise can hide a small
 * cost, it also times the guard's own operations in isolation, interleaved with the steps (same tensors:
 * the model's batch-norm statistics; the weights and Adam's two slots per weight), and prints their
 * share of a step.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';

const argv = process.argv.slice(2);
const srcAt = argv.indexOf('--src');
const src = resolve(srcAt >= 0 ? argv[srcAt + 1] : new URL('../src', import.meta.url).pathname);
const steps = 300;
const warm = 30;

const load = (p: string) => import(pathToFileURL(`${src}/${p}`).href);
const { ready } = await load('backend/ready.ts');
const lrfreeOpt = await load('optimizers/baselines.ts');
const lineSearch = await load('optimizers/lineSearch.ts');
await ready({ backend: 'wasm', quiet: true });

function model(): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.dense({ units: 128, inputShape: [784] }),
      tf.layers.batchNormalization(),
      tf.layers.activation({ activation: 'relu' }),
      tf.layers.dense({ units: 10, activation: 'softmax' }),
    ],
  });
}

const x = tf.randomNormal([64, 784], 0, 1, 'float32', 1);
const y = tf.oneHot(tf.randomUniform([64], 0, 10, 'int32', 2), 10).toFloat();
const makers: Record<string, (m: tf.LayersModel) => tf.Optimizer> = {
  adam: (m) => lrfreeOpt.adam(1e-3, { model: m }),
  sls: (m) => lineSearch.sls({ model: m, stepsPerEpoch: 100 }),
};
for (const [name, make] of Object.entries(makers)) {
  const m = model();
  const opt = make(m) as tf.Optimizer;
  const vars = m.trainableWeights.map((w) => w.read() as tf.Variable);
  const f = () => tf.losses.softmaxCrossEntropy(y, m.apply(x, { training: true }) as tf.Tensor) as tf.Scalar;
  const times: number[] = [];
  const guard: number[] = [];
  const stats = m.nonTrainableWeights.map((w) => w.read() as tf.Variable);
  const checked = [...vars, ...vars, ...vars]; // new weights + m + v
  for (let s = 0; s < warm + steps; s++) {
    const t0 = performance.now();
    opt.minimize(f, false, vars);
    const t1 = performance.now();
    // The guard's work, as core/optimizer.ts does it: snapshot + dispose of the statistics, one check.
    const copies = stats.map((v) => tf.keep(v.clone()));
    const t = tf.tidy(() => tf.addN(checked.map((c) => tf.sum(tf.mul(c, 0)))));
    t.dataSync();
    t.dispose();
    tf.dispose(copies);
    const t2 = performance.now();
    if (s >= warm) {
      times.push(t1 - t0);
      guard.push(t2 - t1);
    }
  }
  const median = (a: number[]) => [...a].sort((p, q) => p - q)[a.length >> 1];
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  console.log(
    `${name.padEnd(5)} src=${src} step median ${median(times).toFixed(3)} ms, mean ${mean.toFixed(3)} ms; ` +
      `guard ops alone median ${median(guard).toFixed(3)} ms = ${((100 * median(guard)) / median(times)).toFixed(1)}% of a step`,
  );
  opt.dispose();
  m.dispose();
}
