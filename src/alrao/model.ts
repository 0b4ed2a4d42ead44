/**
 * The Alrao model (ALGORITHMS.md §5): the user's network without its last layer (the pre-classifier),
 * trained with one random learning rate per feature, plus K classifier copies at log-spaced rates, averaged
 * by the switch. `wrap` builds it. This file holds the model's state and its training step and inference;
 * the other jobs have their own files: options.ts (options, defaults, checks), targets.ts (labels),
 * fit.ts (the epoch loop with callbacks), persist.ts (save/load format), progressBar.ts.
 */
import * as tf from '@tensorflow/tfjs';
import type { LrfreeOptimizer } from '../core/optimizer.js';
import { modelVariables } from '../core/params.js';
import { createDirection } from '../core/registry.js';
import { deriveSeed, mulberry32 } from '../core/rng.js';
import type { Direction } from '../core/types.js';
import { LrfreeConfigError } from '../core/validate.js';
import { type AlraoFitArgs, type AlraoHistory, type AlraoLogs, fitAlrao } from './fit.js';
import { type AlraoTask, headLogLikelihood, headOutputs, mixture, mixtureLossOfFeatures } from './heads.js';
import { alraoOptimizers } from './optimizers.js';
import { type ResolvedWrapOptions, resolveWrapOptions, type WrapOptions } from './options.js';
import { fromSaved, named, readAlrao, toSaved, writeAlrao } from './persist.js';
import { headRates } from './rates.js';
import { SwitchAveraging } from './switch.js';
import { alraoTargets } from './targets.js';

export type { AlraoCallbacks, AlraoFitArgs, AlraoHistory, AlraoLogs } from './fit.js';
export type { WrapOptions } from './options.js';

let headCounter = 0;

/**
 * An Alrao model. Build it with {@link wrap}.
 *
 * Per mini-batch (one forward/backward through the pre-classifier, as plain training):
 * ```
 * z = phi(x);  ll_j = log p_j(y | z) for every head j
 * L_mix = -mean_b LSE_j(ll_j + logPost_j)        (posterior from before this batch)
 * phi  <- phi - eta_feature * d(grad_phi L_mix)  (per-feature rates, alraoRates)
 * head_j <- head_j - eta_j * d(grad own NLL_j with z detached)   (eta_j log-spaced)
 * switch.update(batch-mean ll_j)
 * ```
 */
export class AlraoModel {
  readonly preClassifier: tf.LayersModel;
  readonly classes: number;
  readonly copies: number;
  readonly task: AlraoTask;
  readonly minLr: number;
  readonly maxLr: number;
  readonly seed: number;
  /** The learning rate of every head, log-spaced in [minLr, maxLr]. */
  readonly headRates: number[];
  /** Set to true (e.g. from a callback) to stop `fit` after the current batch. */
  stopTraining = false;
  /** Steps applied, and steps skipped because the features or the mixture loss were not finite. */
  steps = 0;
  skipped = 0;

  private readonly options: ResolvedWrapOptions;
  private readonly direction: Direction;
  private readonly W: tf.Variable;
  private readonly b: tf.Variable;
  private readonly switch: SwitchAveraging;
  private readonly preOpt: LrfreeOptimizer;
  private readonly headOpt: LrfreeOptimizer;
  private readonly features: number;

