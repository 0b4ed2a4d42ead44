/**
 * A training run's state after some of its steps, kept in memory so that a later run that would repeat
 * those steps exactly (same start weights, variant, rate, batch order and dropout masks) continues from
 * it instead of training them again: the procedure's step 3 run without momentum continues step 2's
 * confirmation run at the chosen rate, and step 4's decay run continues the constant-rate run after its
 * first epoch (where the decay's factor is exactly 1). The continued run is bit for bit the one it
 * replaces (test/diagnostics/checkpoint.test.ts).
 */
import * as tf from '@tensorflow/tfjs';
import type { LrfreeOptimizer, NamedTensor } from '../core/optimizer.js';
import type { Schedule } from '../core/schedule.js';
import type { Evaluation, LossSpec } from './common.js';
import type { Variant } from './trainer.js';

/** What a run trains with: a run continues a checkpoint only when all of it is the same. */
export interface RunSettings {
  variant: Variant;
  lr: number;
  /** Momentum coefficient (momentum variant only). */
  momentum?: number;
  seed: number;
  batchSize: number;
  loss?: LossSpec;
}

/** A run's state after `steps` optimizer steps. In memory only; its owner disposes it. */
export interface RunCheckpoint extends RunSettings {
  /** Mini-batches trained (optimizer steps, skipped ones included). */
  steps: number;
  /** Copies of `model.weights` (batch-norm statistics included). */
  weights: tf.Tensor[];
  /** Copies of the optimizer's `getWeights()`: slots, counters and call count (which seeds the dropout masks). */
  optimizer: NamedTensor[];
  /** Mean training loss of each finished epoch, entry 0 NaN (as a curve's `trainLoss`). */
  trainLoss: number[];
  /** The unfinished epoch's training losses so far: their sum (added in order) and number. */
  partial: { sum: number; batches: number };
  /** Held-out evaluation before training and after each finished epoch (as a curve's). */
  evals: Evaluation[];
}

/** The settings of a diagnostic run as a checkpoint records them (momentum only for the momentum variant). */
export function runSettings(o: {
  variant: Variant;
  lr: number;
  momentum?: number;
  seed?: number;
  batchSize?: number;
  loss?: LossSpec;
}): RunSettings {
  return {
    variant: o.variant,
    lr: o.lr,
    ...(o.variant === 'momentum' ? { momentum: o.momentum ?? 0.9 } : {}),
    seed: o.seed ?? 0,
    batchSize: o.batchSize ?? 64,
    ...(o.loss !== undefined ? { loss: o.loss } : {}),
  };
}

/** Copies the model's weights and the optimizer's state (the live state is left untouched). */
export async function takeCheckpoint(
  model: tf.LayersModel,
  opt: LrfreeOptimizer,
  settings: RunSettings,
  progress: Pick<RunCheckpoint, 'steps' | 'trainLoss' | 'partial' | 'evals'>,
): Promise<RunCheckpoint> {
  const live = await opt.getWeights();
  const optimizer = live.map((w) => ({ name: w.name, tensor: tf.keep(w.tensor.clone()) }));
  // getWeights makes its first (step count) and last (encoded scalar state) entries afresh; the rest
  // are the optimizer's own slots.
  tf.dispose([live[0].tensor, live[live.length - 1].tensor]);
  return {
    ...settings,
    steps: progress.steps,
    weights: model.weights.map((w) => tf.keep(w.read().clone())),
    optimizer,
    trainLoss: [...progress.trainLoss],
    partial: { ...progress.partial },
    evals: progress.evals.map((e) => ({ ...e })),
  };
}

/** Frees a checkpoint's tensors. */
export function disposeCheckpoint(c: RunCheckpoint | undefined): void {
  if (c) tf.dispose([...c.weights, ...c.optimizer.map((w) => w.tensor)]);
}

/**
 * True when a run with `settings` for `epochs` epochs of `stepsPerEpoch` steps (with `schedule`, if any)
 * would repeat the checkpoint's steps exactly: same settings, the checkpoint within the run, and the
 * schedule's factor exactly 1 on every step up to it (so the rates were the same).
 */
export function continues(
  c: RunCheckpoint,
  settings: RunSettings,
  run: { epochs: number; stepsPerEpoch: number; schedule?: Schedule },
): boolean {
  const same =
    c.variant === settings.variant &&
    c.lr === settings.lr &&
    c.momentum === settings.momentum &&
    c.seed === settings.seed &&
    c.batchSize === settings.batchSize &&
    c.loss === settings.loss;
  if (!same || c.steps > run.epochs * run.stepsPerEpoch) return false;
  if (c.trainLoss.length - 1 !== Math.floor(c.steps / run.stepsPerEpoch)) return false;
  for (let step = 1; step <= c.steps; step++)
    if (run.schedule && run.schedule.multiplier(step, run.stepsPerEpoch) !== 1) return false;
  return true;
}

/** Puts the checkpoint's weights into the model and its state into a new optimizer of the same run. */
export async function restoreCheckpoint(
  model: tf.LayersModel,
  opt: LrfreeOptimizer,
  c: RunCheckpoint,
): Promise<void> {
  model.weights.forEach((w, i) => {
    (w.read() as tf.Variable).assign(c.weights[i]);
  });
  await opt.setWeights(c.optimizer);
}
