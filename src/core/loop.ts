/**
 * The one training loop of lrfree (issue #19 item 5): the classification helper (src/train), the
 * diagnostics' epochs, Alrao's `fit` and the benchmark runners all step through it. It owns what they
 * share: the step/epoch count, timing, cost accounting, the divergence guard, stop requests, epoch
 * summaries and yielding to the event loop. What differs per caller is passed in: how a batch is made, how
 * a step is taken (an optimizer's `minimize`, Alrao's mixture step), what a step costs, and what happens
 * after a step or an epoch (traces, evaluations at the evaluation point, callbacks, progress bars).
 *
 * It lives in core because Alrao (a layer below train and bench) uses it too; it needs only TF.js.
 */
import * as tf from '@tensorflow/tfjs';

/** Where a step is in the run. */
export interface StepAt {
  /** Steps taken before this one (0 for the first step of the run). */
  step: number;
  /** Epoch of the step (from `initialEpoch`). */
  epoch: number;
  /** Index of the batch in its epoch. */
  batch: number;
}

/** One step, as the loop recorded it. */
export interface StepRecord extends StepAt {
  /** Steps taken so far, this one included. */
  done: number;
  /** The step's training loss as `trainStep` returned it (NaN when the step was skipped). */
  loss: number;
  /** The step's cost in forward-equivalents (`stepCost`) and the run's total so far. */
  cost: number;
  totalCost: number;
  /** Wall time of the step (its batch release included, its batch making not) and the run's total, ms. */
  ms: number;
  totalMs: number;
  /** The divergence guard fired on this step: the loop ends after `afterStep`. */
  diverged: boolean;
}

/** What the loop knows of an epoch when it ends (finished or stopped). */
export interface EpochSummary {
  epoch: number;
  /** Steps run in the epoch. */
  batches: number;
  /** Mean loss of the epoch's steps (NaN when one of them was not finite). */
  meanLoss: number;
  /** Mean loss of the epoch's steps with a finite loss (NaN when there is none). */
  meanFiniteLoss: number;
}

/** The batch of one step; `release` frees its tensors after the step. */
export interface LoopBatch {
  release(): void;
}

/** Options of {@link runTrainingLoop}. */
export interface TrainingLoopOptions<B extends LoopBatch> {
  /** Steps to run in all (a step budget, or epochs x batches per epoch). */
  steps: number;
  /** Steps per epoch. Default: `steps` (the run is one epoch). */
  batchesPerEpoch?: number;
  /** Number of the first epoch (resumed training). Default 0. */
  initialEpoch?: number;
  /** Makes the batch of a step (not timed). */
  batch: (at: StepAt) => B;
  /** Takes one training step on the batch; returns its loss (NaN when it was skipped). Timed. */
  trainStep: (batch: B, at: StepAt) => number;
  /** The cost of the step just taken, in forward-equivalents (e.g. forwards + 3 backwards). Default 0. */
  stepCost?: () => number;
  /**
   * Divergence guard: a step whose loss is not finite or above `divergenceFactor` x max(first loss, 1e-3)
   * ends the run. Default: no guard.
   */
  divergenceFactor?: number;
  /** Asked before every step; true ends the run (a stop flag, an abort signal that throws). */
  shouldStop?: () => boolean;
  onEpochBegin?: (epoch: number) => void | Promise<void>;
  /** Called when an epoch ends, also a partial one when the run stops inside it. */
  onEpochEnd?: (summary: EpochSummary) => void | Promise<void>;
  beforeStep?: (at: StepAt) => void | Promise<void>;
  /** Called after every step; `false` ends the run (the current epoch still ends). */
  afterStep?: (record: StepRecord) => boolean | undefined | Promise<boolean | undefined>;
  /** Yield to the event loop (progress output, signals) after every this many steps. Default 25. */
  yieldEvery?: number;
}