  /** @internal use {@link wrap} or {@link AlraoModel.load}. */
  constructor(preClassifier: tf.LayersModel, options: WrapOptions) {
    const where = 'alrao.wrap';
    const { resolved, direction } = resolveWrapOptions(options);
    if (!preClassifier || !Array.isArray((preClassifier as tf.LayersModel).outputs)) {
      throw new LrfreeConfigError(
        `${where}: the pre-classifier must be a tf.LayersModel (the network without its last layer).`,
      );
    }
    if (preClassifier.outputs.length !== 1) {
      throw new LrfreeConfigError(
        `${where}: the pre-classifier must have one output; it has ${preClassifier.outputs.length}.`,
      );
    }
    const outShape = preClassifier.outputs[0].shape;
    if (outShape.length !== 2 || typeof outShape[1] !== 'number') {
      throw new LrfreeConfigError(
        `${where}: the pre-classifier's output must be rank 2, [batch, features]; it is ${JSON.stringify(outShape)}. ` +
          'Add tf.layers.flatten() (or global pooling) as its last layer.',
      );
    }
    this.options = resolved;
    this.direction = direction;
    this.task = resolved.task;
    this.classes = resolved.classes;
    this.copies = resolved.copies;
    this.minLr = resolved.minLr;
    this.maxLr = resolved.maxLr;
    this.seed = resolved.seed;
    const theta = resolved.theta;
    this.switch = new SwitchAveraging(this.copies, { theta });
    this.preClassifier = preClassifier;
    this.features = outShape[1];
    this.headRates = headRates(this.copies, this.minLr, this.maxLr);

    // Heads: Glorot-uniform kernels (the Dense default), zero biases, from the seed.
    const d = this.features;
    const c = this.classes;
    const limit = Math.sqrt(6 / (d + c));
    const r = mulberry32(deriveSeed(this.seed, 0x4ead));
    const init = Float32Array.from({ length: d * this.copies * c }, () => (2 * r() - 1) * limit);
    const id = headCounter++;
    const w0 = tf.tensor3d(init, [d, this.copies, c]);
    const b0 = tf.zeros([this.copies, c]);
    this.W = tf.variable(w0, true, `alrao_heads_${id}/kernel`);
    this.b = tf.variable(b0, true, `alrao_heads_${id}/bias`);
    tf.dispose([w0, b0]); // the variables hold copies

    const { preOpt, headOpt } = alraoOptimizers(preClassifier, this.direction, this.options);
    this.preOpt = preOpt;
    this.headOpt = headOpt;
  }

  // -------------------------------------------------------------------------------------------
  // Training

  /**
   * One training step on a batch. `y`: one-hot (or probability) labels [B, classes], or integer labels
   * [B] / [B, 1] (classification); targets [B, classes] (regression). The labels are checked (one
   * read-back) unless `validate: false`. Returns the mixture loss (NaN when the step was skipped because
   * the features or the loss were not finite).
   */
  trainOnBatch(x: tf.Tensor, y: tf.Tensor, options: { validate?: boolean } = {}): number {
    return this.step(x, y, options.validate ?? true);
  }

  /** One step; `check` validates the labels (fit validates them all once instead). */
  private step(x: tf.Tensor, y: tf.Tensor, check: boolean): number {
    const target = this.targets(y, x.shape[0], check);
    const vars = modelVariables(this.preClassifier);
    let heads: { meanLogLik: tf.Tensor1D; dW: tf.Tensor3D; db: tf.Tensor2D } | undefined;
    const logPost = tf.tensor1d(this.switch.logPosterior());
    try {
      const lossFn = mixtureLossOfFeatures(
        this.W as tf.Tensor as tf.Tensor3D,
        this.b as tf.Tensor as tf.Tensor2D,
        target,
        logPost,
        this.task,
        (h) => {
          tf.dispose(heads ? [heads.meanLogLik, heads.dW, heads.db] : []);
          heads = h;
        },
      );
      const cost = this.preOpt.minimize(
        () => lossFn(this.preClassifier.apply(x, { training: true }) as tf.Tensor2D),
        true,
        vars,
      );
      cost?.dispose();
      if (this.preOpt.lastStep.skipped || !heads) {
        // Non-finite features or mixture loss: no parameter and no switch update (ALGORITHMS.md §5.8).
        this.skipped += 1;
        return Number.NaN;
      }
      const h = heads;
      const lp = Array.from(h.meanLogLik.dataSync());
      this.headOpt.applyGradients({ [this.W.name]: h.dW, [this.b.name]: h.db });
      this.switch.update(lp);
      this.steps += 1;
      const cu = this.options.catchUp;
      if (cu && this.steps % cu.every === 0) this.catchUp(cu.threshold);
      return this.preOpt.lastStep.loss;
    } finally {
      tf.dispose([logPost, target]);
      if (heads) tf.dispose([heads.meanLogLik, heads.dW, heads.db]);
    }
  }

