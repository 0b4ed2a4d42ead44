/**
 * The runs whose numbers the shared training loop must not change (issue #19 item 5): recorded from the
 * code before the loop was shared (test/bench/loopGolden.record.ts writes test/fixtures/loop/golden.json),
 * compared bit for bit by test/bench/loopGolden.test.ts. Wall-clock fields are left out.
 */
import * as tf from '@tensorflow/tfjs';
import { wrap } from '../../src/alrao/model.js';
import { withoutLastLayer } from '../../src/alrao/split.js';
import type { RunRecord } from '../../src/bench/record.js';
import { runOne } from '../../src/bench/runner.js';
import { ALRAO_WRAPPED } from '../../src/bench/specs.js';
import { taskByName } from '../../src/bench/tasks/index.js';
import { diagnosticOptimizer, runEpoch } from '../../src/diagnostics/trainer.js';
import * as lrfree from '../../src/index.js';
import { trainClassifier } from '../../src/train/classification.js';
import { toyClassification } from '../helpers/tf.js';

/** (task, spec) pairs run at the quick suite, seed 1, on the cpu backend. */
export const GOLDEN_RUNS: ReadonlyArray<readonly [string, string]> = [
  ['linreg', 'sls'],
  ['linreg', 'adamw@0.001+cosine'],
  ['linreg', 'scheduleFreeAdamW'],
  ['linreg', 'dog'],
  ['quadratic', 'sls'],
  ['quadratic', 'adamw@0.001+cosine'],
  ['quadratic', 'scheduleFreeAdamW'],
  ['quadratic', 'dog'],
  ['mnist-mlp', ALRAO_WRAPPED],
];

/**
 * A run record without its timings and without the optimizer's own report (recorded since the golden was:
 * words about the run, not numbers the loops produced), with non-finite numbers as strings (JSON keeps them).
 */
export function numbersOf(r: RunRecord): unknown {
  const { wallMs: _w, elapsedMs: _e, code: _c, optimizerReport: _r, ...rest } = r;
  const noMs = <T extends { ms: number }>(p: T) => {
    const { ms: _ms, ...q } = p;
    return q;
  };
  const out = {
    ...rest,
    trace: r.trace.map(noMs),
    evals: r.evals.map(noMs),
    toTarget: { steps: r.toTarget.steps, cost: r.toTarget.cost },
  };
  return JSON.parse(
    JSON.stringify(out, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? `nf:${v}` : v)),
  );
}

/** Runs every golden pair and returns their numbers, keyed `task|spec`. */
export async function goldenNumbers(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const [task, spec] of GOLDEN_RUNS) {
    out[`${task}|${spec}`] = numbersOf(await runOne(taskByName(task), spec, 1, 'quick'));
  }
  return out;
}

/** A seeded toy classification problem and an MLP, built the same way every time. */
function toyProblem(seed: number): { x: tf.Tensor2D; y: tf.Tensor2D; model: tf.LayersModel } {
  const { x, y } = toyClassification(96, 6, 3, seed);
  const input = tf.input({ shape: [6] });
  const hidden = tf.layers
    .dense({ units: 8, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed }) })
    .apply(input) as tf.SymbolicTensor;
  const out = tf.layers
    .dense({
      units: 3,
      activation: 'softmax',
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }),
    })
    .apply(hidden) as tf.SymbolicTensor;
  return { x, y, model: tf.model({ inputs: input, outputs: out }) };
}

/** The numbers of the classification helper, the diagnostics' epoch loop and AlraoModel.fit on toy data. */
export async function helperNumbers(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  {
    const { x, y, model } = toyProblem(3);
    const optimizer = lrfree.sls();
    const r = await trainClassifier({
      model,
      optimizer,
      train: { x, y },
      validation: { x, y },
      epochs: 2,
      batchSize: 16,
      seed: 5,
    });
    out.trainClassifier = {
      steps: r.steps.map(({ ms: _ms, ...s }) => s),
      epochs: r.epochs.map(({ ms: _ms, ...e }) => e),
    };
    optimizer.dispose();
    model.dispose();
    tf.dispose([x, y]);
  }
  {
    const { x, y, model } = toyProblem(4);
    const opt = diagnosticOptimizer('momentum', { lr: 0.05, momentum: 0.9 }, { model });
    const losses: number[] = [];
    const epochs = [];
    for (let epoch = 0; epoch < 2; epoch++) {
      epochs.push(
        await runEpoch(model, { x, y }, opt, {
          batchSize: 16,
          seed: 7,
          epoch,
          beforeBatch: (b) => opt.hyperparams.set('lr', 0.05 * (1 + b / 10)),
          afterBatch: (_b, loss) => {
            losses.push(loss);
            return losses.length < 10;
          },
        }),
      );
    }
    out.runEpoch = { losses, epochs };
    opt.dispose();
    model.dispose();
    tf.dispose([x, y]);
  }
  {
    const { x, y, model } = toyProblem(5);
    const { preClassifier, classes } = withoutLastLayer(model);
    const alrao = wrap(preClassifier, { classes, seed: 2, copies: 4 });
    const history = await alrao.fit(x, y, { epochs: 2, batchSize: 16, verbose: 0, validationData: [x, y] });
    out.alraoFit = { history, posterior: alrao.posterior() };
    alrao.dispose();
    tf.dispose([x, y]);
  }
  return JSON.parse(
    JSON.stringify(out, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? `nf:${v}` : v)),
  );
}
