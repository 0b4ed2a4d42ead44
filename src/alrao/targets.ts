/** Alrao's labels and targets: checked, and turned into the float [n, classes] tensor the heads score. */
import * as tf from '@tensorflow/tfjs';
import { LrfreeConfigError } from '../core/validate.js';
import type { AlraoTask } from './heads.js';

/**
 * Labels as a float [n, classes] tensor: one-hot (or probability) labels [n, classes] or integer labels
 * [n] / [n, 1] (classification), targets [n, classes] (regression). `check` validates every value (one
 * read-back).
 */
export function alraoTargets(
  y: tf.Tensor,
  n: number,
  classes: number,
  task: AlraoTask,
  check: boolean,
): tf.Tensor2D {
  const where = 'alrao';
  if (y.shape[0] !== n) {
    throw new LrfreeConfigError(`${where}: got ${y.shape[0]} labels for ${n} examples.`);
  }
  if (task === 'regression') {
    if (y.shape.length !== 2 || y.shape[1] !== classes) {
      throw new LrfreeConfigError(
        `${where}: regression targets must be [batch, ${classes}]; got ${JSON.stringify(y.shape)}.`,
      );
    }
    return tf.cast(y, 'float32') as tf.Tensor2D;
  }
  const sparse = y.shape.length === 1 || (y.shape.length === 2 && y.shape[1] === 1 && classes !== 1);
  if (sparse) {
    if (check) {
      const values = y.dataSync();
      const bad = values.findIndex((v) => !Number.isInteger(v) || v < 0 || v >= classes);
      if (bad >= 0) {
        throw new LrfreeConfigError(
          `${where}: label ${values[bad]} at index ${bad} is out of range; integer labels must be in [0, ${classes - 1}].`,
        );
      }
    }
    return tf.tidy(() => tf.oneHot(tf.cast(tf.reshape(y, [n]), 'int32'), classes).toFloat() as tf.Tensor2D);
  }
  if (y.shape.length !== 2 || y.shape[1] !== classes) {
    throw new LrfreeConfigError(
      `${where}: labels must be integers [batch] or one-hot [batch, ${classes}]; got shape ${JSON.stringify(y.shape)}.`,
    );
  }
  if (check) {
    const values = y.dataSync();
    const bad = values.findIndex((v) => !(v >= 0 && v <= 1));
    if (bad >= 0) {
      throw new LrfreeConfigError(
        `${where}: one-hot label value ${values[bad]} at flat index ${bad} is out of range; values must be in [0, 1].`,
      );
    }
  }
  return tf.cast(y, 'float32') as tf.Tensor2D;
}