  /**
   * Hard catch-up: heads with log-posterior below `threshold` take the posterior-weighted average of all
   * finite heads' weights and biases. The switch is left unchanged. Returns the heads reset.
   */
  catchUp(threshold = -20): number[] {
    const lagging = this.switch.lagging(threshold);
    if (lagging.length === 0) return lagging;
    const post = this.switch.posterior();
    tf.tidy(() => {
      const mask = tf.tensor1d(post.map((_, j) => (lagging.includes(j) ? 1 : 0)));
      for (const [v, axis] of [
        [this.W, 1],
        [this.b, 0],
      ] as const) {
        const shape = v.shape.map((s, a) => (a === axis ? s : 1));
        const ok = tf.all(tf.isFinite(v), v.shape.length === 3 ? [0, 2] : [1]);
        const w = tf.where(ok, tf.tensor1d(post), tf.zerosLike(ok).toFloat());
        const wn = tf.div(w, tf.sum(w));
        const safe = tf.where(tf.isFinite(v), v, tf.zerosLike(v));
        const avg = tf.sum(tf.mul(safe, tf.reshape(wn, shape)), axis, true);
        v.assign(tf.where(tf.cast(tf.reshape(mask, shape), 'bool'), tf.broadcastTo(avg, v.shape), v));
      }
    });
    return lagging;
  }

  /**
   * Trains for `epochs` over (x, y) in mini-batches, with validation, callbacks and a progress bar,
   * like LayersModel.fit (fit.ts). Logs: `loss` (mixture NLL), `acc` (or `mse`), `val_loss`, `val_acc`,
   * `skipped`, `bestHead` (index of the head with the largest posterior).
   */
  fit(x: tf.Tensor, y: tf.Tensor, args: AlraoFitArgs = {}): Promise<AlraoHistory> {
    return fitAlrao(this, x, y, args);
  }

  /** @internal Throws when a label is invalid (fit checks all labels once, before training). */
  checkLabels(y: tf.Tensor, n: number): void {
    this.targets(y, n, true).dispose();
  }

  /** @internal One step on a batch whose labels fit has checked. */
  trainCheckedBatch(x: tf.Tensor, y: tf.Tensor): number {
    return this.step(x, y, false);
  }

  /** Index of the head with the largest posterior. */
  bestHead(): number {
    return this.switch.best();
  }

  // -------------------------------------------------------------------------------------------
  // Inference

  /**
   * Classification: log p(y|x) = LSE_j(logPost_j + log p_j(y|x)), [B, classes] (the log of the
   * posterior-weighted average of the heads' probabilities; argmax = predicted class). Regression: the
   * best head's output (or the posterior-weighted mean, option `regressionPrediction`).
   */
  predict(x: tf.Tensor, options: { batchSize?: number } = {}): tf.Tensor2D {
    const batchSize = options.batchSize ?? 256;
    const n = x.shape[0];
    const parts: tf.Tensor2D[] = [];
    for (let start = 0; start < n; start += batchSize) {
      parts.push(
        tf.tidy(() => {
          const xb = tf.slice(x, start, Math.min(batchSize, n - start));
          return this.predictBatch(xb);
        }),
      );
    }
    if (parts.length === 1) return parts[0];
    const out = tf.concat(parts, 0) as tf.Tensor2D;
    tf.dispose(parts);
    return out;
  }

  private predictBatch(x: tf.Tensor): tf.Tensor2D {
    const z = this.preClassifier.apply(x, { training: false }) as tf.Tensor2D;
    return this.fromOutputs(
      headOutputs(z, this.W as tf.Tensor as tf.Tensor3D, this.b as tf.Tensor as tf.Tensor2D),
    );
  }

