/** Step 7, the final line search: the chosen configuration trained for N epochs, and the init -> final line. */
import * as tf from '@tensorflow/tfjs';
import { type Curve, heldOut, trainCurve } from '../../curves.js';
import { defaultConfirmSteps } from '../../recommend.js';
import { chanceFlag } from '../../redFlags.js';
import { modelValues, weightSpaceLine } from '../../weightSpace.js';
import { chanceMargin, majorityShare, priorCrossEntropy } from '../chance.js';
import type { ProcedureContext } from '../context.js';
import { learnedRuns } from '../flags.js';
import { recheckRuns } from '../recheck.js';

/**
 * Step 7: the chosen configuration for N epochs (step 3's run when it is the same, reused from memory)
 * and the loss along the line from the initial to the final weights; records `state.final`. When the
 * run ended at chance and nothing else learned, rechecks the optimizer (`state.recheck`). Skipped when
 * step 2 chose no rate.
 */
export async function finalStep(ctx: ProcedureContext): Promise<string | undefined> {
  const { model, data, options, state, common } = ctx;
  if (!ctx.rec.learningRate) return 'no learning rate was chosen in step 2';
  const c = ctx.chosen();
  const init = modelValues(model);
  let final: tf.Tensor[] = [];
  try {
    const kept = ctx.constantCurve();
    const keptWeights = kept && ctx.trainedWeights.get(kept);
    const same =
      kept !== undefined &&
      kept.variant === c.variant &&
      kept.lr === c.lr &&
      (c.variant === 'sgd' || kept.momentum === c.momentum) &&
      kept.schedule === undefined;
    let curve: Curve;
    if (same && keptWeights) {
      curve = kept;
      final = keptWeights.map((t) => t.clone());
    } else {
      curve = await trainCurve(model, data, {
        ...c,
        epochs: ctx.epochs,
        ...common,
        onEpoch: ctx.progress('final'),
        atEnd: (m) => {
          final = modelValues(m);
        },
      });
    }
    const line = weightSpaceLine(
      model,
      { ...ctx.evalSplit, loss: options.loss },
      {
        direction: 'interpolate',
        init,
        final,
        steps: ctx.linePoints,
        signal: options.signal,
      },
    );
    state.final = { curve, line };
  } finally {
    tf.dispose([...init, ...final]);
  }
  // Before a flag blames the labels, rule out the optimizer: when the chosen configuration ended at
  // chance and nothing else the procedure tried learned either, train Adam at 1e-3 too.
  const split = heldOut(data);
  const chance = majorityShare(split.y);
  if (
    !state.recheck &&
    chanceFlag(
      state.final.curve,
      chance,
      split.y.shape[0],
      learnedRuns(state),
      options.loss === undefined || options.loss === 'categoricalCrossentropy'
        ? priorCrossEntropy(split.y)
        : undefined,
    )?.id === 'chanceAccuracy' &&
    !learnedRuns(state).some(
      (r) => r.accuracy !== undefined && r.accuracy > chance + chanceMargin(chance, split.y.shape[0]),
    )
  ) {
    state.recheck = await recheckRuns(
      model,
      data,
      state.lrChoice?.steps ?? defaultConfirmSteps(data.train.x.shape[0], ctx.batchSize),
      common,
    );
  }
  return undefined;
}
