/**
 * Polynomial-decay iterate averaging (Shamir & Zhang 2013), as used with DoG (ALGORITHMS.md §9.5).
 * Works with any optimizer: it only reads the weights after each step.
 */
import * as tf from '@tensorflow/tfjs';
import { batchNormLayers, recomputeBatchNorm, restoreBatchNorm } from '../core/batchNorm.js';
import type { EvalPointOptions, HasEvalPoint } from '../core/evalPoint.js';
import { checkKnownKeys, checkNumber, LrfreeConfigError } from '../core/validate.js';

/** Options of {@link averager}. */
export interface AveragerOptions {
  /** gamma >= 0: larger forgets early iterates faster (0 = uniform average). Default 8 (DoG's choice). */
  gamma?: number;
}

/** Saved state of an averager: the step counter and the averaged tensors (caller owns them). */
export interface AveragerState {
  t: number;
  averaged: tf.Tensor[];
}

/**
 * x-bar_1 = x_1, x-bar_t = (1 - (1+gamma)/(t+gamma))*x-bar_{t-1} + ((1+gamma)/(t+gamma))*x_t, updated
 * after every optimizer step. For a model it averages every float weight, batch-norm moving statistics
 * included (as the reference averages every float entry of the state); integer weights are copied.
 * Cost: one fused multiply-add per weight per step, one extra copy of the weights in memory.
 *
 * @example
 * ```ts
 * const avg = lrfree.averager(model);             // gamma = 8
 * await model.fit(x, y, { callbacks: [avg.callback()] });
 * const res = await avg.withAveraged(() => model.evaluate(xTest, yTest));
 * // or: after fit the model holds the average, evaluate/predict/save use it, the next fit resumes
 * await model.fit(x, y, { callbacks: [avg.callback(), lrfree.evalPointCallback(avg, { trainX: x })] });
 * ```
 *
 * Implements the evaluation-point contract (core/evalPoint.ts): `enterEvalPoint` swaps the average in
 * (batch-norm statistics recomputed there when a model with batch norm and `trainX` are given).
 */
export class PolynomialDecayAverager implements HasEvalPoint {
  readonly gamma: number;
  /** Number of `step()` calls so far. */
  steps = 0;
  private readonly vars: tf.Variable[];
  private avg: tf.Tensor[];
  private swapped?: tf.Tensor[];

  constructor(target: tf.LayersModel | readonly tf.Variable[], options: AveragerOptions = {}) {
    checkKnownKeys('averager', options, ['gamma']);
    this.gamma = checkNumber('averager', 'gamma', options.gamma ?? 8, { min: 0 });
    this.vars = Array.isArray(target)
      ? [...(target as tf.Variable[])]
      : (target as tf.LayersModel).weights.map((w) => w.read() as tf.Variable);
    this.avg = this.vars.map((v) => tf.keep(v.clone()));
  }

  /** Folds the current weights into the average. Call once after every optimizer step. */
  step(): void {
    if (this.swapped) {
      throw new LrfreeConfigError(
        'averager: step() while the averaged weights are swapped in; call swapOut().',
      );
    }
    const t = this.steps + 1;
    const w = (1 + this.gamma) / (t + this.gamma);
    const next = tf.tidy(() =>
      this.vars.map((v, i) =>
        v.dtype === 'float32'
          ? tf.keep(tf.add(tf.mul(this.avg[i], 1 - w), tf.mul(v, w)))
          : tf.keep(v.clone()),
      ),
    );
    tf.dispose(this.avg);
    this.avg = next;
    this.steps = t;
  }

  /** The averaged weights, aligned with the target's weights (live state: do not dispose). */
  averaged(): readonly tf.Tensor[] {
    return this.avg;
  }

  /** Puts the averaged weights into the model (keeping the current ones aside). */
  swapIn(): void {
    if (this.swapped) return;
    this.swapped = this.vars.map((v) => tf.keep(v.clone()));
    this.vars.forEach((v, i) => {
      v.assign(this.avg[i]);
    });
  }

  /** Restores the weights that `swapIn` set aside. */
  swapOut(): void {
    if (!this.swapped) return;
    this.vars.forEach((v, i) => {
      v.assign(this.swapped![i]);
    });
    tf.dispose(this.swapped);
    this.swapped = undefined;
  }

  /**
   * The evaluation-point contract: the averaged weights in the variables, batch-norm statistics
   * recomputed at the average when `options` give a model with batch norm and `trainX` (otherwise the
   * averaged statistics are used). Returns the function that puts the training weights back exactly.
   * No-op when the average is already swapped in.
   */
  enterEvalPoint(options: EvalPointOptions = {}): () => void {
    if (this.swapped) return () => {};
    this.swapIn();
    const model = options.model;
    let bn: tf.Tensor[] | undefined;
    if (model && options.trainX && batchNormLayers(model).length > 0) {
      try {
        bn = recomputeBatchNorm({
          model,
          x: options.trainX,
          batchSize: options.batchSize,
          batches: options.batches,
          seed: options.seed,
        });
      } catch (e) {
        this.swapOut();
        throw e;
      }
    }
    let left = false;
    return () => {
      if (left) return;
      left = true;
      if (bn) restoreBatchNorm(model!, bn);
      this.swapOut();
    };
  }

  /** Runs `fn` (evaluate, predict, save...) with the averaged weights in place, then restores. */
  async withAveraged<T>(fn: () => T | Promise<T>): Promise<T> {
    this.swapIn();
    try {
      return await fn();
    } finally {
      this.swapOut();
    }
  }

  /** A callback for `model.fit` that calls `step()` after every batch. */
  callback(): tf.CustomCallback {
    return new tf.CustomCallback({ onBatchEnd: async () => this.step() });
  }

  /** Copies of the state, for saving (the caller owns the tensors). */
  getState(): AveragerState {
    return { t: this.steps, averaged: this.avg.map((a) => a.clone()) };
  }

  /** Restores a state from `getState` (copies the tensors). */
  setState(state: AveragerState): void {
    if (state.averaged.length !== this.vars.length) {
      throw new LrfreeConfigError(
        `averager: the state holds ${state.averaged.length} tensors but the target has ${this.vars.length} weights.`,
      );
    }
    tf.dispose(this.avg);
    this.avg = state.averaged.map((a) => tf.keep(a.clone()));
    this.steps = checkNumber('averager', 't', state.t, { min: 0, integer: true });
  }

  /** Frees the averaged copies. */
  dispose(): void {
    this.swapOut();
    tf.dispose(this.avg);
    this.avg = [];
  }
}

/**
 * A polynomial-decay averager of a model's weights (or of a list of variables).
 *
 * @example
 * ```ts
 * const avg = lrfree.averager(model, { gamma: 8 });
 * ```
 */
export function averager(
  target: tf.LayersModel | readonly tf.Variable[],
  options: AveragerOptions = {},
): PolynomialDecayAverager {
  return new PolynomialDecayAverager(target, options);
}