  /** Prediction from the heads' raw outputs [B, K, C]; diverged heads are left out. */
  private fromOutputs(out: tf.Tensor3D): tf.Tensor2D {
    if (this.task === 'classification') {
      const lp = tf.logSoftmax(out);
      const finite = tf.broadcastTo(tf.all(tf.isFinite(lp), 2, true), lp.shape);
      const logPost = tf.reshape(tf.tensor1d(this.switch.logPosterior()), [1, this.copies, 1]);
      const joint = tf.where(finite, tf.add(lp, logPost), tf.fill(lp.shape, Number.NEGATIVE_INFINITY));
      return tf.logSumExp(joint, 1) as tf.Tensor2D;
    }
    if (this.options.regressionPrediction === 'best') {
      return tf.squeeze(tf.slice(out, [0, this.switch.best(), 0], [-1, 1, -1]), [1]) as tf.Tensor2D;
    }
    const post = tf.reshape(tf.tensor1d(this.switch.posterior()), [1, this.copies, 1]);
    const finite = tf.broadcastTo(tf.all(tf.isFinite(out), 2, true), out.shape);
    return tf.sum(tf.where(finite, tf.mul(out, post), tf.zerosLike(out)), 1) as tf.Tensor2D;
  }

  /**
   * Mixture loss (mean NLL of the posterior-weighted mixture, inference mode) and accuracy
   * (classification, argmax of `predict`) or mean squared error of `predict` (regression), over (x, y).
   */
  evaluate(x: tf.Tensor, y: tf.Tensor, options: { batchSize?: number } = {}): AlraoLogs {
    const batchSize = options.batchSize ?? 256;
    const n = x.shape[0];
    const target = this.targets(y, n, true);
    const logPost = tf.tensor1d(this.switch.logPosterior());
    let nll = 0;
    let metric = 0;
    try {
      for (let start = 0; start < n; start += batchSize) {
        const size = Math.min(batchSize, n - start);
        const values = tf.tidy(() => {
          const xb = tf.slice(x, start, size);
          const yb = tf.slice(target, start, size) as tf.Tensor2D;
          const z = this.preClassifier.apply(xb, { training: false }) as tf.Tensor2D;
          const out = headOutputs(z, this.W as tf.Tensor as tf.Tensor3D, this.b as tf.Tensor as tf.Tensor2D);
          const { logMix } = mixture(headLogLikelihood(out, yb, this.task).ll, logPost);
          const pred = this.fromOutputs(out);
          const m =
            this.task === 'classification'
              ? tf.sum(tf.cast(tf.equal(tf.argMax(pred, 1), tf.argMax(yb, 1)), 'float32'))
              : tf.sum(tf.mean(tf.square(tf.sub(pred, yb)), 1));
          return tf.stack([tf.neg(tf.sum(logMix)), m]);
        });
        const [a, m] = values.dataSync();
        values.dispose();
        nll += a;
        metric += m;
      }
    } finally {
      tf.dispose([target, logPost]);
    }
    return this.task === 'classification'
      ? { loss: nll / n, acc: metric / n }
      : { loss: nll / n, mse: metric / n };
  }

  /** Posterior weight of every head (sums to 1). */
  posterior(): number[] {
    return this.switch.posterior();
  }

  /** Log-posterior of every head. */
  logPosterior(): number[] {
    return this.switch.logPosterior();
  }

  /** The optimizer of the pre-classifier (its `lastStep`, `counters`). */
  get preClassifierOptimizer(): LrfreeOptimizer {
    return this.preOpt;
  }

  /** The optimizer of the heads. */
  get headsOptimizer(): LrfreeOptimizer {
    return this.headOpt;
  }

  /** The stacked head weights: kernel [features, copies, classes] and bias [copies, classes] (live). */
  get heads(): { kernel: tf.Variable; bias: tf.Variable } {
    return { kernel: this.W, bias: this.b };
  }

  // -------------------------------------------------------------------------------------------
  // Save / load

