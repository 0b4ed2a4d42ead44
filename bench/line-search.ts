/**
 * Line-search benchmark (not part of npm test): per-step time of each line-search preset relative to plain
 * SGD on the MNIST MLP (784-128-10, ReLU, batch 128), measured side by side in one run: every round runs
 * the same number of steps of every optimizer, each on its own copy of the model and the same batches, and
 * the ratio is taken between median per-step times. Two windows are reported: the first 100 steps (SaLSa
 * still searches every step while its step-size averages settle) and the steps after `late` (its amortised
 * cadence). Also prints forwards per step and the last loss. Targets (issue 3): SaLSa <= 1.1x, SLS <= 1.4x.
 * And the floor no line search can beat: a loss-only forward timed on SGD's model, interleaved with the
 * rounds, on fresh and on already packed weights; a search with f forwards per step, whose accepted probe's
 * packed weights the next gradient pass reuses, costs at least about 1 + f * (packed forward / SGD step).
 *
 *   npx tsx bench/line-search.ts            # 500 steps per optimizer in rounds of 25, late window > 300 (~2 min)
 *   npx tsx bench/line-search.ts --quick    # 300 steps, late window > 200
 *   npx tsx bench/line-search.ts --backend cpu
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { ready } from '../src/backend/ready.js';
import type { LrfreeOptimizer } from '../src/core/optimizer.js';
import { loadMnist } from '../src/data/mnist.js';
import { adam, sgd } from '../src/optimizers/baselines.js';
import { adamSls, plasls, salsa, sls, sps } from '../src/optimizers/lineSearch.js';
import { mlp } from '../src/train/models.js';

const quick = process.argv.includes('--quick');
const backendArg = process.argv.indexOf('--backend');
const backend = (backendArg > 0 ? process.argv[backendArg + 1] : 'wasm') as 'wasm' | 'cpu';
const STEPS = 25;
const ROUNDS = quick ? 12 : 20;
const LATE = quick ? 200 : 300;
const WARMUP = 5;
const BATCH = 128;
const TRAIN = 12800;
const STEPS_PER_EPOCH = TRAIN / BATCH;

const MAKERS: [string, () => LrfreeOptimizer][] = [
  ['sgd (eta 0.1)', () => sgd(0.1)],
  ['sls', () => sls({ stepsPerEpoch: STEPS_PER_EPOCH })],
  ['sls goldstein', () => sls({ stepsPerEpoch: STEPS_PER_EPOCH, lineSearch: 'goldstein' })],
  ['adamSls', () => adamSls({ stepsPerEpoch: STEPS_PER_EPOCH })],
  ['plasls', () => plasls({ stepsPerEpoch: STEPS_PER_EPOCH })],
  ['salsa', () => salsa({ stepsPerEpoch: STEPS_PER_EPOCH })],
  ['sps', () => sps({ stepsPerEpoch: STEPS_PER_EPOCH })],
  // SaLSa's own direction is Adam's: these two rows separate the direction's cost from the search's.
  ['adam (eta 1e-3)', () => adam(1e-3)],
  ['salsa sgd', () => salsa({ stepsPerEpoch: STEPS_PER_EPOCH, direction: 'sgd' })],
];

interface Runner {
  name: string;
  opt: LrfreeOptimizer;
  model: tf.LayersModel;
  vars: tf.Variable[];
  step: number;
  early: number[];
  late: number[];
  earlyForwards: number;
  lateForwards: number;
  lastLoss: number;
}

/** Mean cross-entropy of the MLP's softmax output: what `compile({ loss: 'categoricalCrossentropy' })` trains. */
function crossEntropy(y: tf.Tensor, probs: tf.Tensor): tf.Scalar {
  return tf.mean(tf.metrics.categoricalCrossentropy(y, probs)) as tf.Scalar;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function main(): Promise<void> {
  await ready({ backend, quiet: true });
  const { train } = loadMnist({ trainSize: TRAIN, validationSize: 100, testSize: 100 });
  const batches = Array.from({ length: STEPS_PER_EPOCH }, (_, i) => ({
    x: tf.slice(train.x, [i * BATCH, 0], [BATCH, 784]),
    y: tf.slice(train.y, [i * BATCH, 0], [BATCH, 10]),
  }));
  const runners: Runner[] = MAKERS.map(([name, make]) => {
    const model = mlp({ inputs: 784, hidden: [128], classes: 10, seed: 1 });
    return {
      name,
      opt: make(),
      model,
      vars: model.trainableWeights.map((w) => w.read() as tf.Variable),
      step: 0,
      early: [],
      late: [],
      earlyForwards: 0,
      lateForwards: 0,
      lastLoss: Number.NaN,
    };
  });

  const oneStep = (r: Runner, record: boolean): void => {
    const b = batches[r.step++ % batches.length];
    const f = () => crossEntropy(b.y, r.model.apply(b.x, { training: true }) as tf.Tensor);
    const t0 = performance.now();
    r.opt.minimize(f, false, r.vars);
    const dt = performance.now() - t0;
    if (record && r.opt.counters.steps <= 100) {
      r.early.push(dt);
      r.earlyForwards += r.opt.lastStep.forwards;
    } else if (record && r.opt.counters.steps > LATE) {
      r.late.push(dt);
      r.lateForwards += r.opt.lastStep.forwards;
    }
    r.lastLoss = r.opt.lastStep.loss;
  };

  // Compile the kernels once on a throw-away copy so the first timed steps are not penalised.
  const spare: Runner = {
    ...runners[0],
    opt: sgd(0.1),
    model: mlp({ inputs: 784, hidden: [128], classes: 10 }),
  };
  spare.vars = spare.model.trainableWeights.map((w) => w.read() as tf.Variable);
  for (let s = 0; s < WARMUP; s++) oneStep(spare, false);
  spare.opt.dispose();
  spare.model.dispose();
  // A loss-only forward on SGD's model and batches (what one probe costs, before moving the weights), on
  // fresh weights (XNNPACK packs them first, as in a probe) and again on the same, already packed weights
  // (what the next gradient pass pays at an accepted probe's point, where the packing is reused).
  const forwardMs: number[] = [];
  const packedForwardMs: number[] = [];
  const probeLike = (r: Runner): void => {
    const b = batches[r.step % batches.length];
    tf.tidy(() => {
      for (const v of r.vars) v.assign(tf.add(v, 0));
    });
    for (const into of [forwardMs, packedForwardMs]) {
      const t0 = performance.now();
      tf.tidy(() => crossEntropy(b.y, r.model.apply(b.x, { training: true }) as tf.Tensor).dataSync());
      into.push(performance.now() - t0);
    }
  };
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate the order so no optimizer always runs first (caches, machine noise).
    for (let i = 0; i < runners.length; i++) {
      const r = runners[(i + round) % runners.length];
      for (let s = 0; s < STEPS; s++) oneStep(r, true);
    }
    for (let s = 0; s < STEPS; s++) probeLike(runners[0]);
  }

  const baseEarly = median(runners[0].early);
  const baseLate = median(runners[0].late);
  const nLate = runners[0].late.length;
  console.log(
    `backend ${tf.getBackend()}, MNIST MLP 784-128-10, batch ${BATCH}, ${ROUNDS * STEPS} steps per optimizer ` +
      `in interleaved rounds of ${STEPS}; windows: steps 1-100 and ${LATE + 1}-${ROUNDS * STEPS}`,
  );
  console.log(
    'optimizer         ms/step 1-100  ratio  fwd/step |  ms/step late  ratio  fwd/step | last loss',
  );
  for (const r of runners) {
    const e = median(r.early);
    const l = median(r.late);
    console.log(
      `${r.name.padEnd(16)} ${e.toFixed(2).padStart(14)} ${(e / baseEarly).toFixed(2).padStart(5)}x ${(r.earlyForwards / 100).toFixed(2).padStart(9)} | ` +
        `${l.toFixed(2).padStart(13)} ${(l / baseLate).toFixed(2).padStart(5)}x ${(r.lateForwards / nLate).toFixed(2).padStart(9)} | ${r.lastLoss.toFixed(4)}`,
    );
  }
  const late = (name: string) => median(runners.find((r) => r.name === name)!.late);
  const ratio = (name: string) => late(name) / baseLate;
  console.log(
    `salsa vs adam (same direction), late window: ${(late('salsa') / late('adam (eta 1e-3)')).toFixed(2)}x`,
  );
  console.log(
    `targets (late window): salsa ${ratio('salsa').toFixed(2)}x (<= 1.1x: ${ratio('salsa') <= 1.1 ? 'met' : 'NOT met'}), ` +
      `sls ${ratio('sls').toFixed(2)}x (<= 1.4x: ${ratio('sls') <= 1.4 ? 'met' : 'NOT met'})`,
  );
  const fwdShare = median(forwardMs) / baseLate;
  const packedShare = median(packedForwardMs) / baseLate;
  const slsRunner = runners.find((r) => r.name === 'sls')!;
  const slsFwd = slsRunner.lateForwards / slsRunner.late.length;
  console.log(
    `a loss-only forward costs ${fwdShare.toFixed(2)}x an SGD step on fresh weights (${median(forwardMs).toFixed(2)} ms, ` +
      `XNNPACK packs them first) and ${packedShare.toFixed(2)}x on packed weights (${median(packedForwardMs).toFixed(2)} ms); ` +
      "the next gradient pass reuses an accepted probe's packing, so " +
      `sls at its ${slsFwd.toFixed(2)} forwards/step costs at least ~${(1 + slsFwd * packedShare).toFixed(2)}x ` +
      `(1 + forwards x packed forward), measured ${ratio('sls').toFixed(2)}x`,
  );
  for (const r of runners) {
    r.opt.dispose();
    r.model.dispose();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
