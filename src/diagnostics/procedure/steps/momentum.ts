/** Step 3, increase the momentum: a momentum range test at step 2's rate, confirmed by N epochs. */
import { momentumRangeTest } from '../../checks.js';
import { fmt } from '../../recommend.js';
import { batchesPerEpoch } from '../../trainer.js';
import { NO_LEARNING_RATE, type ProcedureContext } from '../context.js';

/**
 * Step 3: a momentum range test at the chosen rate, then N epochs without and with the momentum it
 * suggests (the run without continues step 2's confirmation run at that rate). Records
 * `state.momentum` and the momentum recommendation; skipped without a learning rate.
 */
export async function momentumStep(ctx: ProcedureContext): Promise<string | undefined> {
  if (!ctx.haveLr()) return NO_LEARNING_RATE;
  const { model, data, options, state, rec, common, epochs } = ctx;
  const lr = rec.learningRate!.value;
  const test = await momentumRangeTest(model, data, {
    numIt: 6,
    // one epoch per momentum value, at most 100 batches (a large data set needs no more to show the
    // trend, and the sweep is the procedure's largest cost after step 2)
    batchesPerIteration: Math.min(100, batchesPerEpoch(data.train.x.shape[0], ctx.batchSize)),
    ...options.momentumTest,
    lr,
    ...common,
    onProgress: ctx.progress('momentum'),
  });
  const mu = Math.round(test.suggestion * 100) / 100;
  const confirmed = ctx.leader?.lr === lr ? ctx.leader.checkpoints : [];
  const without = await ctx.trainKeeping({ variant: 'sgd', lr, epochs, ...common }, confirmed);
  const withMu =
    mu > 0 ? await ctx.trainKeeping({ variant: 'momentum', lr, momentum: mu, epochs, ...common }) : without;
  const helps = mu > 0 && Number.isFinite(withMu.best) && withMu.best < without.best * 0.99;
  // Only the chosen constant-rate run's first epoch is continued later (step 4).
  const kept = ctx.firstEpoch.get(helps ? withMu : without);
  for (const c of [...ctx.held]) if (c !== kept) ctx.release(c);
  state.momentum = { test, without, with: withMu, helps };
  rec.momentum = {
    value: helps ? mu : 0,
    evidence:
      `momentum range test at lr ${fmt(lr)} suggests ${mu}; ${epochs} epochs with it reach held-out loss ` +
      `${fmt(withMu.best)} vs ${fmt(without.best)} without${helps ? '' : ' (not better by 1%: no momentum)'}`,
  };
  return undefined;
}
