/** Step 4, does learning-rate decay help? */
import { decayCheck } from '../../checks.js';
import { fmt } from '../../recommend.js';
import { NO_LEARNING_RATE, type ProcedureContext } from '../context.js';
import { signedPct } from './signedPct.js';

/**
 * Step 4: power decay from the plateau epoch M against the constant rate (step 3's run, whose decay run
 * continues after its first epoch). Records `state.decay` and the decay recommendation; skipped without
 * a learning rate.
 */
export async function decayStep(ctx: ProcedureContext): Promise<string | undefined> {
  if (!ctx.haveLr()) return NO_LEARNING_RATE;
  const { model, data, state, rec } = ctx;
  const constant = ctx.constantCurve();
  const constantStart = constant && ctx.firstEpoch.get(constant);
  const r = await decayCheck(model, data, {
    ...ctx.chosen(),
    epochs: ctx.epochs,
    constant,
    ...(constantStart ? { constantStart } : {}),
    ...ctx.common,
    onProgress: ctx.progress('decay'),
  });
  ctx.release(constantStart);
  state.decay = r;
  rec.decay = {
    value: r.helps,
    plateauEpochs: r.plateauEpochs,
    alpha: r.alpha!,
    evidence:
      `plateau epoch M = ${r.plateauEpochs}, alpha = ${fmt(r.alpha!)}: best held-out loss ${fmt(r.scheduled.best)} ` +
      `with decay vs ${fmt(r.constant.best)} constant (${signedPct(r.improvement)})`,
  };
  return undefined;
}
