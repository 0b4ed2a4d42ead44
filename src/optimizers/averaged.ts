/**
 * An optimizer that keeps a polynomial-decay average of its iterates (Shamir & Zhang 2013) and offers it
 * as its evaluation point: DoG's iterate averaging (`dog({ average: true })`, ALGORITHMS.md §9.5, which
 * the authors call crucial). Training is unchanged; the average is folded in after every applied step,
 * saved with the optimizer's state and put into the model by the evaluation-point contract
 * (core/evalPoint.ts): `withEvalPoint`, the `atX` helpers, `evalPointCallback`, the benchmark runner.
 */
import * as tf from '@tensorflow/tfjs';
import { batchNormLayers, recomputeBatchNorm, restoreBatchNorm } from '../core/batchNorm.js';
import type { EvalPointOptions, HasEvalPoint } from '../core/evalPoint.js';
import { type LossFn, LrfreeOptimizer, type NamedTensor, type OptimizerOptions } from '../core/optimizer.js';
import { modelVariables } from '../core/params.js';
import { checkNumber, LrfreeConfigError } from '../core/validate.js';
import { PolynomialDecayAverager } from './averager.js';

const AVG = 'lrfree/average/';
const AVG_STEPS = 'lrfree/averageSteps';

/** Options of {@link AveragedOptimizer}: the optimizer's, plus the averager's gamma. */
export interface AveragedOptimizerOptions extends OptimizerOptions {
  /** gamma >= 0 of the polynomial-decay average (0 = uniform). Default 8 (DoG's choice). */
  averageGamma?: number;
}

/**
 * An {@link LrfreeOptimizer} with an iterate average as its evaluation point. Stepping while the average
 * is in the model throws (leave the evaluation point first). Only trainable variables are averaged, so
 * batch-norm statistics are recomputed at the average when `trainX` is given.
 */
export class AveragedOptimizer extends LrfreeOptimizer implements HasEvalPoint {
  /** @nocollapse */
  static override className = 'AveragedOptimizer';

  static override [Symbol.hasInstance](instance: unknown): boolean {
    return Function.prototype[Symbol.hasInstance].call(AveragedOptimizer, instance);
  }

  private gamma: number;
  private avg?: PolynomialDecayAverager;
  private pendingAvg?: { t: number; averaged: tf.Tensor[] };
  private inside = false;

  constructor(options: AveragedOptimizerOptions) {
    const { averageGamma, ...base } = options;
    super(base);
    this.gamma = checkNumber(this.name, 'averageGamma', averageGamma ?? 8, { min: 0 });
  }

  /** The averager (undefined before the first step). */
  get averager(): PolynomialDecayAverager | undefined {
    return this.avg;
  }

  override minimize(f: LossFn, returnCost = false, varList?: tf.Variable[]): tf.Scalar | null {
    this.checkOutside();
    const out = super.minimize(f, returnCost, varList);
    this.fold();
    return out;
  }

  override applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    this.checkOutside();
    super.applyGradients(variableGradients);
    this.fold();
  }

  /** The average in the trained variables (BN statistics recomputed there with `model` + `trainX`). */
  enterEvalPoint(options: EvalPointOptions = {}): () => void {
    if (this.inside) return () => {};
    if (!this.avg) this.bind(options.model ? modelVariables(options.model) : undefined);
    if (!this.avg) return () => {};
    this.avg.swapIn();
    this.inside = true;
    const model = options.model;
    let bn: tf.Tensor[] | undefined;
    if (model && options.trainX && batchNormLayers(model).length > 0) {
      bn = recomputeBatchNorm({
        model,
        x: options.trainX,
        batchSize: options.batchSize,
        batches: options.batches,
        seed: options.seed,
      });
    }
    let left = false;
    return () => {
      if (left) return;
      left = true;
      if (bn) restoreBatchNorm(model!, bn);
      this.avg!.swapOut();
      this.inside = false;
    };
  }

  /** Batch-norm statistics are not averaged: they belong to the iterates. */
  requiresBatchNormRecompute(): boolean {
    return true;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), averageGamma: this.gamma };
  }

  /** @nocollapse */
  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    const opt = LrfreeOptimizer.fromConfig(cls, config) as unknown as AveragedOptimizer;
    opt.gamma = checkNumber(opt.name, 'averageGamma', config.averageGamma ?? 8, { min: 0 });
    return opt as unknown as T;
  }

  /** The optimizer's state, then the averaged tensors and the average's step count. */
  override async getWeights(): Promise<NamedTensor[]> {
    const out = await super.getWeights();
    const state = this.avg ? { t: this.avg.steps, averaged: this.avg.averaged() } : this.pendingAvg;
    if (state) {
      state.averaged.forEach((t, i) => {
        out.push({ name: `${AVG}${i}`, tensor: t });
      });
      out.push({ name: AVG_STEPS, tensor: tf.scalar(state.t, 'int32') });
    }
    return out;
  }

  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const own = weightValues.filter((w) => w.name.startsWith(AVG) || w.name === AVG_STEPS);
    await super.setWeights(weightValues.filter((w) => !own.includes(w)));
    this.avg?.dispose();
    this.avg = undefined;
    if (this.pendingAvg) tf.dispose(this.pendingAvg.averaged);
    this.pendingAvg = undefined;
    const steps = own.find((w) => w.name === AVG_STEPS);
    if (steps) {
      this.pendingAvg = {
        t: (await steps.tensor.data())[0],
        averaged: own.filter((w) => w !== steps).map((w) => tf.keep(w.tensor.clone())),
      };
    }
  }

  override dispose(): void {
    this.avg?.dispose();
    if (this.pendingAvg) tf.dispose(this.pendingAvg.averaged);
    super.dispose();
  }

  private checkOutside(): void {
    if (this.inside) {
      throw new LrfreeConfigError(
        `${this.name}: step called while the averaged weights are in the model; leave the evaluation ` +
          'point first (the leave function, or the next fit with evalPointCallback).',
      );
    }
  }

  /** Folds the weights of the step just taken into the average (skipped steps change nothing). */
  private fold(): void {
    if (this.lastStep.skipped) return;
    if (!this.avg) this.bind();
    this.avg?.step();
  }

  /** Creates the averager on the trained variables (restoring a saved average when there is one). */
  private bind(vars?: tf.Variable[]): void {
    const trained = this.directionSlots().map((s) => s.variable);
    const target = trained.length > 0 ? trained : vars;
    if (!target || target.length === 0) return;
    const avg = new PolynomialDecayAverager(target, { gamma: this.gamma });
    if (this.pendingAvg) {
      avg.setState(this.pendingAvg);
      tf.dispose(this.pendingAvg.averaged);
      this.pendingAvg = undefined;
    }
    this.avg = avg;
  }
}

tf.serialization.registerClass(AveragedOptimizer);
