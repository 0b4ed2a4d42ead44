/**
 * Fuzzes the training path (issue #20, item 3): NaN or Inf injected at the input, the loss, the
 * gradient, the step size, the update or a probe, at a random step, for every catalog optimizer on a
 * small model with BatchNorm (and Dropout). Afterwards weights, batch-norm statistics and optimizer state
 * are finite, the bad step changed nothing (bit-equal to just before it), and without Dropout the whole
 * run is bit-equal (cpu) to one that never ran the bad step. With Dropout the later steps draw other masks
 * (each call advances the per-step seed, skipped or not), so there only the step itself is compared.
 *
 * Bounded time: a few runs per optimizer and a time limit each; the fast-check seed is printed on
 * failure (FUZZ_SEED=<seed> reproduces).
 */
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import * as lrfree from '../../src/index.js';
import { bitEqual, tinyMlp, uniformArray, useBackend } from '../helpers/tf.js';

const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Date.now() % 2 ** 31;
const STEPS = 5;
const BATCH = 8;
const D = 4;
const K = 3;
const RUNS = 3;
const MS_PER_OPTIMIZER = 1500;

type Point = 'input' | 'loss' | 'gradient' | 'eta' | 'update' | 'probe';
const POINTS: Point[] = ['input', 'loss', 'gradient', 'eta', 'update', 'probe'];

beforeAll(async () => {
  await useBackend('cpu');
});

const xs = uniformArray(STEPS * BATCH * D, 21);
const labels = Array.from({ length: STEPS * BATCH }, (_, i) => (i * 5 + 1) % K);

interface Snapshot {
  weights: Float32Array[];
  stats: Float32Array[];
  slots: Float32Array[];
  scalars: string;
  steps: number;
}

async function snapshot(model: tf.LayersModel, opt: lrfree.LrfreeOptimizer): Promise<Snapshot> {
  const read = async () => {
    const ws = await opt.getWeights();
    const out = ws.slice(1, -1).map((w) => w.tensor.dataSync().slice() as Float32Array);
    tf.dispose([ws[0].tensor, ws[ws.length - 1].tensor]); // iterations and the encoded scalars are new
    return out;
  };
  // Schedule-Free saves only at its evaluation point; reading there and back is exact for both runs.
  const slots = lrfree.hasEvalPoint(opt) ? await lrfree.withEvalPointAsync(opt, {}, read) : await read();
  return {
    weights: model.trainableWeights.map((w) => w.read().dataSync().slice() as Float32Array),
    stats: model.nonTrainableWeights.map((w) => w.read().dataSync().slice() as Float32Array),
    slots,
    scalars: JSON.stringify([opt.directionState(), opt.ruleState()]),
    steps: opt.counters.steps,
  };
}

const finite = (s: Snapshot) =>
  [...s.weights, ...s.stats, ...s.slots].every((a) => a.every(Number.isFinite)) &&
  !s.scalars.includes('null');
const same = (a: Snapshot, b: Snapshot) =>
  bitEqual(a.weights, b.weights) &&
  bitEqual(a.stats, b.stats) &&
  bitEqual(a.slots, b.slots) &&
  a.scalars === b.scalars &&
  a.steps === b.steps;

/** Wraps the optimizer's direction and rule so that `bad()` makes them return a NaN/Inf update or eta. */
function injectable(opt: lrfree.LrfreeOptimizer, bad: () => 'eta' | 'update' | undefined, value: number) {
  const dir = opt.direction;
  const rule = opt.rule;
  const wrappedDir: lrfree.Direction = {
    ...dir,
    compute: (ctx) => {
      const r = dir.compute(ctx);
      if (bad() !== 'update') return r;
      // Both the committed update and the direction a line search probes along.
      return {
        ...r,
        update: r.update.map((u) => tf.mul(u, value)),
        search: r.search?.map((u) => tf.mul(u, value)),
      };
    },
  };
  const wrappedRule: lrfree.StepRule = {
    ...rule,
    choose: (ctx, scalars) => {
      const d = rule.choose(ctx, scalars);
      return bad() === 'eta' ? { ...d, eta: value } : d;
    },
  };
  Object.assign(opt as unknown as { direction: lrfree.Direction; rule: lrfree.StepRule }, {
    direction: wrappedDir,
    rule: wrappedRule,
  });
}