  /**
   * Saves everything needed to resume training exactly: the pre-classifier (TF.js layout in
   * `dir/preclassifier`), the heads, both optimizers' state (including the per-feature rates) and the
   * switch (`dir/alrao.json`). Node only.
   */
  async save(dir: string): Promise<void> {
    await writeAlrao(dir, this.preClassifier, {
      format: 'lrfree-alrao',
      version: 1,
      config: {
        ...this.options,
        catchUp: this.options.catchUp,
        direction: { kind: this.direction.kind, config: this.direction.config },
      },
      steps: this.steps,
      skipped: this.skipped,
      switchState: this.switch.getState(),
      heads: { W: toSaved('W', this.W), b: toSaved('b', this.b) },
      preOptimizer: (await this.preOpt.getWeights()).map((w) => toSaved(w.name, w.tensor)),
      headOptimizer: (await this.headOpt.getWeights()).map((w) => toSaved(w.name, w.tensor)),
    });
  }

  /** Loads a model written by {@link save}; training continues exactly where it stopped. */
  static async load(dir: string): Promise<AlraoModel> {
    const { pre, saved } = await readAlrao(dir);
    const { direction, ...rest } = saved.config;
    const model = new AlraoModel(pre, { ...rest, direction: createDirection(direction) });
    const [w, b] = [fromSaved(saved.heads.W), fromSaved(saved.heads.b)];
    model.W.assign(w);
    model.b.assign(b);
    tf.dispose([w, b]);
    model.switch.setState(saved.switchState);
    model.steps = saved.steps;
    model.skipped = saved.skipped;
    await model.preOpt.setWeights(saved.preOptimizer.map(named));
    await model.headOpt.setWeights(saved.headOptimizer.map(named));
    return model;
  }

  /** Frees the heads, both optimizers' state and the pre-classifier. */
  dispose(): void {
    this.preOpt.dispose();
    this.headOpt.dispose();
    this.W.dispose();
    this.b.dispose();
    this.preClassifier.dispose();
  }

  // -------------------------------------------------------------------------------------------

  /** Labels as a float [n, classes] tensor; `check` validates every value (one read-back). */
  private targets(y: tf.Tensor, n: number, check: boolean): tf.Tensor2D {
    return alraoTargets(y, n, this.classes, this.task, check);
  }
}

/**
 * Alrao (Blier, Wolinski, Ollivier 2019): wraps `preClassifier` (your network without its last layer; its
 * output must be [batch, features]) with `copies` classifier heads and trains it without choosing a
 * learning rate. The pre-classifier gets one learning rate per feature, drawn log-uniform in
 * [minLr, maxLr]; head j gets exp(log minLr + j/(K-1) log(maxLr/minLr)); the heads are averaged by the
 * switch posterior. Takes ownership of `preClassifier` (disposed with the model).
 *
 * Cost per step: one forward/backward through the pre-classifier (as plain training), K heads in one
 * matmul forward and one matmul backward each for their weights and the features. Memory: K heads.
 *
 * @example
 * ```ts
 * const input = tf.input({ shape: [784] });
 * let h = tf.layers.dense({ units: 128 }).apply(input) as tf.SymbolicTensor;
 * h = tf.layers.batchNormalization().apply(h) as tf.SymbolicTensor;
 * h = tf.layers.activation({ activation: 'relu' }).apply(h) as tf.SymbolicTensor;
 * const model = lrfree.alrao.wrap(tf.model({ inputs: input, outputs: h }), { classes: 10 });
 * await model.fit(xTrain, yTrain, { epochs: 3, batchSize: 64, validationData: [xVal, yVal] });
 * const logProbs = model.predict(xTest); // log of the posterior-weighted average of the heads
 * model.posterior(); // which learning rates won
 * ```
 */
export function wrap(preClassifier: tf.LayersModel, options: WrapOptions): AlraoModel {
  if (!options || typeof options !== 'object') {
    throw new LrfreeConfigError('alrao.wrap: options with at least `classes` are required.');
  }
  return new AlraoModel(preClassifier, options);
}
