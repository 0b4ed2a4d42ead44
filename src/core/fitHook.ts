/**
 * The model.fit hook: what an lrfree optimizer needs from `model.fit` that fit never tells an optimizer.
 *
 * TF.js builds the callbacks registered with `tf.registerCallbackConstructor` for every `fit` call; this
 * one acts only when the model's optimizer is an lrfree optimizer (anything with the three methods
 * below) and then:
 * - gives it fit's batches per epoch (`ceil(samples / batchSize)`), used instead of the reference
 *   placeholder of 500 by rules that count epochs when no `stepsPerEpoch` was given;
 * - seeds fit's shuffle from the optimizer's seed: fit shuffles with `Math.random` right after the
 *   epoch-begin callbacks, so a seeded generator replaces `Math.random` from this hook's `onEpochBegin`
 *   until the epoch's first `onBatchBegin` (the only code in between is the other callbacks' epoch-begin
 *   and fit's shuffle), and is undone there, at the epoch's end and at the run's end;
 * - reports the run's skipped steps once, with their count, at the end of the run.
 *
 * A registry entry, not a patch: nothing of TF.js is replaced, and a fit with any other optimizer is
 * untouched.
 */
import * as tf from '@tensorflow/tfjs';
import { mulberry32 } from './rng.js';

/** What the hook calls on the optimizer (implemented by LrfreeOptimizer). */
export interface FitAware {
  /**
   * A fit run of `model` starts; `active()` stays true while it runs (false after fit returned or threw).
   */
  fitRunBegin(batchesPerEpoch: number | undefined, active: () => boolean, model?: tf.LayersModel): void;
  /** The seed of the shuffle of the epoch about to start (from the optimizer's seed and step count). */
  fitShuffleSeed(): number;
  /** The fit run ended. */
  fitRunEnd(): void;
}

function isFitAware(opt: unknown): opt is FitAware {
  const o = opt as Partial<FitAware> | undefined;
  return (
    typeof o?.fitRunBegin === 'function' &&
    typeof o.fitShuffleSeed === 'function' &&
    typeof o.fitRunEnd === 'function'
  );
}

/** Batches per epoch from fit's callback params (`steps` for fitDataset, else samples / batchSize). */
export function batchesPerEpochOf(params: Record<string, unknown> | undefined): number | undefined {
  const steps = params?.steps;
  if (typeof steps === 'number' && Number.isInteger(steps) && steps > 0) return steps;
  const samples = params?.samples;
  const batchSize = params?.batchSize;
  if (typeof samples === 'number' && typeof batchSize === 'number' && samples > 0 && batchSize > 0) {
    return Math.ceil(samples / batchSize);
  }
  return undefined;
}

class LrfreeFitHook extends tf.Callback {
  private opt?: FitAware;
  private originalRandom?: () => number;

  override async onTrainBegin(): Promise<void> {
    const model = this.model as (tf.LayersModel & { isTraining?: boolean }) | undefined;
    const opt = model?.optimizer;
    if (!isFitAware(opt)) return;
    this.opt = opt;
    opt.fitRunBegin(
      batchesPerEpochOf(this.params as Record<string, unknown>),
      () => model?.isTraining === true,
      model,
    );
  }

  override async onEpochBegin(): Promise<void> {
    if (!this.opt) return;
    this.restoreRandom();
    this.originalRandom = Math.random;
    Math.random = mulberry32(this.opt.fitShuffleSeed());
  }

  override async onBatchBegin(): Promise<void> {
    this.restoreRandom();
  }

  override async onEpochEnd(): Promise<void> {
    this.restoreRandom();
  }

  override async onTrainEnd(): Promise<void> {
    this.restoreRandom();
    this.opt?.fitRunEnd();
    this.opt = undefined;
  }

  private restoreRandom(): void {
    if (this.originalRandom) {
      Math.random = this.originalRandom;
      this.originalRandom = undefined;
    }
  }
}

const REGISTERED = Symbol.for('lrfree.fitHook');

/** Registers the hook once per process (also when two copies of lrfree are loaded). */
export function registerFitHook(): void {
  const g = globalThis as unknown as Record<symbol, boolean>;
  if (g[REGISTERED]) return;
  g[REGISTERED] = true;
  tf.registerCallbackConstructor(0, LrfreeFitHook);
}
