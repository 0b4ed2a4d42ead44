/**
 * The training engine of the diagnostics: an lrfree optimizer whose learning rate and momentum the
 * diagnostic changes between steps through the optimizer's run-time hyperparameters
 * (`opt.hyperparams.set('lr' | 'momentum', v)`; TF.js's own `setMomentum` does not change the update),
 * and a seeded mini-batch loop that can stop early.
 */
import * as tf from '@tensorflow/tfjs';
import { gatherRows, runTrainingLoop } from '../core/loop.js';
import { LrfreeOptimizer } from '../core/optimizer.js';
import { deriveSeed } from '../core/rng.js';
import type { Schedule } from '../core/schedule.js';
import { checkOneOf } from '../core/validate.js';
import { adam } from '../directions/adam.js';
import { momentum } from '../directions/momentum.js';
import { sgd } from '../directions/sgd.js';
import { constant } from '../steps/constant.js';
import { permutation } from '../train/classification.js';
import { checkAbort, type DataSplit, type LossSpec, lossFunction } from './common.js';

/** The optimizers a diagnostic can drive: plain SGD, heavy-ball momentum, Adam. */
export type Variant = 'sgd' | 'momentum' | 'adam';
/** All variants, in display order. */
export const VARIANTS: readonly Variant[] = ['sgd', 'momentum', 'adam'];

/** Starting values of the hyperparameters a diagnostic changes while training. */
export interface DiagnosticHyperparameters {
  /** Learning rate of the first step; change it with `opt.hyperparams.set('lr', v)`. */
  lr: number;
  /** Momentum coefficient (momentum variant only); change it with `opt.hyperparams.set('momentum', v)`. */
  momentum?: number;
}

/**
 * The optimizer of a diagnostic: `sgd`, `momentum` or `adam` directions under `constant(lr)`. The
 * diagnostic moves `lr` (and `momentum`) between steps with `opt.hyperparams.set`, validated, with no
 * mutable wrapper. Same updates as the presets of the same names.
 */
export function diagnosticOptimizer(
  variant: Variant,
  init: DiagnosticHyperparameters,
  options: { model?: tf.LayersModel; schedule?: Schedule; stepsPerEpoch?: number; seed?: number } = {},
): LrfreeOptimizer {
  checkOneOf('diagnostics', 'variant', variant, VARIANTS);
  const direction =
    variant === 'sgd' ? sgd() : variant === 'adam' ? adam() : momentum({ momentum: init.momentum ?? 0.9 });
  return new LrfreeOptimizer({
    direction,
    step: constant(init.lr),
    schedule: options.schedule,
    stepsPerEpoch: options.stepsPerEpoch,
    seed: options.seed ?? 0,
    model: options.model,
    name: `diagnostic-${variant}`,
  });
}

/** Options of {@link runEpoch}. */
export interface EpochOptions {
  batchSize: number;
  /** Seed of the batch order (the epoch number is mixed in). */
  seed: number;
  epoch: number;
  loss?: LossSpec;
  /** Stop after this many batches (a partial epoch). */
  maxBatches?: number;
  /** Start at this batch of the epoch's order (continuing a partial epoch). Default 0. */
  firstBatch?: number;
  /** Called before every batch (e.g. to set the learning rate). */
  beforeBatch?: (batch: number) => void;
  /** Called after every batch with its loss; return `false` to stop the epoch. */
  afterBatch?: (batch: number, loss: number) => boolean | undefined;
  signal?: AbortSignal;
}

/** Number of mini-batches per epoch. */
export function batchesPerEpoch(n: number, batchSize: number): number {
  return Math.ceil(n / batchSize);
}

/**
 * One epoch of mini-batch training in a seeded order with `optimizer.minimize` (lrfree's one training
 * loop, core/loop.ts). Returns the mean training loss of the batches run (NaN when one of them was not
 * finite) and the number of batches.
 */
export async function runEpoch(
  model: tf.LayersModel,
  split: DataSplit,
  optimizer: LrfreeOptimizer,
  options: EpochOptions,
): Promise<{ meanLoss: number; batches: number; stopped: boolean }> {
  const n = split.x.shape[0];
  const fn = lossFunction(options.loss);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const order = tf.tensor1d(permutation(n, deriveSeed(options.seed, options.epoch)), 'int32');
  let summary = { meanLoss: Number.NaN, batches: 0 };
  try {
    const first = options.firstBatch ?? 0;
    const total = Math.min(
      batchesPerEpoch(n, options.batchSize) - first,
      options.maxBatches ?? Number.POSITIVE_INFINITY,
    );
    const result = await runTrainingLoop({
      steps: total,
      initialEpoch: options.epoch,
      shouldStop: () => {
        checkAbort(options.signal);
        return false;
      },
      beforeStep: ({ batch }) => options.beforeBatch?.(first + batch),
      batch: ({ batch }) => {
        const start = (first + batch) * options.batchSize;
        return gatherRows(split.x, split.y, order, start, Math.min(options.batchSize, n - start));
      },
      trainStep: ({ x, y }) => {
        optimizer.minimize(
          () => tf.tidy(() => fn(y, model.apply(x, { training: true }) as tf.Tensor)),
          false,
          vars,
        );
        return optimizer.lastStep.skipped ? Number.NaN : optimizer.lastStep.loss;
      },
      afterStep: ({ batch, loss }) => options.afterBatch?.(first + batch, loss),
      onEpochEnd: (e) => {
        summary = { meanLoss: e.meanLoss, batches: e.batches };
      },
    });
    return { ...summary, stopped: result.stopped };
  } finally {
    order.dispose();
  }
}
