import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  continues,
  disposeCheckpoint,
  type RunCheckpoint,
  runSettings,
} from '../../src/diagnostics/checkpoint.js';
import { decayCheck } from '../../src/diagnostics/checks.js';
import { trainCurve } from '../../src/diagnostics/curves.js';
import { shortRun } from '../../src/diagnostics/shortRun.js';
import { cyclical } from '../../src/schedules/cyclical.js';
import { powerDecay } from '../../src/schedules/powerDecay.js';
import { bitEqual, snapshotWeights, tinyMlp, toyClassification, useBackend } from '../helpers/tf.js';

beforeAll(async () => {
  await useBackend('cpu');
});

/** 300 training rows in batches of 32: 10 batches per epoch (the last one short); BatchNorm and Dropout. */
function problem() {
  const all = toyClassification(400, 6, 3, 21);
  const split = (start: number, size: number) => ({
    x: all.x.slice([start, 0], [size, -1]),
    y: all.y.slice([start, 0], [size, -1]),
  });
  const data = { train: split(0, 300), validation: split(300, 100) };
  tf.dispose([all.x, all.y]);
  const model = tinyMlp(6, 16, 3, { bn: true, dropout: 0.3 });
  const dispose = () => {
    model.dispose();
    tf.dispose([data.train.x, data.train.y, data.validation.x, data.validation.y]);
  };
  return { data, model, dispose };
}

describe('run checkpoints: a run continued from an earlier run of the same settings is that run', () => {
  it('trainCurve continued from a short run stopped inside its second epoch: the same curve and weights; no tensor left', async () => {
    const { data, model, dispose } = problem();
    const before = tf.memory().numTensors;
    const run = { variant: 'sgd' as const, lr: 0.3, batchSize: 32, seed: 5 };
    let wholeEnd: Float32Array[] = [];
    const whole = await trainCurve(model, data, {
      ...run,
      epochs: 3,
      atEnd: (m) => (wholeEnd = snapshotWeights(m)),
    });
    const kept: RunCheckpoint[] = [];
    const short = await shortRun(
      model,
      data,
      { variant: 'sgd', lr: 0.3 },
      {
        steps: 14,
        batchSize: 32,
        seed: 5,
        checkpoints: { afterEpochs: [1], atEnd: true, keep: (c) => kept.push(c) },
      },
    );
    expect(short.steps).toBe(14);
    expect(kept.map((c) => c.steps)).toEqual([10, 14]);
    expect(kept[1].partial.batches).toBe(4);
    let continuedEnd: Float32Array[] = [];
    const continued = await trainCurve(model, data, {
      ...run,
      epochs: 3,
      from: kept[1],
      atEnd: (m) => (continuedEnd = snapshotWeights(m)),
    });
    expect(continued).toEqual(whole);
    expect(bitEqual(continuedEnd, wholeEnd)).toBe(true);
    // The checkpoint after the first epoch holds the curve's first entries.
    expect(kept[0].evals.map((e) => e.loss)).toEqual(whole.loss.slice(0, 2));
    expect(kept[0].trainLoss).toEqual(whole.trainLoss.slice(0, 2));
    kept.forEach(disposeCheckpoint);
    expect(tf.memory().numTensors).toBe(before);
    dispose();
  });

  it('decayCheck continues the constant momentum run after its first epoch (factor 1 there): the same result', async () => {
    const { data, model, dispose } = problem();
    const before = tf.memory().numTensors;
    const run = { variant: 'momentum' as const, lr: 0.1, momentum: 0.8, batchSize: 32, seed: 2 };
    let first: RunCheckpoint | undefined;
    const constant = await trainCurve(model, data, {
      ...run,
      epochs: 4,
      checkpointAfter: { epochs: 1, keep: (c) => (first = c) },
    });
    expect(first?.steps).toBe(10);
    // Progress ticks once per epoch trained: 4 for the decay run from the start, 3 when it continues.
    const ticks = [0, 0];
    const plain = await decayCheck(model, data, {
      ...run,
      epochs: 4,
      constant,
      onProgress: () => ticks[0]++,
    });
    const continued = await decayCheck(model, data, {
      ...run,
      epochs: 4,
      constant,
      constantStart: first,
      onProgress: () => ticks[1]++,
    });
    expect(ticks).toEqual([4, 3]);
    expect(continued).toEqual(plain);
    expect(continued.scheduled.loss[1]).toBe(constant.loss[1]);
    expect(continued.scheduled.loss[2]).not.toBe(constant.loss[2]);
    disposeCheckpoint(first);
    expect(tf.memory().numTensors).toBe(before);
    dispose();
  });

  it('continues: only the same settings, within the run, and a schedule at factor 1 up to the checkpoint', async () => {
    const { data, model, dispose } = problem();
    const settings = runSettings({ variant: 'sgd', lr: 0.3, batchSize: 32, seed: 5 });
    let first: RunCheckpoint | undefined;
    await trainCurve(model, data, {
      ...settings,
      epochs: 2,
      checkpointAfter: { epochs: 1, keep: (c) => (first = c) },
    });
    const c = first!;
    const run = { epochs: 3, stepsPerEpoch: 10 };
    expect(continues(c, settings, run)).toBe(true);
    expect(continues(c, { ...settings, lr: 0.1 }, run)).toBe(false);
    expect(continues(c, { ...settings, seed: 6 }, run)).toBe(false);
    expect(continues(c, runSettings({ ...settings, variant: 'momentum', momentum: 0 }), run)).toBe(false);
    expect(continues(c, settings, { epochs: 3, stepsPerEpoch: 5 })).toBe(false);
    expect(
      continues(c, settings, { ...run, schedule: powerDecay({ plateauEpochs: 2, stepsPerEpoch: 10 }) }),
    ).toBe(true);
    expect(
      continues(c, settings, {
        ...run,
        schedule: cyclical({ periodEpochs: 2, shape: 'sawtooth', low: 0.5, high: 2, stepsPerEpoch: 10 }),
      }),
    ).toBe(false);
    await expect(trainCurve(model, data, { ...settings, lr: 0.1, epochs: 2, from: c })).rejects.toThrow(
      /not made by the first steps of this run/,
    );
    disposeCheckpoint(c);
    dispose();
  });
});
