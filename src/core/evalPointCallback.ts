/**
 * A `model.fit` callback for the evaluation point: when fit ends, the model holds the optimizer's (or
 * averager's) evaluation point, batch-norm statistics recomputed there, so `model.evaluate`,
 * `model.predict` and `model.save` afterwards use the right weights; when the next fit begins, the
 * training point comes back exactly, so training resumes as if never interrupted.
 */
import * as tf from '@tensorflow/tfjs';
import type { EvalPointOptions, HasEvalPoint } from './evalPoint.js';
import { LrfreeConfigError } from './validate.js';

/**
 * The callback returned by {@link evalPointCallback}.
 */
export class EvalPointCallback extends tf.Callback {
  private leaveFn?: () => void;

  constructor(
    private readonly target: HasEvalPoint,
    private readonly options: EvalPointOptions = {},
  ) {
    super();
    if (typeof target?.enterEvalPoint !== 'function') {
      throw new LrfreeConfigError(
        'evalPointCallback: the first argument must have an evaluation point (a Schedule-Free optimizer, ' +
          'an averager, ...); for other optimizers the model already holds the weights to evaluate.',
      );
    }
  }

  /** True while the model holds the evaluation point (between fit calls). */
  get atEvalPoint(): boolean {
    return this.leaveFn !== undefined;
  }

  /** Puts the training point back now (the next fit does it by itself); a no-op when already there. */
  leave(): void {
    const f = this.leaveFn;
    this.leaveFn = undefined;
    f?.();
  }

  override async onTrainBegin(): Promise<void> {
    this.leave();
    this.target.leaveEvalPoint?.();
  }

  override async onTrainEnd(): Promise<void> {
    this.leave();
    const model = this.options.model ?? (this.model as tf.LayersModel | undefined);
    this.leaveFn = this.target.enterEvalPoint({ ...this.options, model });
  }
}

/**
 * A Keras-style callback: after `model.fit` the model holds `target`'s evaluation point (Schedule-Free's
 * x, an averager's average), with batch-norm statistics recomputed there from `trainX`; the next `fit`
 * first puts the training point back. Give `trainX` (training inputs) when the model has batch norm.
 *
 * @example
 * ```ts
 * const opt = lrfree.scheduleFreeSgd({ lr: 0.5 });
 * model.compile({ optimizer: opt, loss: 'categoricalCrossentropy' });
 * const atX = lrfree.evalPointCallback(opt, { trainX: x });
 * await model.fit(x, y, { epochs: 2, callbacks: [atX] });
 * model.evaluate(xTest, yTest);           // at x
 * await model.save(lrfree.io.fileSystem('ckpt')); // x and the optimizer state (lrfree/node)
 * await model.fit(x, y, { epochs: 2, callbacks: [atX] }); // resumes at y, exactly
 * ```
 */
export function evalPointCallback(target: HasEvalPoint, options: EvalPointOptions = {}): EvalPointCallback {
  return new EvalPointCallback(target, options);
}
