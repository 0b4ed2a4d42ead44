/**
 * Short training runs that the checks compare (steps 3-6 of the procedure): train a copy of the
 * current weights for a few epochs with a given optimizer and schedule, record the held-out loss and
 * accuracy per epoch, and restore the model.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Schedule } from '../core/schedule.js';
import { checkNumber, LrfreeConfigError } from '../core/validate.js';
import {
  continues,
  type RunCheckpoint,
  restoreCheckpoint,
  runSettings,
  takeCheckpoint,
} from './checkpoint.js';
import { type DiagnosticData, type Evaluation, evaluate, type LossSpec, preservingModel } from './common.js';
import { batchesPerEpoch, diagnosticOptimizer, runEpoch, type Variant } from './trainer.js';

/** Per-epoch record of a run; entry 0 is the model before training. */
export interface Curve {
  variant: Variant;
  lr: number;
  momentum?: number;
  /** Name of the schedule, when one was used. */
  schedule?: string;
  epochs: number[];
  /** Mean training loss of each epoch (NaN at entry 0). */
  trainLoss: number[];
  /** Held-out loss (validation split, else the training split) after each epoch. */
  loss: number[];
  accuracy?: number[];
  /**
   * Lowest held-out loss after training (epochs 1..; the untrained start, entry 0, is not counted: a run
   * that only made the model worse has a best above `loss[0]`). NaN when no trained point is finite.
   */
  best: number;
  /** Mean of ln(loss) over the epochs after 0: lower means faster (the log-loss area of §12.1). */
  logArea: number;
}

/** Options of {@link trainCurve}. */
export interface CurveOptions {
  variant: Variant;
  lr: number;
  /** Momentum coefficient (momentum variant). Default 0.9. */
  momentum?: number;
  schedule?: (stepsPerEpoch: number) => Schedule;
  epochs: number;
  batchSize?: number;
  seed?: number;
  loss?: LossSpec;
  signal?: AbortSignal;
  onEpoch?: (epoch: number, total: number) => void;
  /** Called with the trained model before it is restored (e.g. to copy the final weights). */
  atEnd?: (model: tf.LayersModel) => void;
  /**
   * Continue from this checkpoint of the same run (its first steps are not trained again; the curve is
   * the same); it must satisfy {@link continues}. The caller keeps and disposes it.
   */
  from?: RunCheckpoint;
  /** Receives the run's checkpoint after this many epochs (the receiver disposes it). */
  checkpointAfter?: { epochs: number; keep: (c: RunCheckpoint) => void };
}

/** The held-out split of the diagnostics: validation when given, else the training data. */
export function heldOut(data: DiagnosticData) {
  return data.validation ?? data.train;
}

/** Mean of ln(max(l, 1e-12)) over entries 1.., +Infinity when one is not finite. */
export function logArea(losses: readonly number[]): number {
  const xs = losses.slice(1);
  if (xs.length === 0) return Number.NaN;
  if (xs.some((v) => !Number.isFinite(v))) return Number.POSITIVE_INFINITY;
  return xs.reduce((s, v) => s + Math.log(Math.max(v, 1e-12)), 0) / xs.length;
}

/**
 * Trains for `epochs` epochs from the model's current weights and returns the curve; the model is
 * restored afterwards. Cost: epochs x batches optimizer steps plus one evaluation per epoch.
 *
 * @example
 * ```ts
 * const c = await trainCurve(model, data, { variant: 'sgd', lr: 0.1, epochs: 5 });
 * ```
 */
export async function trainCurve(
  model: tf.LayersModel,
  data: DiagnosticData,
  options: CurveOptions,
): Promise<Curve> {
  const lr = checkNumber('trainCurve', 'lr', options.lr, { min: 0, minExclusive: true });
  const epochs = checkNumber('trainCurve', 'epochs', options.epochs, { min: 1, integer: true });
  const batchSize = options.batchSize ?? 64;
  const spe = batchesPerEpoch(data.train.x.shape[0], batchSize);
  const schedule = options.schedule?.(spe);
  const beta = options.momentum ?? 0.9;
  const split = heldOut(data);
  const settings = runSettings({ ...options, lr, batchSize });
  const from = options.from;
  if (from && !continues(from, settings, { epochs, stepsPerEpoch: spe, schedule })) {
    throw new LrfreeConfigError(
      'trainCurve: the checkpoint in `from` was not made by the first steps of this run (other settings, ' +
        'more steps, or a schedule whose factor is not 1 there).',
    );
  }
  return preservingModel(model, async () => {
    const opt = diagnosticOptimizer(
      options.variant,
      { lr, momentum: beta },
      {
        model,
        schedule,
        stepsPerEpoch: spe,
        seed: options.seed,
      },
    );
    const trainLoss = from ? [...from.trainLoss] : [Number.NaN];
    const evals: Evaluation[] = from ? from.evals.map((e) => ({ ...e })) : [];
    try {
      if (from) await restoreCheckpoint(model, opt, from);
      else evals.push(evaluate(model, split, options.loss));
      for (let e = trainLoss.length - 1; e < epochs; e++) {
        // A continued partial epoch adds its losses to the checkpoint's sum in the same order as one
        // uninterrupted epoch would, so its mean is the same number.
        const resumed = from && e === from.trainLoss.length - 1 ? from.partial : { sum: 0, batches: 0 };
        let sum = resumed.sum;
        let batches = resumed.batches;
        await runEpoch(model, data.train, opt, {
          batchSize,
          seed: settings.seed,
          epoch: e,
          firstBatch: resumed.batches,
          loss: options.loss,
          signal: options.signal,
          afterBatch: (_, l) => {
            sum += l;
            batches += 1;
            return undefined;
          },
        });
        trainLoss.push(batches > 0 ? sum / batches : Number.NaN);
        evals.push(evaluate(model, split, options.loss));
        options.onEpoch?.(e + 1, epochs);
        if (options.checkpointAfter?.epochs === e + 1) {
          options.checkpointAfter.keep(
            await takeCheckpoint(model, opt, settings, {
              steps: (e + 1) * spe,
              trainLoss,
              partial: { sum: 0, batches: 0 },
              evals,
            }),
          );
        }
      }
      options.atEnd?.(model);
    } finally {
      opt.dispose();
    }
    const loss = evals.map((e) => e.loss);
    const finite = loss.slice(1).filter((v) => Number.isFinite(v));
    return {
      variant: options.variant,
      lr,
      ...(options.variant === 'momentum' ? { momentum: beta } : {}),
      ...(schedule ? { schedule: schedule.kind } : {}),
      epochs: loss.map((_, i) => i),
      trainLoss,
      loss,
      ...(evals[0].accuracy !== undefined ? { accuracy: evals.map((e) => e.accuracy!) } : {}),
      best: finite.length > 0 ? Math.min(...finite) : Number.NaN,
      logArea: logArea(loss),
    };
  });
}
