/** Trains a tiny MLP with an lrfree optimizer and returns its `report()` (tests of the run reports). */
import * as tf from '@tensorflow/tfjs';
import { expect, vi } from 'vitest';
import { modelVariables } from '../../src/core/params.js';
import { tinyMlp, toyClassification } from './tf.js';

/** What the helper needs of an optimizer. */
interface Reporting<R> {
  minimize: tf.Optimizer['minimize'];
  report(): R;
  dispose(): void;
}

/**
 * `steps` steps of a 5-12-3 MLP on 64 rows in `batches` mini-batches taken in turn (1: full batch); the
 * steps in `poison` (1-based) see NaN inputs, `zeroInputs` makes every input 0 (nothing to learn but the
 * class shares). Checks that `report()` makes no tensor, frees everything and returns the report.
 */
export function reportAfterTraining<R>(
  make: () => Reporting<R>,
  steps: number,
  options: { batches?: number; poison?: number[]; zeroInputs?: boolean } = {},
): R {
  const batches = options.batches ?? 4;
  const model = tinyMlp(5, 12, 3, { logits: true });
  const { x, y } = toyClassification(64, 5, 3, 11);
  const opt = make();
  const vars = modelVariables(model);
  const rows = 64 / batches;
  const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
  for (let s = 0; s < steps; s++) {
    const b = s % batches;
    const poisoned = options.poison?.includes(s + 1) ?? false;
    opt.minimize(
      () =>
        tf.tidy(() => {
          const xb = options.zeroInputs ? tf.zeros([rows, 5]) : x.slice(b * rows, rows);
          const inputs = poisoned ? tf.mul(xb, Number.NaN) : xb;
          return tf.losses.softmaxCrossEntropy(
            y.slice(b * rows, rows),
            model.apply(inputs, { training: true }) as tf.Tensor,
          ) as tf.Scalar;
        }),
      false,
      vars,
    );
  }
  warn.mockRestore();
  const before = tf.memory().numTensors;
  const report = opt.report();
  expect(tf.memory().numTensors).toBe(before);
  tf.dispose([x, y]);
  model.dispose();
  opt.dispose();
  return report;
}
