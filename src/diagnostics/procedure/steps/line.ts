/** Step 1, the initial line search: the loss along a line through the initial weights. */
import * as tf from '@tensorflow/tfjs';
import { trainCurve } from '../../curves.js';
import { trainableValues, weightSpaceLine } from '../../weightSpace.js';
import type { ProcedureContext } from '../context.js';

/**
 * Step 1: the loss along a random filter-normalised direction (alpha in [-1, 1]), or along the move one
 * epoch of Adam makes (`lineDirection: 'short'`, alpha in [0, 1.5]); records `state.line`.
 */
export async function lineStep(ctx: ProcedureContext): Promise<string | undefined> {
  const { model, data, options, state, common } = ctx;
  const on = { ...ctx.evalSplit, loss: options.loss };
  if ((options.lineDirection ?? 'random') === 'random') {
    state.line = weightSpaceLine(model, on, {
      seed: ctx.seed,
      steps: ctx.linePoints,
      signal: options.signal,
      onProgress: ctx.progress('line'),
    });
    return undefined;
  }
  // "a direction found by training on a small amount of data": one epoch of Adam at its default
  // rate (no learning rate is known yet), d = theta_short - theta_0, alpha in [0, 1.5].
  let short: tf.Tensor[] = [];
  let d: tf.Tensor[] = [];
  try {
    await trainCurve(model, data, {
      variant: 'adam',
      lr: 1e-3,
      epochs: 1,
      ...common,
      atEnd: (m) => {
        short = trainableValues(m);
      },
    });
    // trainCurve has restored theta_0 by now.
    d = short.map((t, i) => tf.tidy(() => tf.sub(t, model.trainableWeights[i].read())));
    state.line = weightSpaceLine(model, on, {
      direction: d,
      from: 0,
      to: 1.5,
      steps: ctx.linePoints,
      signal: options.signal,
      onProgress: ctx.progress('line'),
    });
  } finally {
    tf.dispose([...short, ...d]);
  }
  return undefined;
}
