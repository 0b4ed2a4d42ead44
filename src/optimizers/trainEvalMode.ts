/**
 * The train/eval modes shared by every method that trains at one point (y) and is evaluated at another (x):
 * Schedule-Free, ScheduleFree+, Prodigy + Schedule-Free and auto(). A subclass says only how x and y are
 * put into the variables; the modes, the evaluation-point contract, deferred binding of restored state,
 * and the refusals (stepping at x, saving y) live here once.
 */
import * as tf from '@tensorflow/tfjs';
import {
  type BatchNormRecompute,
  batchNormLayers,
  recomputeBatchNorm,
  restoreBatchNorm,
} from '../core/batchNorm.js';
import type { EvalPointOptions, HasEvalPoint } from '../core/evalPoint.js';
import { type LossFn, LrfreeOptimizer, type NamedTensor, type OptimizerOptions } from '../core/optimizer.js';
import { modelVariables } from '../core/params.js';
import { LrfreeConfigError } from '../core/validate.js';

/** Options of `eval()`. */
export interface EvalOptions {
  /**
   * Recompute batch-norm moving statistics at x (they were collected at y): training-mode forwards over
   * these training inputs, no gradient, no step. `train()` puts the training statistics back.
   */
  batchNorm?: BatchNormRecompute;
}

/**
 * In train mode the model holds y; `eval()` (or {@link HasEvalPoint.enterEvalPoint}) puts x in the model,
 * with batch-norm statistics recomputed at x when asked; `train()` puts y and the training statistics back.
 * Stepping in eval mode throws; saving in train mode after training throws (the checkpoint would hold y);
 * restored state starts in eval mode.
 */
export abstract class TrainEvalOptimizer extends LrfreeOptimizer implements HasEvalPoint {
  private training = true;
  private deferredTrain = false;
  private ownModel?: tf.LayersModel;
  private bnSaved?: tf.Tensor[];
  private bnModel?: tf.LayersModel;

  constructor(options: OptimizerOptions) {
    super(options);
    this.ownModel = options.model;
  }

  /** Assigns the evaluation point x to every variable with state. */
  protected abstract putEvalPoint(): void;
  /** Assigns the training point y to every variable with state. */
  protected abstract putTrainPoint(): void;
  /** How to save at x, for the refusal to save at y. */
  protected abstract get saveAdvice(): string;

  /** True in train mode (the model holds y). */
  get trainMode(): boolean {
    return this.training;
  }

  override attachModel(model: tf.LayersModel): this {
    this.ownModel = model;
    return super.attachModel(model);
  }

  /** Puts x into the model (no-op in eval mode); optionally recomputes batch-norm statistics at x. */
  eval(options: EvalOptions = {}): void {
    if (!this.training) return;
    this.putEvalPoint();
    this.training = false;
    if (options.batchNorm) {
      this.bnModel = options.batchNorm.model;
      this.bnSaved = recomputeBatchNorm(options.batchNorm);
    }
  }

  /** Puts y back into the model (no-op in train mode) and the training batch-norm statistics. */
  train(): void {
    if (this.training) return;
    if (this.bnSaved) {
      restoreBatchNorm(this.bnModel!, this.bnSaved);
      this.bnSaved = undefined;
    }
    this.training = true;
    const unbound = this.unboundStateSize;
    if (unbound !== undefined) {
      // Restored state not yet bound to variables: bind now when the model is known, else at the next
      // step (before its gradient), when minimize receives the variables.
      const vars = this.findVariables(unbound);
      if (!vars) {
        this.deferredTrain = true;
        return;
      }
      this.bindRestoredState(vars);
    }
    this.putTrainPoint();
  }

  /**
   * The evaluation-point contract (core/evalPoint.ts): x in the model, batch-norm statistics recomputed
   * at x when `options` give a model with batch norm and its training inputs. No-op when already at x.
   */
  enterEvalPoint(options: EvalPointOptions = {}): () => void {
    if (!this.training) return () => {};
    const model = options.model ?? this.ownModel;
    const bn = model !== undefined && options.trainX !== undefined && batchNormLayers(model).length > 0;
    this.eval(
      bn
        ? {
            batchNorm: {
              model: model!,
              x: options.trainX!,
              batchSize: options.batchSize,
              batches: options.batches,
              seed: options.seed,
            },
          }
        : {},
    );
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.train();
    };
  }

  /** The evaluation-point contract's way back: train() (a restored optimizer starts at x). */
  leaveEvalPoint(): void {
    this.train();
  }

  /** Batch-norm statistics were collected at y: in train mode they must be recomputed at x. */
  requiresBatchNormRecompute(): boolean {
    return this.training;
  }

  override minimize(f: LossFn, returnCost = false, varList?: tf.Variable[]): tf.Scalar | null {
    this.checkTrainMode();
    if (this.deferredTrain) {
      this.bindRestoredState(varList ?? trainable());
      this.deferredTrain = false;
      this.putTrainPoint();
    }
    return super.minimize(f, returnCost, varList);
  }

  override applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    this.checkTrainMode();
    if (this.deferredTrain) {
      throw new LrfreeConfigError(
        `${this.name}: restored state could not be matched to the model's variables before the gradient was ` +
          'taken; pass the model (attachModel) before train(), or train with minimize / model.fit.',
      );
    }
    super.applyGradients(variableGradients);
  }

  /** Refuses to save in train mode after training: the model would hold y, not x. */
  override async getWeights(): Promise<NamedTensor[]> {
    if (this.training && this.counters.steps > 0) {
      throw new LrfreeConfigError(
        `${this.name}: refusing to save in train mode: the model holds the training point y, not the ` +
          `averaged point x this method evaluates and checkpoints. ${this.saveAdvice}`,
      );
    }
    return super.getWeights();
  }

  /** State saved after training is always saved in eval mode, so a restored optimizer starts there. */
  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    await super.setWeights(weightValues);
    this.training = this.counters.steps === 0;
    this.deferredTrain = false;
  }

  override dispose(): void {
    if (this.bnSaved) tf.dispose(this.bnSaved);
    this.bnSaved = undefined;
    super.dispose();
  }

  private checkTrainMode(): void {
    if (!this.training) {
      throw new LrfreeConfigError(
        `${this.name}: step called in eval mode (the model holds x). Call opt.train() before training ` +
          'again, and opt.eval() before evaluating or saving.',
      );
    }
  }

  /**
   * The model's variables, when the model is known. Names are not enough: a loaded copy gets new names and
   * the saving model may still hold the old ones.
   */
  private findVariables(count: number): tf.Variable[] | undefined {
    if (!this.ownModel) return undefined;
    const vars = modelVariables(this.ownModel);
    return vars.length === count ? vars : undefined;
  }
}

function trainable(): tf.Variable[] {
  return Object.values(tf.engine().registeredVariables).filter((v) => v.trainable);
}
