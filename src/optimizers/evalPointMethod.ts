/**
 * An optimizer for whole methods that train at one point (y) and are evaluated at another (x):
 * ScheduleFree+ and Prodigy + Schedule-Free (ALGORITHMS.md §15, §16), and auto(). Like
 * {@link ScheduleFreeOptimizer}, but the training point is kept as its own state slot, exactly as committed,
 * so eval()/train() and save/restore round trips are bit-exact whatever the method's interpolation.
 */
import * as tf from '@tensorflow/tfjs';
import { stepFrom } from '../core/eta.js';
import type { HasEvalPoint } from '../core/evalPoint.js';
import type { OptimizerOptions } from '../core/optimizer.js';
import type { Direction } from '../core/types.js';
import { LrfreeConfigError } from '../core/validate.js';
import { TrainEvalOptimizer } from './trainEvalMode.js';

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
export class EvalPointOptimizer extends TrainEvalOptimizer {
  /** @nocollapse */
  static override className = 'EvalPointOptimizer';

  static override [Symbol.hasInstance](instance: unknown): boolean {
    return Function.prototype[Symbol.hasInstance].call(EvalPointOptimizer, instance);
  }

  constructor(options: OptimizerOptions) {
    super(options);
    const piece = options.direction;
    if (!piece || !isEvalPointDirection(piece)) {
      throw new LrfreeConfigError(
        `EvalPointOptimizer: direction '${piece?.kind ?? '(none)'}' does not give an evaluation point.`,
      );
    }
  }

  /** x from the direction's slots. */
  protected putEvalPoint(): void {
    const dir = this.direction as EvalPointDirection;
    for (const { variable: v, slots } of this.directionSlots()) {
      tf.tidy(() => v.assign(dir.evalPointOf(slots)));
    }
  }

  /** y is stored as committed: assigned back bit for bit. */
  protected putTrainPoint(): void {
    const at = (this.direction as EvalPointDirection).trainPointSlot;
    for (const { variable: v, slots } of this.directionSlots()) v.assign(slots[at]);
  }

  protected get saveAdvice(): string {
    return (
      'Save inside lrfree.withEvalPointAsync(opt, { model }, () => model.save(...)), or call opt.eval() ' +
      'before model.save(...) and opt.train() after.'
    );
  }
}

tf.serialization.registerClass(EvalPointOptimizer);
