/**
 * AlraoModel.fit: epochs of shuffled mini-batches through lrfree's one training loop (core/loop.ts), with
 * validation, Keras-style callbacks, a history and a progress bar. The model is reached through the small
 * {@link FitTarget} interface (this file does not import the model: no import cycle).
 */
import * as tf from '@tensorflow/tfjs';
import { gatherRows, runTrainingLoop } from '../core/loop.js';
import type { LrfreeOptimizer } from '../core/optimizer.js';
import { logLine } from '../core/platform.js';
import { deriveSeed, mulberry32 } from '../core/rng.js';
import { checkKnownKeys, checkNumber } from '../core/validate.js';
import { progressBar } from './progressBar.js';

/** Logs passed to callbacks and kept in the history: numbers only. */
export type AlraoLogs = Record<string, number>;

/** Callbacks of AlraoModel.fit, like TF.js's CustomCallbackArgs (all optional, may be async). */
export interface AlraoCallbacks {
  onTrainBegin?: (logs?: AlraoLogs) => void | Promise<void>;
  onTrainEnd?: (logs?: AlraoLogs) => void | Promise<void>;
  onEpochBegin?: (epoch: number, logs?: AlraoLogs) => void | Promise<void>;
  onEpochEnd?: (epoch: number, logs?: AlraoLogs) => void | Promise<void>;
  onBatchBegin?: (batch: number, logs?: AlraoLogs) => void | Promise<void>;
  onBatchEnd?: (batch: number, logs?: AlraoLogs) => void | Promise<void>;
  /** TF.js callbacks (e.g. tf.callbacks.earlyStopping) get the Alrao model here. */
  setModel?: (model: unknown) => void;
  setParams?: (params: Record<string, unknown>) => void;
}

/** Options of AlraoModel.fit. */
export interface AlraoFitArgs {
  /** Default 1. */
  epochs?: number;
  /** Default 32. */
  batchSize?: number;
  /** Shuffle every epoch (seeded from the model's seed and the epoch). Default true. */
  shuffle?: boolean;
  /** Evaluated at the end of every epoch: `val_loss`, `val_acc` (or `val_mse`). */
  validationData?: [tf.Tensor, tf.Tensor];
  /** 1 (default): a progress bar per epoch on the terminal; 0: silent. */
  verbose?: 0 | 1;
  callbacks?: AlraoCallbacks | AlraoCallbacks[];
  /** Epoch to start from (for resumed training). Default 0. */
  initialEpoch?: number;
}

/** What AlraoModel.fit returns, like tf.History. */
export interface AlraoHistory {
  epoch: number[];
  history: Record<string, number[]>;
}

/** What fit needs of the model. */
export interface FitTarget {
  readonly seed: number;
  stopTraining: boolean;
  readonly skipped: number;
  readonly preClassifierOptimizer: Pick<LrfreeOptimizer, 'fitRunBegin' | 'fitRunEnd'>;
  /** Throws when a label is invalid (every value checked once, before training). */
  checkLabels(y: tf.Tensor, n: number): void;
  /** One step on a batch whose labels were checked; returns the mixture loss (NaN when skipped). */
  trainCheckedBatch(x: tf.Tensor, y: tf.Tensor): number;
  evaluate(x: tf.Tensor, y: tf.Tensor, options: { batchSize?: number }): AlraoLogs;
  /** Index of the head with the largest posterior. */
  bestHead(): number;
}

/**
 * Trains `model` for `epochs` over (x, y) in mini-batches, with validation, callbacks and a progress bar,
 * like LayersModel.fit.
 */
