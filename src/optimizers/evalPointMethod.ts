/**
 * An optimizer for whole methods that train at one point (y) and are evaluated at another (x):
 * ScheduleFree+ and Prodigy + Schedule-Free (ALGORITHMS.md §15, §16), and auto(). Like
 * {@link ScheduleFreeOptimizer}, but the training point is kept as its own state slot, exactly as committed,
 * so eval()/train() and save/restore round trips are bit-exact whatever the method's interpolation.
 */
import * as tf from '@tensorflow/tfjs';
import { batchNormLayers, recomputeBatchNorm, restoreBatchNorm } from '../core/batchNorm.js';
import { stepFrom } from '../core/eta.js';
import type { EvalPointOptions, HasEvalPoint } from '../core/evalPoint.js';
import { type LossFn, LrfreeOptimizer, type NamedTensor, type OptimizerOptions } from '../core/optimizer.js';
import { modelVariables } from '../core/params.js';
import type { Direction } from '../core/types.js';
import { LrfreeConfigError } from '../core/validate.js';
import type { EvalOptions } from './scheduleFree.js';

/** A direction whose state holds the training point y and gives the evaluation point x. */
export interface EvalPointDirection extends Direction {
  /** Index of the slot holding y, the committed weights (see {@link committedPoint}). */
  readonly trainPointSlot: number;
  /** The evaluation point x of one variable from its slots (a new tensor; called inside tf.tidy). */
  evalPointOf(slots: readonly tf.Tensor[]): tf.Tensor;
}

/** True when `d` is an {@link EvalPointDirection}. */
export function isEvalPointDirection(d: Direction): d is EvalPointDirection {
  const e = d as Partial<EvalPointDirection>;
  return typeof e.evalPointOf === 'function' && typeof e.trainPointSlot === 'number';
}

/**
 * The weights the core will hold after committing `update` with eta 1 (`y - update`, computed as the
 * core computes it), bit for bit: store this as the y slot, not the y the method computed.
 */
export function committedPoint(y: tf.Tensor, update: tf.Tensor): tf.Tensor {
  return stepFrom(y, update, 1);
}

/**
 * The optimizer of an {@link EvalPointDirection}: in train mode the model holds y; `eval()` (or the
 * {@link HasEvalPoint} contract that the benchmark runner and `withEvalPoint` use) puts x in the model,
 * with batch-norm statistics recomputed at x when asked; `train()` puts y and the training statistics
 * back. Stepping in eval mode throws; saving in train mode after training throws (the checkpoint would
 * hold y); restored state starts in eval mode.
 */
export class EvalPointOptimizer extends LrfreeOptimizer implements HasEvalPoint {
  /** @nocollapse */
  static override className = 'EvalPointOptimizer';

  static override [Symbol.hasInstance](instance: unknown): boolean {
    return Function.prototype[Symbol.hasInstance].call(EvalPointOptimizer, instance);
  }

  private training = true;
  private deferredTrain = false;
  private ownModel?: tf.LayersModel;
  private bnSaved?: tf.Tensor[];
  private bnModel?: tf.LayersModel;

  constructor(options: OptimizerOptions) {
    super(options);
    const piece = options.direction;
    if (!piece || !isEvalPointDirection(piece)) {
      throw new LrfreeConfigError(
        `EvalPointOptimizer: direction '${piece?.kind ?? '(none)'}' does not give an evaluation point.`,
      );
    }
    this.ownModel = options.model;
  }

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
    const dir = this.direction as EvalPointDirection;
    for (const { variable: v, slots } of this.directionSlots()) {
      tf.tidy(() => v.assign(dir.evalPointOf(slots)));
    }
    this.training = false;
    if (options.batchNorm) {
      this.bnModel = options.batchNorm.model;
      this.bnSaved = recomputeBatchNorm(options.batchNorm);
    }
  }

  /** Puts the stored y back into the model (no-op in train mode) and the training batch-norm statistics. */
  train(): void {
    if (this.training) return;
    if (this.bnSaved) {
      restoreBatchNorm(this.bnModel!, this.bnSaved);
      this.bnSaved = undefined;
    }
    this.training = true;
    const unbound = this.unboundStateSize;
    if (unbound !== undefined) {
      const vars = this.findVariables(unbound);
      if (!vars) {
        // Bound at the next step, when minimize receives the variables (before its gradient).
        this.deferredTrain = true;
        return;
      }
      this.bindRestoredState(vars);
    }
    this.swapToY();
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

  override minimize(f: LossFn, returnCost = false, varList?: tf.Variable[]): tf.Scalar | null {
    this.checkTrainMode();
    if (this.deferredTrain) {
      this.bindRestoredState(varList ?? trainable());
      this.deferredTrain = false;
      this.swapToY();
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
          'averaged point x this method evaluates and checkpoints. Save inside ' +
          'lrfree.withEvalPointAsync(opt, { model }, () => model.save(...)), or call opt.eval() before ' +
          'model.save(...) and opt.train() after.',
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

  private swapToY(): void {
    const at = (this.direction as EvalPointDirection).trainPointSlot;
    for (const { variable: v, slots } of this.directionSlots()) v.assign(slots[at]);
  }

  private findVariables(count: number): tf.Variable[] | undefined {
    if (!this.ownModel) return undefined;
    const vars = modelVariables(this.ownModel);
    return vars.length === count ? vars : undefined;
  }
}

tf.serialization.registerClass(EvalPointOptimizer);

function trainable(): tf.Variable[] {
  return Object.values(tf.engine().registeredVariables).filter((v) => v.trainable);
}
