/**
 * The regression experiment of "More Descent, Less Gradient" (sources/more-descent-less-gradient.txt):
 * 10K x 20 standard normal inputs, y = row sum, 5 Dense layers of width 10 (linear, or ReLU) + a linear
 * output, MSE, full batch. Compares SGD, Adam, KeepStepping (10/50 mini-steps, impatience 0/2),
 * KeepVaulting, walk and PAL by loss vs wall time and vs forward/backward counts, all in one run, and
 * prints ratios against SGD measured side by side.
 *
 *   npx tsx bench/more-descent.ts                  # both variants, lr 1e-3 (the post's Figure 9)
 *   npx tsx bench/more-descent.ts --lr 1e-4        # Figure 10
 *   npx tsx bench/more-descent.ts --relu --backend cpu
 */
import * as tf from '@tensorflow/tfjs';
import { ready } from '../src/backend/ready.js';
import { deepRegressionModel } from '../src/bench/tasks/regression.js';
import type { LrfreeOptimizer } from '../src/core/optimizer.js';
import { deriveSeed, gaussian, mulberry32 } from '../src/core/rng.js';
import { adam, sgd } from '../src/optimizers/baselines.js';
import { keepStepping, keepVaulting, pal, walk } from '../src/optimizers/moreDescent.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const lr = Number(arg('lr', '1e-3'));
const seed = Number(arg('seed', '0'));
const backend = arg('backend', 'wasm') as 'wasm' | 'cpu';
const variants = args.includes('--relu') ? [true] : args.includes('--linear') ? [false] : [false, true];

/** name -> [optimizer factory, steps]; the post ran 1000 steps for SGD/Adam and 100 for the K methods. */
const METHODS: Record<string, [() => LrfreeOptimizer, number]> = {
  SGD: [() => sgd(lr), 1000],
  Adam: [() => adam(lr), 1000],
  KS_10_0: [() => keepStepping({ lr, maxSteps: 10, scaleI: 0 }), 100],
  KS_10_2: [() => keepStepping({ lr, maxSteps: 10, scaleI: 2 }), 100],
  KS_50_0: [() => keepStepping({ lr, maxSteps: 50, scaleI: 0 }), 100],
  KS_50_2: [() => keepStepping({ lr, maxSteps: 50, scaleI: 2 }), 100],
  KV_10: [() => keepVaulting({ lr, maxSteps: 10 }), 100],
  KV_50: [() => keepVaulting({ lr, maxSteps: 50 }), 100],
  walk: [() => walk({ eta0: lr }), 100],
  PAL: [() => pal({ mu: 0.1 }), 100],
};

interface Trace {
  loss: number[];
  ms: number[];
  cost: number[];
  forwards: number;
  backwards: number;
}

function problem(relu: boolean) {
  const g = gaussian(mulberry32(deriveSeed(seed, 1)));
  const x = tf.tensor2d(Float32Array.from({ length: 10000 * 20 }, g), [10000, 20]);
  const y = tf.sum(x, 1, true);
  return { x, y, model: deepRegressionModel(relu, seed) };
}

function runMethod(relu: boolean, make: () => LrfreeOptimizer, steps: number): Trace {
  const { x, y, model } = problem(relu);
  const opt = make();
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const lossFn = () => tf.losses.meanSquaredError(y, model.apply(x) as tf.Tensor) as tf.Scalar;
  const trace: Trace = { loss: [], ms: [], cost: [], forwards: 0, backwards: 0 };
  const t0 = performance.now();
  for (let s = 0; s < steps; s++) {
    opt.minimize(lossFn, false, vars);
    // The loss the step started from (already read back by the optimizer: no extra sync timed).
    trace.loss.push(opt.lastStep.loss);
    trace.ms.push(performance.now() - t0);
    trace.cost.push(opt.cost);
  }
  const final = tf.tidy(() => lossFn().dataSync()[0]);
  trace.loss.push(final);
  trace.ms.push(performance.now() - t0);
  trace.cost.push(opt.cost);
  trace.forwards = opt.counters.forwards;
  trace.backwards = opt.counters.backwards;
  opt.dispose();
  tf.dispose([x, y]);
  model.dispose();
  return trace;
}

/** First index where the loss is at or below `target`, else -1. */
const firstBelow = (t: Trace, target: number) => t.loss.findIndex((l) => l <= target);
const fmt = (v: number, d = 3) => (Number.isFinite(v) ? Number(v.toPrecision(d)).toString() : String(v));

async function main(): Promise<void> {
  await ready({ backend, quiet: true });
  console.log(`backend ${tf.getBackend()}, lr ${lr}, seed ${seed}`);
  for (const relu of variants) {
    console.log(`\n## ${relu ? 'ReLU' : 'linear'} deep regression (10K x 20, 5 x 10 + 1, full batch)`);
    const traces: Record<string, Trace> = {};
    for (const [name, [make, steps]] of Object.entries(METHODS)) traces[name] = runMethod(relu, make, steps);
    const sgdT = traces.SGD;
    const initial = sgdT.loss[0];
    const target = sgdT.loss[sgdT.loss.length - 1];
    console.log(`initial loss ${fmt(initial)}; target = SGD's final loss after 1000 steps = ${fmt(target)}`);
    console.log(
      '| method | steps | final loss | wall ms | forwards | backwards | cost F+3B | ms to target | cost to target | time ratio vs SGD | cost ratio vs SGD |',
    );
    console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    const sgdHit = firstBelow(sgdT, target);
    for (const [name, t] of Object.entries(traces)) {
      const hit = firstBelow(t, target);
      // loss[i] is the loss after i steps, reached at ms[i - 1].
      const ms = hit > 0 ? t.ms[hit - 1] : hit === 0 ? 0 : Number.POSITIVE_INFINITY;
      const cost = hit > 0 ? t.cost[hit - 1] : hit === 0 ? 0 : Number.POSITIVE_INFINITY;
      console.log(
        `| ${name} | ${t.loss.length - 1} | ${fmt(t.loss[t.loss.length - 1])} | ${fmt(t.ms[t.ms.length - 1], 4)} | ` +
          `${t.forwards} | ${t.backwards} | ${t.cost[t.cost.length - 1]} | ${fmt(ms, 4)} | ${fmt(cost, 4)} | ` +
          `${fmt(ms / sgdT.ms[sgdHit - 1])} | ${fmt(cost / sgdT.cost[sgdHit - 1])} |`,
      );
    }
    // Loss at equal budgets: what each method reached within the shortest run's wall time and cost.
    const msBudget = Math.min(...Object.values(traces).map((t) => t.ms[t.ms.length - 1]));
    const costBudget = Math.min(...Object.values(traces).map((t) => t.cost[t.cost.length - 1]));
    console.log(`\nloss reached within ${fmt(msBudget, 4)} ms and within cost ${costBudget} (F + 3B):`);
    for (const [name, t] of Object.entries(traces)) {
      // Loss after the last step finished within the budget (loss[k + 1] is reached at xs[k]).
      const at = (xs: number[], b: number) => {
        let k = -1;
        while (k + 1 < xs.length - 1 && xs[k + 1] <= b) k++;
        return t.loss[k + 1];
      };
      console.log(
        `  ${name.padEnd(8)} ${fmt(at(t.ms, msBudget)).padStart(10)} ${fmt(at(t.cost, costBudget)).padStart(10)}`,
      );
    }
  }
}

await main();
