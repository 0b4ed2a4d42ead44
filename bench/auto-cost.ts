/**
 * Per-step time of auto() and the rivals relative to Adam on the MNIST MLP (784-128-10, batch 128), side by
 * side in one run: rounds of 20 steps of every optimizer in rotating order, each on its own model and the
 * same batches; ratio of median per-step times after the first 20 steps, and of mean times (probe steps
 * included), with a 95% interval from the per-round ratios (rounds resampled). Not part of npm test.
 *
 * auto:unfused is auto() with its fused wasm kernel switched off (the TF.js ops path), for the kernel's gain.
 *
 *   npx tsx bench/auto-cost.ts [--backend cpu|wasm] [--rounds 10] [--only adam,auto,auto:unfused]
 *
 * --only keeps the named optimizers (adam, the reference, always runs first in the list).
 */
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { ready } from '../src/backend/ready.js';
import type { LrfreeOptimizer } from '../src/core/optimizer.js';
import { loadMnist } from '../src/data/mnist.js';
import { auto, autoWith } from '../src/optimizers/auto.js';
import { adam } from '../src/optimizers/baselines.js';
import { prodigyScheduleFree } from '../src/optimizers/prodigyScheduleFree.js';
import { scheduleFreeAdamW } from '../src/optimizers/scheduleFree.js';
import { scheduleFreePlus } from '../src/optimizers/scheduleFreePlus.js';
import { mlp } from '../src/train/models.js';
import { bootstrap, median } from './auto-stats.js';

const arg = (n: string, d: string) => {
  const i = process.argv.indexOf(`--${n}`);
  return i > 0 ? process.argv[i + 1] : d;
};
const BATCH = 128;
const ROUNDS = Number(arg('rounds', '10'));
const ALL_MAKERS: [string, () => LrfreeOptimizer][] = [
  ['adam', () => adam(1e-3)],
  ['auto', () => auto()],
  // The same optimizer on the TF.js ops path (no fused kernel): what the fused kernel saves, side by side.
  ['auto:unfused', () => autoWith({}, { fused: false })],
  // Without the noisy regime's default weight decay: what the decay costs per step.
  ['auto:noDecay', () => auto({ weightDecay: 0 })],
  ['scheduleFreeAdamW', () => scheduleFreeAdamW()],
  ['scheduleFreePlus', () => scheduleFreePlus()],
  ['prodigyScheduleFree', () => prodigyScheduleFree()],
];
const only = arg('only', '');
const MAKERS = only
  ? ALL_MAKERS.filter(([name]) => name === 'adam' || only.split(',').includes(name))
  : ALL_MAKERS;

await ready({ backend: arg('backend', 'wasm') as 'cpu' | 'wasm', quiet: true });
const { train } = loadMnist({ trainSize: 6400, validationSize: 100, testSize: 100 });
const batches = Array.from({ length: 50 }, (_, i) => ({
  x: tf.slice(train.x, [i * BATCH, 0], [BATCH, 784]),
  y: tf.slice(train.y, [i * BATCH, 0], [BATCH, 10]),
}));
const runners = MAKERS.map(([name, make]) => {
  const model = mlp({ inputs: 784, hidden: [128], classes: 10, seed: 1 });
  return {
    name,
    opt: make(),
    model,
    vars: model.trainableWeights.map((w) => w.read() as tf.Variable),
    ms: [] as number[],
    rounds: [] as number[][],
    step: 0,
  };
});
for (let round = 0; round < ROUNDS + 1; round++) {
  for (let j = 0; j < runners.length; j++) {
    const r = runners[(j + round) % runners.length];
    const roundMs: number[] = [];
    if (round > 0) r.rounds.push(roundMs);
    for (let s = 0; s < 20; s++) {
      const b = batches[r.step++ % batches.length];
      const f = () =>
        tf.mean(
          tf.metrics.categoricalCrossentropy(b.y, r.model.apply(b.x, { training: true }) as tf.Tensor),
        ) as tf.Scalar;
      const t0 = performance.now();
      r.opt.minimize(f, false, r.vars);
      const dt = performance.now() - t0;
      if (round > 0) {
        r.ms.push(dt);
        roundMs.push(dt);
      }
    }
  }
}
const base = median(runners[0].ms);
const load = loadavg().map((l) => l.toFixed(1));
console.log(
  `backend ${tf.getBackend()}, ${ROUNDS} rounds; load average now (1, 5, 15 min): ${load.join(', ')}`,
);
const meanOf = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
for (const r of runners) {
  // Per round: log(mean ms of r / mean ms of adam), the two measured in the same round.
  const logs = r.rounds.map((ms, i) => Math.log(meanOf(ms) / meanOf(runners[0].rounds[i])));
  const [lo, hi] = bootstrap(logs);
  console.log(
    `${r.name}: median ${median(r.ms).toFixed(2)} ms/step (ratio to adam ${(median(r.ms) / base).toFixed(3)}); ` +
      `mean ratio with probes ${Math.exp(meanOf(logs)).toFixed(3)} [95% CI ${Math.exp(lo).toFixed(3)}, ${Math.exp(hi).toFixed(3)}] over ${logs.length} rounds; ` +
      `forwards/step ${(r.opt.counters.forwards / r.opt.counters.steps).toFixed(3)}, last loss ${r.opt.lastStep.loss.toFixed(3)}`,
  );
}
// The fused kernel's gain, measured directly: auto over auto:unfused, round by round.
const fused = runners.find((r) => r.name === 'auto');
const unfused = runners.find((r) => r.name === 'auto:unfused');
if (fused && unfused) {
  const logs = fused.rounds.map((ms, i) => Math.log(meanOf(ms) / meanOf(unfused.rounds[i])));
  const [lo, hi] = bootstrap(logs);
  console.log(
    `auto / auto:unfused: mean ratio with probes ${Math.exp(meanOf(logs)).toFixed(3)} [95% CI ${Math.exp(lo).toFixed(3)}, ${Math.exp(hi).toFixed(3)}]; ` +
      `ratio of medians ${(median(fused.ms) / median(unfused.ms)).toFixed(3)}`,
  );
}
