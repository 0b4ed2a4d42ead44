/**
 * core/loop.ts, the one training loop: step/epoch numbering, epoch summaries (mean loss and mean finite
 * loss), the divergence guard, stops from afterStep and shouldStop (the open epoch still ends), cost
 * accounting, batches released, and gatherRows.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type EpochSummary,
  gatherRows,
  type LoopBatch,
  runTrainingLoop,
  type StepAt,
  type StepRecord,
  type TrainingLoopOptions,
} from '../src/core/loop.js';
import { useBackend } from './helpers/tf.js';

beforeAll(() => useBackend('cpu'));

type Batch = LoopBatch & { at: StepAt };

/** A loop whose step k returns losses[k]; records what it saw. */
async function run(losses: number[], options: Partial<TrainingLoopOptions<Batch>> = {}) {
  const steps: StepRecord[] = [];
  const epochs: EpochSummary[] = [];
  let released = 0;
  const result = await runTrainingLoop<Batch>({
    steps: losses.length,
    batch: (at) => ({
      at,
      release: () => {
        released += 1;
      },
    }),
    trainStep: (b) => losses[b.at.step],
    stepCost: () => 4,
    afterStep: (r) => {
      steps.push(r);
      return undefined;
    },
    onEpochEnd: (e) => {
      epochs.push(e);
    },
    ...options,
  });
  return { result, steps, epochs, released };
}

describe('runTrainingLoop', () => {
  it('numbers steps and epochs, sums cost, ends every epoch with its means, releases every batch', async () => {
    const { result, steps, epochs, released } = await run([4, 2, Number.NaN, 1, 3], {
      batchesPerEpoch: 2,
      initialEpoch: 3,
    });
    expect(steps.map((s) => [s.step, s.epoch, s.batch, s.done])).toEqual([
      [0, 3, 0, 1],
      [1, 3, 1, 2],
      [2, 4, 0, 3],
      [3, 4, 1, 4],
      [4, 5, 0, 5],
    ]);
    expect(steps.map((s) => s.totalCost)).toEqual([4, 8, 12, 16, 20]);
    expect(epochs.map((e) => e.epoch)).toEqual([3, 4, 5]);
    expect(epochs.map((e) => e.batches)).toEqual([2, 2, 1]);
    expect(epochs[0].meanLoss).toBe(3);
    expect(epochs[1].meanLoss).toBeNaN();
    expect(epochs[1].meanFiniteLoss).toBe(1);
    expect(epochs[2].meanFiniteLoss).toBe(3);
    expect(result).toMatchObject({ steps: 5, cost: 20, diverged: false, stopped: false });
    expect(result.losses).toEqual([4, 2, Number.NaN, 1, 3]);
    expect(released).toBe(5);
  });

  it('the divergence guard ends the run after afterStep of the step that diverged (not finite, or > factor x first)', async () => {
    const a = await run([1, 2, 1001, 3], { divergenceFactor: 1e3 });
    expect(a.result).toMatchObject({ steps: 3, diverged: true, stopped: true });
    expect(a.steps.map((s) => s.diverged)).toEqual([false, false, true]);
    const b = await run([1, 999, 3], { divergenceFactor: 1e3 });
    expect(b.result).toMatchObject({ steps: 3, diverged: false, stopped: false });
    const c = await run([1e-5, 0.9, 1.1], { divergenceFactor: 1e3 }); // the first loss counts as >= 1e-3
    expect(c.result.steps).toBe(3);
    expect(c.result.diverged).toBe(true);
    const d = await run([1, Number.POSITIVE_INFINITY, 1], { divergenceFactor: 1e3 });
    expect(d.result).toMatchObject({ steps: 2, diverged: true });
  });

  it('afterStep false and shouldStop end the run; the open epoch still ends, no new one begins', async () => {
    const begun: number[] = [];
    const stopAt = await run([1, 2, 3, 4, 5, 6], {
      batchesPerEpoch: 4,
      onEpochBegin: (e) => {
        begun.push(e);
      },
      afterStep: (r) => r.done < 2,
    });
    expect(stopAt.result).toMatchObject({ steps: 2, stopped: true });
    expect(stopAt.epochs).toEqual([{ epoch: 0, batches: 2, meanLoss: 1.5, meanFiniteLoss: 1.5 }]);
    expect(begun).toEqual([0]);
    let flag = false;
    const s = await run([1, 2, 3, 4], {
      batchesPerEpoch: 2,
      shouldStop: () => flag,
      onEpochEnd: () => {
        flag = true;
      },
    });
    expect(s.result).toMatchObject({ steps: 2, stopped: true });
  });

  it('gatherRows takes rows order[start, start + size) of x and y and frees them on release', () => {
    const before = tf.memory().numTensors;
    const x = tf.tensor2d([0, 1, 10, 11, 20, 21, 30, 31], [4, 2]);
    const y = tf.tensor1d([0, 1, 2, 3]);
    const order = tf.tensor1d([3, 1, 0, 2], 'int32');
    const b = gatherRows(x, y, order, 1, 2);
    expect(b.x.arraySync()).toEqual([
      [10, 11],
      [0, 1],
    ]);
    expect(b.y.arraySync()).toEqual([1, 0]);
    b.release();
    tf.dispose([x, y, order]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