export async function fitAlrao(
  model: FitTarget,
  x: tf.Tensor,
  y: tf.Tensor,
  args: AlraoFitArgs = {},
): Promise<AlraoHistory> {
  const where = 'AlraoModel.fit';
  checkKnownKeys(where, args, [
    'epochs',
    'batchSize',
    'shuffle',
    'validationData',
    'verbose',
    'callbacks',
    'initialEpoch',
  ]);
  const epochs = checkNumber(where, 'epochs', args.epochs ?? 1, { min: 1, integer: true });
  const batchSize = checkNumber(where, 'batchSize', args.batchSize ?? 32, { min: 1, integer: true });
  const initialEpoch = checkNumber(where, 'initialEpoch', args.initialEpoch ?? 0, {
    min: 0,
    integer: true,
  });
  const n = x.shape[0];
  model.checkLabels(y, n);
  if (args.validationData) model.checkLabels(args.validationData[1], args.validationData[0].shape[0]);
  const callbacks = args.callbacks ? (Array.isArray(args.callbacks) ? args.callbacks : [args.callbacks]) : [];
  const steps = Math.ceil(n / batchSize);
  const verbose = args.verbose ?? 1;
  for (const cb of callbacks) {
    cb.setModel?.(model);
    cb.setParams?.({ epochs, steps, batchSize, samples: n, verbose });
  }
  const bar = verbose === 1 ? await progressBar() : undefined;
  const history: AlraoHistory = { epoch: [], history: {} };
  model.stopTraining = false;
  // Skipped steps (bad data) are reported once, with their count, when the run ends.
  let running = true;
  model.preClassifierOptimizer.fitRunBegin(steps, () => running);
  let order: tf.Tensor1D | undefined;
  try {
    for (const cb of callbacks) await cb.onTrainBegin?.({});
    await runTrainingLoop({
      steps: Math.max(0, epochs - initialEpoch) * steps,
      batchesPerEpoch: steps,
      initialEpoch,
      yieldEvery: 1,
      shouldStop: () => model.stopTraining,
      onEpochBegin: async (epoch) => {
        for (const cb of callbacks) await cb.onEpochBegin?.(epoch, {});
        const indices = Array.from({ length: n }, (_, i) => i);
        if (args.shuffle ?? true) shuffleInPlace(indices, deriveSeed(model.seed, 0x5f1e, epoch));
        order = tf.tensor1d(indices, 'int32');
        bar?.start(steps, 0, { epoch: epoch + 1, epochs, loss: 'n/a' });
      },
      beforeStep: async ({ batch }) => {
        for (const cb of callbacks) await cb.onBatchBegin?.(batch, { batch, size: batchSize });
      },
      batch: ({ batch }) => {
        const start = batch * batchSize;
        return gatherRows(x, y, order!, start, Math.min(batchSize, n - start));
      },
      trainStep: (b) => model.trainCheckedBatch(b.x, b.y),
      afterStep: async ({ epoch, batch, loss }) => {
        bar?.update(batch + 1, { epoch: epoch + 1, epochs, loss: loss.toFixed(4) });
        for (const cb of callbacks) await cb.onBatchEnd?.(batch, { batch, size: batchSize, loss });
        return undefined;
      },
      onEpochEnd: async ({ epoch, meanFiniteLoss }) => {
        order?.dispose();
        order = undefined;
        bar?.stop();
        const logs: AlraoLogs = { loss: meanFiniteLoss };
        if (args.validationData) {
          const v = model.evaluate(args.validationData[0], args.validationData[1], { batchSize });
          for (const [k, value] of Object.entries(v)) logs[`val_${k}`] = value;
        }
        logs.skipped = model.skipped;
        logs.bestHead = model.bestHead();
        history.epoch.push(epoch);
        for (const [k, value] of Object.entries(logs)) {
          history.history[k] = [...(history.history[k] ?? []), value];
        }
        if (verbose === 1) {
          const parts = Object.entries(logs).map(
            ([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toFixed(4)}`,
          );
          logLine(`epoch ${epoch + 1}/${epochs}: ${parts.join(' ')}`);
        }
        for (const cb of callbacks) await cb.onEpochEnd?.(epoch, logs);
      },
    });
    for (const cb of callbacks) await cb.onTrainEnd?.({});
  } finally {
    order?.dispose();
    running = false;
    model.preClassifierOptimizer.fitRunEnd();
  }
  return history;
}

function shuffleInPlace(a: number[], seed: number): void {
  const r = mulberry32(seed);
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
}
