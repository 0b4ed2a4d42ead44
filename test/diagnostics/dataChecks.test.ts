import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { lossRewardsRightAnswers, nearestMeanAccuracy } from '../../src/diagnostics/dataChecks.js';
import { chanceFlag, mismatchFlag } from '../../src/diagnostics/redFlags.js';
import { permutation } from '../../src/train/classification.js';
import { toyClassification, useBackend } from '../helpers/tf.js';

beforeAll(async () => {
  await useBackend('cpu');
});

/** 600 training and 400 held-out rows of a linear teacher, features scaled by 10^[-2, 2] per column. */
function badlyScaled(seed: number) {
  const all = toyClassification(1000, 8, 3, seed);
  const scales = tf.tensor1d([1e-2, 1e2, 1, 10, 0.1, 100, 0.01, 3]);
  const x = tf.mul(all.x, scales);
  const [xt, xv] = tf.split(x, [600, 400]);
  const [yt, yv] = tf.split(all.y, [600, 400]);
  tf.dispose([all.x, all.y, x, scales]);
  return { train: { x: xt, y: yt }, validation: { x: xv, y: yv } };
}

describe('optimizer-free checks before a flag blames the data', () => {
  it('nearest class mean on standardised inputs: far above chance on clean labels, at chance on shuffled ones', () => {
    const d = badlyScaled(1);
    const n0 = tf.memory().numTensors;
    const clean = nearestMeanAccuracy(d.train, d.validation);
    const shuffle = (y: tf.Tensor, seed: number) =>
      tf.tidy(() => tf.gather(y, tf.tensor1d(permutation(y.shape[0], seed), 'int32')));
    const ys = shuffle(d.train.y, 3);
    const yv = shuffle(d.validation.y, 4);
    const shuffled = nearestMeanAccuracy({ x: d.train.x, y: ys }, { x: d.validation.x, y: yv });
    const majority = tf.tidy(() => tf.max(tf.mean(d.validation.y, 0)).dataSync()[0]);
    expect(clean).toBeGreaterThan(majority + 0.2);
    expect(shuffled).toBeLessThan(majority + 0.08);
    tf.dispose([ys, yv]);
    expect(tf.memory().numTensors).toBe(n0);
    expect(Number.isNaN(nearestMeanAccuracy({ x: d.train.x, y: tf.zeros([600, 1]) }, d.validation))).toBe(
      true,
    );
  });

  it('a loss with a sign bug rates perfect predictions worse than the class shares; a sound one does not', () => {
    const d = badlyScaled(2);
    const sound = lossRewardsRightAnswers(d.validation, 'categoricalCrossentropy');
    expect(sound.rewards).toBe(true);
    expect(sound.perfect).toBeLessThan(1e-3);
    expect(sound.shares).toBeGreaterThan(0.5);
    const bug = lossRewardsRightAnswers(d.validation, (y, p) =>
      tf.neg(tf.metrics.categoricalCrossentropy(y, p)),
    );
    expect(bug.rewards).toBe(false);
    expect(lossRewardsRightAnswers(d.validation, 'meanSquaredError').rewards).toBe(true);
  });

  it('the flags use them: signal in the labels turns chanceAccuracy into slowToLearn; a sound loss clears lossAccuracyMismatch', () => {
    const curve = { variant: 'sgd', lr: 0.01, loss: [8, 1.4], accuracy: [0.41, 0.3] } as Parameters<
      typeof chanceFlag
    >[0];
    expect(chanceFlag(curve, 0.4, 750, [])?.id).toBe('chanceAccuracy');
    const slow = chanceFlag(curve, 0.4, 750, [], undefined, 0.62);
    expect(slow?.id).toBe('slowToLearn');
    expect(slow?.severity).toBe('warning');
    expect(slow?.action).toMatch(/Standardise/);
    // a classifier at chance too: still the labels
    expect(chanceFlag(curve, 0.4, 750, [], undefined, 0.41)?.id).toBe('chanceAccuracy');
    expect(mismatchFlag(curve, 0.4, 750)?.id).toBe('lossAccuracyMismatch');
    expect(mismatchFlag(curve, 0.4, 750, false)?.id).toBe('lossAccuracyMismatch');
    expect(mismatchFlag(curve, 0.4, 750, true)).toBeUndefined();
  });
});
