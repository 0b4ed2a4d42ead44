/**
 * Short training runs from the current weights with the held-out loss measured a few times (per chunk
 * too, for paired comparisons): what the confirmation of the learning rate and the learning-rate-free
 * comparison are made of.
 */
import type * as tf from '@tensorflow/tfjs';
import { withEvalPoint } from '../core/evalPoint.js';
import type { LrfreeOptimizer } from '../core/optimizer.js';
import { catalogEntry } from '../optimizers/catalog.js';
import { type RunCheckpoint, runSettings, takeCheckpoint } from './checkpoint.js';
import { type ChunkEvaluation, chunkEvaluation } from './chunkEvaluation.js';
import {
  type DataSplit,
  type DiagnosticData,
  type Evaluation,
  evaluate,
  type LossSpec,
  preservingModel,
} from './common.js';
import { heldOut } from './curves.js';
import { fmt } from './format.js';
import { batchesPerEpoch, diagnosticOptimizer, runEpoch, type Variant } from './trainer.js';

// ------------------------------------------------------------------------------------------------
// Short runs with a held-out loss and its noise

/** A short training run: held-out loss at a few points, the best one, and its per-chunk losses. */
export interface ShortRun {
  /** `sgd@0.1`, `salsa`, ... */
  name: string;
  variant?: Variant;
  lr?: number;
  steps: number;
  /** Steps after which the held-out loss was measured (0 = before training). */
  at: number[];
  loss: number[];
  accuracy?: number[];
  /**
   * Lowest held-out loss after training started (the untrained start, `loss[0]`, is not counted); NaN
   * when none is finite.
   */
  best: number;
  /** Accuracy at the best point. */
  bestAccuracy?: number;
  /**
   * Held-out loss of each chunk of the held-out split at the best point (for paired noise estimates);
   * empty when no trained point is finite.
   */
  chunks: number[];
  /** Held-out loss of each chunk before training. */
  chunks0: number[];
  forwards: number;
  backwards: number;
  ms: number;
}

/** Loss of each of `k` equal chunks of a split (the last takes the remainder). */
export function chunkLosses(model: tf.LayersModel, split: DataSplit, loss?: LossSpec, k = 10): number[] {
  return chunkEvaluation(model, split, loss, k).chunks;
}

/** What a short run trains with: one of the diagnostics' variants at a rate, or a catalog optimizer. */
export type RunSpec = { variant: Variant; lr: number; momentum?: number } | { catalog: string };

/** Options of {@link shortRun}. */
export interface ShortRunOptions {
  steps: number;
  /** Held-out evaluations after training starts (evenly spaced, the last at the end). Default 4. */
  evaluations?: number;
  batchSize: number;
  seed: number;
  loss?: LossSpec;
  signal?: AbortSignal;
  /**
   * Called with each held-out measurement: returning true ends the run there (its answer is already
   * decided, e.g. a learning-rate-free method that has matched the tuned rate).
   */
  decided?: (e: ChunkEvaluation) => boolean;
  /**
   * Checkpoints of the run (variant specs only) after the given epochs and at its end when it trained all
   * its steps, for a longer run with the same settings to continue (see ./checkpoint.ts). The receiver
   * disposes them. Costs a held-out `evaluate` before training and after each finished epoch (what a
   * curve records).
   */
  checkpoints?: { afterEpochs: number[]; atEnd: boolean; keep: (c: RunCheckpoint) => void };
}

function specName(spec: RunSpec): string {
  return 'catalog' in spec ? spec.catalog : `${spec.variant}@${fmt(spec.lr)}`;
}

/**
 * Trains `steps` mini-batches from the current weights with `spec`, measuring the held-out loss (per
 * chunk too) `evaluations` times (at the method's evaluation point, e.g. Schedule-Free's x); restores
 * the model. Stops early when the training loss is not finite.
 */