/** Trains STEPS steps; at step `bad` (1-based) injects `value` at `point`, or leaves step `bad` out (`omit`). */
async function run(
  name: string,
  dropout: boolean,
  bad: number,
  point: Point,
  value: number,
  omit: boolean,
): Promise<{ end: Snapshot; before?: Snapshot; after?: Snapshot; skipped: number }> {
  const model = tinyMlp(D, 6, K, { bn: true, dropout: dropout ? 0.25 : 0 });
  const opt = lrfree.catalogEntry(name).make({ stepsPerEpoch: STEPS, totalSteps: STEPS, seed: 5 });
  let now = 0;
  let calls = 0;
  injectable(
    opt,
    () => (!omit && now === bad && (point === 'eta' || point === 'update') ? point : undefined),
    value,
  );
  const vars = lrfree.modelVariables(model);
  let before: Snapshot | undefined;
  let after: Snapshot | undefined;
  for (now = 1; now <= STEPS; now++) {
    if (now === bad && omit) {
      // The same reads as the other run (Schedule-Free's reads go to x and back, rounding y once).
      before = await snapshot(model, opt);
      after = await snapshot(model, opt);
      continue;
    }
    const poison = now === bad && !omit;
    const start = (now - 1) * BATCH * D;
    const batch = xs.slice(start, start + BATCH * D);
    if (poison && point === 'input') batch[3] = value;
    const xb = tf.tensor2d(batch, [BATCH, D]);
    const yb = tf.tidy(() =>
      tf.oneHot(tf.tensor1d(labels.slice((now - 1) * BATCH, now * BATCH), 'int32'), K).toFloat(),
    );
    calls = 0;
    const f = () =>
      tf.tidy(() => {
        calls++;
        const out = model.apply(xb, { training: true }) as tf.Tensor;
        let loss = tf.losses.softmaxCrossEntropy(yb, out) as tf.Scalar;
        if (poison && point === 'loss') loss = tf.add(loss, value) as tf.Scalar;
        if (poison && point === 'probe' && calls > 1) loss = tf.add(loss, value) as tf.Scalar;
        if (poison && point === 'gradient') {
          // A finite loss whose gradient is NaN: d sqrt(u)/du at u = 0 times 0.
          loss = tf.add(loss, tf.mul(0, tf.sum(tf.sqrt(tf.sub(vars[0], vars[0]))))) as tf.Scalar;
        }
        return loss;
      });
    if (now === bad) before = await snapshot(model, opt);
    opt.minimize(f, false, vars);
    if (now === bad) after = await snapshot(model, opt);
    tf.dispose([xb, yb]);
  }
  const end = await snapshot(model, opt);
  const skipped = opt.counters.skipped;
  opt.dispose();
  model.dispose();
  return { end, before, after, skipped };
}

describe(`training-path fuzz: NaN/Inf at the input, loss, gradient, eta, update or a probe (seed ${SEED})`, () => {
  const names = lrfree.catalog().map((e) => e.name);

  it.each(names)('%s', async (name) => {
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const n0 = tf.memory().numTensors;
    const result = await fc.check(
      fc.asyncProperty(
        fc.integer({ min: 1, max: STEPS }),
        fc.constantFrom(...POINTS),
        fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY),
        fc.boolean(),
        async (bad, point, value, dropout) => {
          const a = await run(name, dropout, bad, point, value, false);
          if (!finite(a.end)) throw new Error('a weight, statistic or state is not finite at the end');
          const skips = point !== 'probe';
          if (skips) {
            if (a.skipped !== 1)
              throw new Error(`expected the bad step to be skipped, skipped = ${a.skipped}`);
            if (!same(a.before!, a.after!))
              throw new Error('the skipped step changed the model or the state');
          }
          // Without Dropout the trajectory does not depend on the step count: compare the whole run.
          if (
            !dropout &&
            (skips ||
              !lrfree.catalogEntry(name).make({ stepsPerEpoch: 1, totalSteps: 1, seed: 0 }).rule.needsLoss)
          ) {
            const b = await run(name, dropout, bad, point, value, skips);
            if (!same(a.end, b.end)) throw new Error('the run differs from one that never saw the bad step');
          }
          return true;
        },
      ),
      { seed: SEED, numRuns: RUNS, interruptAfterTimeLimit: MS_PER_OPTIMIZER, markInterruptAsFailure: false },
    );
    if (result.failed) {
      throw new Error(
        `${name}: ${fc.defaultReportMessage(result)}\n${String(result.errorInstance)}\n` +
          `Reproduce: FUZZ_SEED=${SEED} npx vitest run test/fuzz/trainingPath.test.ts -t ${name}`,
      );
    }
    expect(result.numRuns).toBeGreaterThan(0);
    expect(tf.memory().numTensors).toBe(n0);
    vi.restoreAllMocks();
  });
});
