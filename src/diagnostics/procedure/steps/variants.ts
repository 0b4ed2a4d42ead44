/** Step 6, other optimizers: variants at their own rates, learning-rate-free methods against the tuned rate. */
import { compareVariants } from '../../checks.js';
import { compareLrFree, defaultConfirmSteps, fmt, LR_FREE_CANDIDATES, shortRun } from '../../recommend.js';
import { NO_LEARNING_RATE, type ProcedureContext } from '../context.js';

/**
 * Step 6: the variants (default Adam), each at its own range-test rate, against the chosen constant-rate
 * run; then the learning-rate-free methods against sgd at the tuned rate, at the confirmation budget.
 * Records `state.variants` and the variant and lrFree recommendations; skipped without a learning rate.
 */
export async function variantsStep(ctx: ProcedureContext): Promise<string | undefined> {
  if (!ctx.haveLr()) return NO_LEARNING_RATE;
  const { model, data, options, state, rec, common, epochs } = ctx;
  const base = ctx.constantCurve();
  const variants = options.variants ?? ['adam'];
  const r =
    variants.length > 0 || base
      ? await compareVariants(model, data, {
          variants,
          epochs,
          include: base ? [base] : [],
          rangeTest: options.rangeTest,
          ...common,
          onProgress: ctx.progress('variants'),
        })
      : undefined;
  state.variants = { results: r?.results ?? [], ...(r ? { best: r.best.variant } : {}) };
  if (r) {
    rec.variant = {
      value: r.best.variant,
      learningRate: r.best.lr,
      evidence: r.results
        .map((x) => `${x.variant} at lr ${fmt(x.lr)}: best held-out loss ${fmt(x.curve.best)}`)
        .join('; '),
    };
  }
  const names = options.lrFree ?? [...LR_FREE_CANDIDATES];
  if (names.length === 0) return undefined;
  const lr = rec.learningRate!.value;
  const steps =
    state.lrChoice?.steps ??
    options.confirm?.steps ??
    defaultConfirmSteps(data.train.x.shape[0], ctx.batchSize);
  const tuned =
    state.lrChoice?.candidates.find((c) => c.lr === lr)?.run ??
    (await shortRun(model, data, { variant: 'sgd', lr }, { steps, ...common }));
  const verdicts = await compareLrFree(model, data, tuned, names, { steps, ...common });
  state.variants.lrFree = verdicts;
  const good = verdicts.filter((v) => v.asGood).map((v) => v.name);
  rec.lrFree = {
    value: good,
    evidence:
      `${steps} steps each against sgd at the tuned rate ${fmt(lr)} (held-out ${fmt(tuned.best)}); ` +
      `"as well" = worse by at most max(2 standard errors, 2%): ` +
      verdicts
        .map(
          (v) =>
            `${v.name} ${fmt(v.run.best)} (${v.difference >= 0 ? '+' : ''}${fmt(v.difference)} +- ${fmt(v.se)}, ${v.asGood ? 'as well' : 'worse'}${v.run.steps < steps ? `, decided after ${v.run.steps} steps` : ''})`,
        )
        .join('; '),
  };
  return undefined;
}