export async function shortRun(
  model: tf.LayersModel,
  data: DiagnosticData,
  spec: RunSpec,
  options: ShortRunOptions,
): Promise<ShortRun> {
  const split = heldOut(data);
  const spe = batchesPerEpoch(data.train.x.shape[0], options.batchSize);
  const t0 = performance.now();
  return preservingModel(model, async () => {
    const opt: LrfreeOptimizer =
      'catalog' in spec
        ? catalogEntry(spec.catalog)
            .make({ stepsPerEpoch: spe, totalSteps: options.steps, seed: options.seed })
            .attachModel(model)
        : diagnosticOptimizer(
            spec.variant,
            { lr: spec.lr, momentum: 'momentum' in spec ? (spec.momentum ?? 0.9) : 0.9 },
            { model, seed: options.seed },
          );
    const evals = Math.max(1, options.evaluations ?? 4);
    const marks = Array.from({ length: evals }, (_, i) =>
      Math.max(1, Math.round(((i + 1) * options.steps) / evals)),
    );
    const e0 = chunkEvaluation(model, split, options.loss);
    const chunks0 = e0.chunks;
    const at = [0];
    const loss = [e0.loss];
    const acc = e0.accuracy === undefined ? undefined : [e0.accuracy];
    let bestChunks: number[] = [];
    let best = Number.POSITIVE_INFINITY;
    let bestAcc: number | undefined;
    let done = 0;
    let broken = false;
    let stop = false;
    const measure = () =>
      withEvalPoint(opt, { model, trainX: data.train.x, batchSize: options.batchSize }, () => {
        const e = chunkEvaluation(model, split, options.loss);
        at.push(done);
        loss.push(e.loss);
        if (acc && e.accuracy !== undefined) acc.push(e.accuracy);
        if (Number.isFinite(e.loss) && e.loss < best) {
          best = e.loss;
          bestAcc = e.accuracy;
          bestChunks = e.chunks;
        }
        if (options.decided?.(e)) stop = true;
      });
    // What a checkpoint records (as trainCurve would): held-out evaluations at the epoch ends, the
    // mean training loss of each finished epoch and the running sum of the unfinished one.
    const keeping = 'catalog' in spec ? undefined : options.checkpoints;
    const settings = 'catalog' in spec ? undefined : runSettings({ ...spec, ...options });
    const trainLoss = [Number.NaN];
    const epochEvals: Evaluation[] = keeping ? [evaluate(model, split, options.loss)] : [];
    let partial = { sum: 0, batches: 0 };
    const keep = async () =>
      keeping?.keep(
        await takeCheckpoint(model, opt, settings!, { steps: done, trainLoss, partial, evals: epochEvals }),
      );
    try {
      for (let epoch = 0; done < options.steps && !broken && !stop; epoch++) {
        partial = { sum: 0, batches: 0 };
        const r = await runEpoch(model, data.train, opt, {
          batchSize: options.batchSize,
          seed: options.seed,
          epoch,
          loss: options.loss,
          signal: options.signal,
          maxBatches: options.steps - done,
          afterBatch: (_, l) => {
            done += 1;
            partial.sum += l;
            partial.batches += 1;
            if (!Number.isFinite(l)) {
              broken = true;
              return false;
            }
            if (marks.includes(done)) measure();
            return done < options.steps && !stop;
          },
        });
        if (keeping && !broken && r.batches === spe && partial.batches === spe) {
          trainLoss.push(r.meanLoss);
          epochEvals.push(evaluate(model, split, options.loss));
          partial = { sum: 0, batches: 0 };
          if (keeping.afterEpochs.includes(epoch + 1)) await keep();
        }
      }
      if (keeping?.atEnd && !broken && !stop && done === options.steps) await keep();
      if (broken) {
        at.push(done);
        loss.push(Number.NaN);
        acc?.push(Number.NaN);
      }
    } finally {
      opt.dispose();
    }
    return {
      name: specName(spec),
      ...('catalog' in spec ? {} : { variant: spec.variant, lr: spec.lr }),
      steps: done,
      at,
      loss,
      ...(acc ? { accuracy: acc } : {}),
      best: Number.isFinite(best) ? best : Number.NaN,
      ...(bestAcc !== undefined ? { bestAccuracy: bestAcc } : {}),
      chunks: bestChunks,
      chunks0,
      forwards: opt.counters.forwards,
      backwards: opt.counters.backwards,
      ms: performance.now() - t0,
    };
  });
}
