/** Step 2, increase the learning rate: a range test, its candidates confirmed by short runs. */
import { lrRangeTest } from '../../rangeTest.js';
import { confirmLearningRate, fmt } from '../../recommend.js';
import { noDecreaseFlag } from '../../redFlags.js';
import type { ProcedureContext } from '../context.js';
import { recheckRuns } from '../recheck.js';

/**
 * Step 2: an lr range test; its rules propose up to 3 rates, short runs confirm them on the held-out
 * loss (or, with `lrChoice` a rule name, that rule alone). Records `state.lr`, `state.lrChoice` and the
 * learning-rate recommendation; skipped (with the reason) when the range test gives no rate.
 */
export async function lrStep(ctx: ProcedureContext): Promise<string | undefined> {
  const { model, data, options, state, rec, common, lrChoice } = ctx;
  const t0 = performance.now();
  const rt = await lrRangeTest(model, data, {
    ...options.rangeTest,
    ...common,
    onProgress: ctx.progress('lr'),
  });
  state.lr = rt;
  const rangeSeconds = (performance.now() - t0) / 1000;
  const s = rt.suggestions;
  const rules =
    `range test: ${rt.lrs.length} rates ${fmt(rt.lrs[0])}..${fmt(rt.lrs[rt.lrs.length - 1])}, ` +
    `${rt.stopped === 'end' ? 'no divergence' : `diverged at ${fmt(rt.lrs[rt.lrs.length - 1])}`}; ` +
    `rules: valley ${fmt(s.valley?.lr)}, steep ${fmt(s.steep?.lr)}, slide ${fmt(s.slide?.lr)}, ` +
    `minimum/10 ${fmt(s.minimum?.lr)}, steepest ${fmt(s.steepest?.lr)}`;
  if (lrChoice !== 'confirmed') {
    const value = rt.suggestions[lrChoice]?.lr ?? rt.suggestion;
    if (!Number.isFinite(value)) return 'the range test gave no learning rate (see the red flags)';
    const broken = noDecreaseFlag(rt) !== undefined;
    rec.learningRate = {
      value,
      method: lrChoice,
      sure: false,
      why: [`the '${lrChoice}' rule of the range test alone, not confirmed by training runs`],
      candidates: [],
      ties: [],
      trainingNoise: 0,
      cost: { forwards: rt.batches, backwards: rt.batches, seconds: rangeSeconds },
      evidence: broken
        ? `NOT RELIABLE: no rate lowers the loss; ${fmt(value)} is used only to check the accuracy in step 7`
        : `${lrChoice} rule (not confirmed); ${rules}`,
    };
    return undefined;
  }
  const choice = await confirmLearningRate(model, data, rt, {
    ...options.confirm,
    batchSize: ctx.batchSize,
    seed: ctx.seed,
    loss: options.loss,
    signal: options.signal,
    rangeTestSeconds: rangeSeconds,
    onProgress: ctx.progress('lr'),
    keep: ctx.keepLeader,
  });
  state.lrChoice = choice;
  const found = Number.isFinite(choice.lr);
  if (!found) {
    // Nothing lowered the loss: rule the optimizer out before a flag blames the data.
    state.recheck = await recheckRuns(model, data, choice.steps, common);
  }
  const value = found ? choice.lr : rt.suggestion;
  if (!Number.isFinite(value)) return 'the range test gave no learning rate (see the red flags)';
  const winner = choice.candidates.find((c) => c.lr === choice.lr);
  rec.learningRate = {
    value,
    method: 'confirmed',
    sure: choice.sure,
    why: choice.why,
    candidates: choice.candidates.map((c) => ({
      lr: c.lr,
      source: c.source,
      heldOutLoss: c.run.best,
      ...(c.run.bestAccuracy !== undefined ? { heldOutAccuracy: c.run.bestAccuracy } : {}),
      fell: c.fell,
    })),
    ties: choice.ties,
    trainingNoise: choice.trainingNoise,
    cost: choice.cost,
    evidence: found
      ? `${choice.sure ? 'confirmed' : 'NOT SURE'}: best held-out loss ${fmt(winner?.run.best)} after ${choice.steps} steps ` +
        `among ${choice.candidates.map((c) => `${fmt(c.lr)} (${c.source.join('+')}: ${fmt(c.run.best)})`).join(', ')}; ` +
        `the loss fell beyond its noise (${fmt(choice.region.threshold)}) from ${fmt(choice.region.from)} to ${fmt(choice.region.lowest)}; ${rules}`
      : `NOT RELIABLE: no rate lowers the loss; ${fmt(value)} is used only to check the accuracy in step 7`,
  };
  return undefined;
}