/** What a run of the loop did. */
export interface TrainingLoopResult {
  /** Steps taken. */
  steps: number;
  /** Every step's loss and cost, in order. */
  losses: number[];
  costs: number[];
  /** Total cost (forward-equivalents) and total step time, ms. */
  cost: number;
  ms: number;
  /** The divergence guard ended the run. */
  diverged: boolean;
  /** The run ended before `steps` (guard, `afterStep` returning false, or `shouldStop`). */
  stopped: boolean;
}

/**
 * Runs the training loop: for every step, makes its batch, takes the step (timed), counts its cost,
 * applies the divergence guard, calls `afterStep`, and ends epochs with their loss summary.
 */
export async function runTrainingLoop<B extends LoopBatch>(
  o: TrainingLoopOptions<B>,
): Promise<TrainingLoopResult> {
  const perEpoch = o.batchesPerEpoch ?? o.steps;
  const firstEpoch = o.initialEpoch ?? 0;
  const yieldEvery = o.yieldEvery ?? 25;
  const losses: number[] = [];
  const costs: number[] = [];
  let cost = 0;
  let ms = 0;
  let diverged = false;
  let stopped = false;
  let step = 0;
  // The open epoch's running sums.
  let open: { epoch: number; batches: number; sum: number; finiteSum: number; finite: number } | undefined;
  const endEpoch = async () => {
    if (!open) return;
    const e = open;
    open = undefined;
    await o.onEpochEnd?.({
      epoch: e.epoch,
      batches: e.batches,
      meanLoss: e.batches > 0 ? e.sum / e.batches : Number.NaN,
      meanFiniteLoss: e.finite > 0 ? e.finiteSum / e.finite : Number.NaN,
    });
  };
  while (step < o.steps) {
    const at: StepAt = { step, epoch: firstEpoch + Math.floor(step / perEpoch), batch: step % perEpoch };
    if (o.shouldStop?.()) {
      stopped = true;
      break;
    }
    if (!open) {
      await o.onEpochBegin?.(at.epoch);
      open = { epoch: at.epoch, batches: 0, sum: 0, finiteSum: 0, finite: 0 };
      if (o.shouldStop?.()) {
        stopped = true;
        break;
      }
    }
    await o.beforeStep?.(at);
    const batch = o.batch(at);
    const t0 = performance.now();
    let loss: number;
    try {
      loss = o.trainStep(batch, at);
    } finally {
      batch.release();
    }
    const dt = performance.now() - t0;
    ms += dt;
    step += 1;
    const c = o.stepCost?.() ?? 0;
    cost += c;
    losses.push(loss);
    costs.push(c);
    open.batches += 1;
    open.sum += loss;
    if (Number.isFinite(loss)) {
      open.finiteSum += loss;
      open.finite += 1;
    }
    diverged =
      o.divergenceFactor !== undefined &&
      (!Number.isFinite(loss) || loss > o.divergenceFactor * Math.max(losses[0], 1e-3));
    const record: StepRecord = {
      ...at,
      done: step,
      loss,
      cost: c,
      totalCost: cost,
      ms: dt,
      totalMs: ms,
      diverged,
    };
    const keepGoing = await o.afterStep?.(record);
    if (diverged || keepGoing === false) {
      stopped = true;
      break;
    }
    if (at.batch + 1 === perEpoch) await endEpoch();
    if (step % yieldEvery === 0) await tf.nextFrame();
  }
  await endEpoch();
  return { steps: step, losses, costs, cost, ms, diverged, stopped: stopped || step < o.steps };
}

/**
 * The rows `order[start, start + size)` of `x` and `y` (a mini-batch in a shuffled order), as new tensors.
 */
export function gatherRows<X extends tf.Tensor, Y extends tf.Tensor>(
  x: X,
  y: Y,
  order: tf.Tensor1D,
  start: number,
  size: number,
): { x: X; y: Y; release(): void } {
  const [bx, by] = tf.tidy(() => {
    const idx = order.slice(start, size);
    return [tf.gather(x, idx), tf.gather(y, idx)] as [X, Y];
  });
  return { x: bx, y: by, release: () => tf.dispose([bx, by]) };
}
