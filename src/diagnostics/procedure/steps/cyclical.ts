/** Step 5, does a cyclical learning rate help? */
import { cyclicalCheck } from '../../checks.js';
import { fmt } from '../../recommend.js';
import { NO_LEARNING_RATE, type ProcedureContext } from '../context.js';
import { signedPct } from './signedPct.js';

/**
 * Step 5: a sawtooth 2x -> 0.5x of the chosen rate with period M against the constant rate (the run
 * steps 3 and 4 already made). Records `state.cyclical` and its recommendation; skipped without a
 * learning rate.
 */
export async function cyclicalStep(ctx: ProcedureContext): Promise<string | undefined> {
  if (!ctx.haveLr()) return NO_LEARNING_RATE;
  const { model, data, state, rec } = ctx;
  const M = state.decay?.plateauEpochs;
  const r = await cyclicalCheck(model, data, {
    ...ctx.chosen(),
    epochs: ctx.epochs,
    plateauEpochs: M,
    constant: state.decay?.constant ?? ctx.constantCurve(),
    ...ctx.common,
    onProgress: ctx.progress('cyclical'),
  });
  state.cyclical = r;
  rec.cyclical = {
    value: r.helps,
    evidence:
      `sawtooth ${fmt(2 * ctx.chosen().lr)} -> ${fmt(ctx.chosen().lr / 2)}, period ${r.plateauEpochs} epochs: best held-out ` +
      `loss ${fmt(r.scheduled.best)} vs ${fmt(r.constant.best)} constant (${signedPct(r.improvement)}), ` +
      `log-loss area ${r.speedup > 0 ? 'lower' : 'higher'} by ${fmt(Math.abs(r.speedup))}`,
  };
  return undefined;
}
