/**
 * The step-by-step procedure (sources/step-by-step-procedure.txt, ALGORITHMS.md §11): seven short runs
 * that replace a grid search and return hyperparameters with their evidence, plus red flags for bugs.
 * Each step's result is kept in a JSON-safe state, so an interrupted procedure resumes where it stopped.
 * The steps are in ./procedure/steps/, what they share in ./procedure/context.ts; this file runs them.
 */
import type * as tf from '@tensorflow/tfjs';
import { checkAbort, type DiagnosticData } from './common.js';
import { ProcedureContext, type StepBody } from './procedure/context.js';
import { redFlagsOf } from './procedure/flags.js';
import type { ProcedureOptions } from './procedure/options.js';
import { type ProcedureState, STEPS, type StepName } from './procedure/state.js';
import { cyclicalStep } from './procedure/steps/cyclical.js';
import { decayStep } from './procedure/steps/decay.js';
import { finalStep } from './procedure/steps/final.js';
import { lineStep } from './procedure/steps/line.js';
import { lrStep } from './procedure/steps/lr.js';
import { momentumStep } from './procedure/steps/momentum.js';
import { variantsStep } from './procedure/steps/variants.js';

export { chanceMargin, majorityShare, priorCrossEntropy } from './procedure/chance.js';
export { learnedRuns, redFlagsOf } from './procedure/flags.js';
export type { ProcedureOptions } from './procedure/options.js';
export {
  type LearningRateRecommendation,
  type ProcedureState,
  type RateCandidate,
  type Recommendation,
  type Recommendations,
  STEP_TITLES,
  STEPS,
  type StepName,
} from './procedure/state.js';

/** Thrown when the procedure is interrupted: `state` holds every finished step (pass it as `resume`). */
export class ProcedureInterrupted extends Error {
  override name = 'ProcedureInterrupted';
  constructor(readonly state: ProcedureState) {
    super(`procedure interrupted after ${state.completed.length} of ${STEPS.length} steps`);
  }
}

/** Each step's work, by name (run in the order of {@link STEPS}). */
const BODIES: Record<StepName, StepBody> = {
  line: lineStep,
  lr: lrStep,
  momentum: momentumStep,
  decay: decayStep,
  cyclical: cyclicalStep,
  variants: variantsStep,
  final: finalStep,
};

/**
 * Runs the seven steps in order on `model` (restored afterwards: the procedure never changes it):
 * 1 a random filter-normalised line through the initial weights; 2 an lr range test whose rules (valley,
 * steep, slide, minimum/10, steepest) propose up to 3 rates from the region where the smoothed loss fell
 * beyond its own noise, confirmed by short runs on the held-out loss (`lrChoice: 'confirmed'`, the
 * default; the recommendation says whether it is sure, why, every candidate and the cost); 3 a momentum
 * range test at that rate, confirmed by N epochs with vs without; 4 power decay with the plateau epoch
 * M; 5 a sawtooth 2x/0.5x of period M; 6 other optimizers at their own range-test rates, and
 * learning-rate-free methods against the tuned rate at the confirmation budget; 7 the chosen
 * configuration trained for N epochs and the init -> final line. Returns the recommendations with their
 * evidence and the red flags; a flag that would blame the data is raised only after the optimizer is
 * ruled out (every run tried, plus Adam at 1e-3 when nothing learned).
 *
 * Cost: about 2 range tests + 3-5 confirmation runs + 5 N-epoch runs + the momentum sweep + one short
 * run per learning-rate-free method. Nothing is trained twice: step 3's run without momentum continues
 * step 2's confirmation run at the chosen rate, step 4's decay run continues the constant-rate run after
 * its first epoch, and step 7 is step 3's run (in memory only: a resumed procedure trains them again).
 *
 * @example
 * ```ts
 * const state = await procedure(model, { train, validation }, { epochs: 2 });
 * console.log(state.recommendations.learningRate, state.redFlags);
 * ```
 */
export async function procedure(
  model: tf.LayersModel,
  data: DiagnosticData,
  options: ProcedureOptions = {},
): Promise<ProcedureState> {
  const ctx = new ProcedureContext(model, data, options);
  try {
    for (const step of STEPS) await run(ctx, step, BODIES[step]);
  } catch (e) {
    if ((e as Error).name === 'DiagnosticAborted') throw new ProcedureInterrupted(ctx.state);
    throw e;
  } finally {
    ctx.dispose();
  }
  ctx.state.redFlags = redFlagsOf(ctx.state, data, options.loss);
  return ctx.state;
}

/**
 * Runs one step unless an earlier run finished or skipped it, or the caller skips it; records it as
 * finished (or skipped, with the body's reason), its wall time and the red flags so far, then calls
 * `onStep` and stops if the signal was aborted.
 */
async function run(ctx: ProcedureContext, step: StepName, body: StepBody): Promise<void> {
  const { state, options } = ctx;
  if (state.completed.includes(step) || state.skipped[step]) return;
  if (ctx.skip.has(step)) {
    state.skipped[step] = 'skipped by the caller';
    return;
  }
  const t0 = performance.now();
  try {
    const why = await body(ctx);
    if (typeof why === 'string') state.skipped[step] = why;
    else state.completed.push(step);
  } catch (e) {
    if ((e as Error).name === 'DiagnosticAborted') throw new ProcedureInterrupted(state);
    throw e;
  }
  state.ms[step] = performance.now() - t0;
  state.redFlags = redFlagsOf(state, ctx.data, options.loss);
  await options.onStep?.(step, state);
  checkAbort(options.signal);
}

// Saving and resuming: saveState / loadState (Node, file I/O) are in ./stateFile.ts, exported by
// `lrfree/node`; the state itself is JSON-safe.
