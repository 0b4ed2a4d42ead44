/**
 * The Alrao model (ALGORITHMS.md §5): the user's network without its last layer (the pre-classifier),
 * trained with one random learning rate per feature, plus K classifier copies at log-spaced rates, averaged
 * by the switch. `wrap` builds it; it trains, predicts, evaluates, saves and loads.
 */
import * as tf from '@tensorflow/tfjs';
import { LrfreeOptimizer, type NamedTensor } from '../core/optimizer.js';
import { modelVariables } from '../core/params.js';
import { nodeFiles, nodeImport } from '../core/platform.js';
import { createDirection } from '../core/registry.js';
import { deriveSeed, mulberry32 } from '../core/rng.js';
import type { Direction } from '../core/types.js';
import { checkKnownKeys, checkNumber, checkOneOf, LrfreeConfigError } from '../core/validate.js';
import { sgd } from '../directions/sgd.js';
import { fileSystem } from '../io/fileSystem.js';
import {
  type AlraoTask,
  alraoHeadRates,
  headLogLikelihood,
  headOutputs,
  mixture,
  mixtureLossOfFeatures,
} from './heads.js';
import { alraoRates, checkRange, headRates } from './rates.js';
import { SwitchAveraging, type SwitchState } from './switch.js';

/** Options of {@link wrap}. */
export interface WrapOptions {
  /** Number of classes (classification) or output dimension (regression). Required. */
  classes: number;
  /** Number of classifier copies K, an integer >= 1. Default 10 (paper). */
  copies?: number;
  /** Smallest learning rate (pre-classifier features and first head), > 0. Default 1e-5 (paper, CIFAR-10). */
  minLr?: number;
  /** Largest learning rate, > minLr. Default 10 (paper, CIFAR-10). */
  maxLr?: number;
  /** Update direction of both parts: `sgd()` (default) gives Alrao-SGD, `adam()` Alrao-Adam (experimental). */
  direction?: Direction;
  /** Seed of the feature rates and the heads' initial weights and of the batch order. Default 0. */
  seed?: number;
  /** `classification` (default; log-softmax heads) or `regression` (linear heads, unit-variance Gaussian). */
  task?: AlraoTask;
  /** Switch prior parameter theta in [0, 1]. Default 0.9999 (reference). */
  theta?: number;
  /** Per-feature (default) or per-weight rates in the pre-classifier; see alraoRates. */
  granularity?: 'feature' | 'weight';
  /** Recurrent layers: `perUnit` (default, paper) or `perGateRow` (reference code). */
  lstmRateSharing?: 'perUnit' | 'perGateRow';
  /**
   * Hard catch-up (§5.6): every `every` steps, heads with log-posterior < `threshold` (default -20) take the
   * posterior-weighted average of all heads' weights. Default off (the paper's CNN runs never use it).
   */
  catchUp?: { every: number; threshold?: number };
  /** Regression point prediction: `best` head (default, reference) or posterior-weighted `mean`. */
  regressionPrediction?: 'best' | 'mean';
}

/** Logs passed to callbacks and kept in the history: numbers only. */
export type AlraoLogs = Record<string, number>;

/** Callbacks of {@link AlraoModel.fit}, like TF.js's CustomCallbackArgs (all optional, may be async). */
export interface AlraoCallbacks {
  onTrainBegin?: (logs?: AlraoLogs) => void | Promise<void>;
  onTrainEnd?: (logs?: AlraoLogs) => void | Promise<void>;
  onEpochBegin?: (epoch: number, logs?: AlraoLogs) => void | Promise<void>;
  onEpochEnd?: (epoch: number, logs?: AlraoLogs) => void | Promise<void>;
  onBatchBegin?: (batch: number, logs?: AlraoLogs) => void | Promise<void>;
  onBatchEnd?: (batch: number, logs?: AlraoLogs) => void | Promise<void>;
  /** TF.js callbacks (e.g. tf.callbacks.earlyStopping) get the Alrao model here. */
  setModel?: (model: unknown) => void;
  setParams?: (params: Record<string, unknown>) => void;
}

/** Options of {@link AlraoModel.fit}. */
export interface AlraoFitArgs {
  /** Default 1. */
  epochs?: number;
  /** Default 32. */
  batchSize?: number;
  /** Shuffle every epoch (seeded from the model's seed and the epoch). Default true. */
  shuffle?: boolean;
  /** Evaluated at the end of every epoch: `val_loss`, `val_acc` (or `val_mse`). */
  validationData?: [tf.Tensor, tf.Tensor];
  /** 1 (default): a progress bar per epoch on the terminal; 0: silent. */
  verbose?: 0 | 1;
  callbacks?: AlraoCallbacks | AlraoCallbacks[];
  /** Epoch to start from (for resumed training). Default 0. */
  initialEpoch?: number;
}

/** What {@link AlraoModel.fit} returns, like tf.History. */
export interface AlraoHistory {
  epoch: number[];
  history: Record<string, number[]>;
}

interface SavedAlrao {
  format: 'lrfree-alrao';
  version: 1;
  config: Omit<WrapOptions, 'direction'> & { direction: { kind: string; config: unknown } };
  steps: number;
  skipped: number;
  switchState: SwitchState;
  heads: { W: SavedTensor; b: SavedTensor };
  preOptimizer: SavedTensor[];
  headOptimizer: SavedTensor[];
}

interface SavedTensor {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  values: number[];
}

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

  private readonly options: Required<Omit<WrapOptions, 'catchUp' | 'direction'>> & {
    catchUp?: { every: number; threshold: number };
  };
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
    checkKnownKeys(where, options, [
      'classes',
      'copies',
      'minLr',
      'maxLr',
      'direction',
      'seed',
      'task',
      'theta',
      'granularity',
      'lstmRateSharing',
      'catchUp',
      'regressionPrediction',
    ]);
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
    this.task = checkOneOf(where, 'task', options.task ?? 'classification', [
      'classification',
      'regression',
    ] as const);
    this.classes = checkNumber(where, 'classes', options.classes, {
      min: this.task === 'classification' ? 2 : 1,
      integer: true,
    });
    this.copies = checkNumber(where, 'copies', options.copies ?? 10, { min: 1, integer: true });
    this.minLr = options.minLr ?? 1e-5;
    this.maxLr = options.maxLr ?? 10;
    checkRange(where, this.minLr, this.maxLr);
    this.seed = checkNumber(where, 'seed', options.seed ?? 0, { integer: true });
    const theta = options.theta ?? 0.9999;
    let catchUp: { every: number; threshold: number } | undefined;
    if (options.catchUp) {
      checkKnownKeys(`${where} catchUp`, options.catchUp, ['every', 'threshold']);
      catchUp = {
        every: checkNumber(where, 'catchUp.every', options.catchUp.every, { min: 1, integer: true }),
        threshold: checkNumber(where, 'catchUp.threshold', options.catchUp.threshold ?? -20, {}),
      };
    }
    this.options = {
      classes: this.classes,
      copies: this.copies,
      minLr: this.minLr,
      maxLr: this.maxLr,
      seed: this.seed,
      task: this.task,
      theta,
      granularity: options.granularity ?? 'feature',
      lstmRateSharing: options.lstmRateSharing ?? 'perUnit',
      regressionPrediction: checkOneOf(
        where,
        'regressionPrediction',
        options.regressionPrediction ?? 'best',
        ['best', 'mean'] as const,
      ),
      catchUp,
    };
    this.direction = options.direction ?? sgd();
    if (typeof this.direction.compute !== 'function') {
      throw new LrfreeConfigError(`${where}: direction must be a direction such as lrfree.directions.sgd().`);
    }
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
    this.W = tf.variable(tf.tensor3d(init, [d, this.copies, c]), true, `alrao_heads_${id}/kernel`);
    this.b = tf.variable(tf.zeros([this.copies, c]), true, `alrao_heads_${id}/bias`);

    this.preOpt = new LrfreeOptimizer({
      direction: this.direction,
      step: alraoRates({
        minLr: this.minLr,
        maxLr: this.maxLr,
        seed: this.seed,
        granularity: this.options.granularity,
        lstmRateSharing: this.options.lstmRateSharing,
      }),
      seed: this.seed,
      model: preClassifier,
      name: 'alraoPreClassifier',
    });
    this.headOpt = new LrfreeOptimizer({
      direction: this.direction,
      step: alraoHeadRates({ copies: this.copies, minLr: this.minLr, maxLr: this.maxLr }),
      seed: this.seed,
      name: 'alraoHeads',
    });
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
   * like LayersModel.fit. Logs: `loss` (mixture NLL), `acc` (or `mse`), `val_loss`, `val_acc`,
   * `skipped`, `bestHead` (index of the head with the largest posterior).
   */
  async fit(x: tf.Tensor, y: tf.Tensor, args: AlraoFitArgs = {}): Promise<AlraoHistory> {
    const where = 'AlraoModel.fit';
    checkKnownKeys(where, args, [
      'epochs',
      'batchSize',
      'shuffle',
      'validationData',
      'verbose',
      'callbacks',
      'initialEpoch',
    ]);
    const epochs = checkNumber(where, 'epochs', args.epochs ?? 1, { min: 1, integer: true });
    const batchSize = checkNumber(where, 'batchSize', args.batchSize ?? 32, { min: 1, integer: true });
    const initialEpoch = checkNumber(where, 'initialEpoch', args.initialEpoch ?? 0, {
      min: 0,
      integer: true,
    });
    const n = x.shape[0];
    this.targets(y, n, true).dispose(); // validates every label once, before training
    if (args.validationData)
      this.targets(args.validationData[1], args.validationData[0].shape[0], true).dispose();
    const callbacks = args.callbacks
      ? Array.isArray(args.callbacks)
        ? args.callbacks
        : [args.callbacks]
      : [];
    const steps = Math.ceil(n / batchSize);
    for (const cb of callbacks) {
      cb.setModel?.(this);
      cb.setParams?.({ epochs, steps, batchSize, samples: n, verbose: args.verbose ?? 1 });
    }
    const bar = (args.verbose ?? 1) === 1 ? await progressBar() : undefined;
    const history: AlraoHistory = { epoch: [], history: {} };
    this.stopTraining = false;
    // Skipped steps (bad data) are reported once, with their count, when the run ends.
    let running = true;
    this.preOpt.fitRunBegin(steps, () => running);
    try {
      await this.fitEpochs(x, y, args, {
        epochs,
        initialEpoch,
        batchSize,
        steps,
        n,
        callbacks,
        history,
        bar,
      });
    } finally {
      running = false;
      this.preOpt.fitRunEnd();
    }
    return history;
  }

  private async fitEpochs(
    x: tf.Tensor,
    y: tf.Tensor,
    args: AlraoFitArgs,
    run: {
      epochs: number;
      initialEpoch: number;
      batchSize: number;
      steps: number;
      n: number;
      callbacks: AlraoCallbacks[];
      history: AlraoHistory;
      bar: Awaited<ReturnType<typeof progressBar>>;
    },
  ): Promise<void> {
    const { epochs, initialEpoch, batchSize, steps, n, callbacks, history, bar } = run;
    for (const cb of callbacks) await cb.onTrainBegin?.({});
    for (let epoch = initialEpoch; epoch < epochs && !this.stopTraining; epoch++) {
      for (const cb of callbacks) await cb.onEpochBegin?.(epoch, {});
      const order = Array.from({ length: n }, (_, i) => i);
      if (args.shuffle ?? true) shuffleInPlace(order, deriveSeed(this.seed, 0x5f1e, epoch));
      bar?.start(steps, 0, { epoch: epoch + 1, epochs, loss: 'n/a' });
      let lossSum = 0;
      let lossCount = 0;
      for (let batch = 0; batch < steps && !this.stopTraining; batch++) {
        for (const cb of callbacks) await cb.onBatchBegin?.(batch, { batch, size: batchSize });
        const idx = tf.tensor1d(order.slice(batch * batchSize, (batch + 1) * batchSize), 'int32');
        const xb = tf.gather(x, idx);
        const yb = tf.gather(y, idx);
        let loss: number;
        try {
          loss = this.step(xb, yb, false);
        } finally {
          tf.dispose([idx, xb, yb]);
        }
        if (Number.isFinite(loss)) {
          lossSum += loss;
          lossCount += 1;
        }
        bar?.update(batch + 1, { epoch: epoch + 1, epochs, loss: loss.toFixed(4) });
        for (const cb of callbacks) await cb.onBatchEnd?.(batch, { batch, size: batchSize, loss });
        await tf.nextFrame?.();
      }
      bar?.stop();
      const logs: AlraoLogs = { loss: lossCount > 0 ? lossSum / lossCount : Number.NaN };
      if (args.validationData) {
        const v = this.evaluate(args.validationData[0], args.validationData[1], { batchSize });
        for (const [k, value] of Object.entries(v)) logs[`val_${k}`] = value;
      }
      logs.skipped = this.skipped;
      logs.bestHead = this.switch.best();
      history.epoch.push(epoch);
      for (const [k, value] of Object.entries(logs)) {
        history.history[k] = [...(history.history[k] ?? []), value];
      }
      if ((args.verbose ?? 1) === 1) {
        const parts = Object.entries(logs).map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toFixed(4)}`);
        process.stderr.write(`epoch ${epoch + 1}/${epochs}: ${parts.join(' ')}\n`);
      }
      for (const cb of callbacks) await cb.onEpochEnd?.(epoch, logs);
    }
    for (const cb of callbacks) await cb.onTrainEnd?.({});
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
    const { fs, path } = await nodeFiles('AlraoModel.save');
    const { mkdirSync, writeFileSync } = fs;
    const { join } = path;
    mkdirSync(dir, { recursive: true });
    await this.preClassifier.save(fileSystem(join(dir, 'preclassifier')));
    const saved: SavedAlrao = {
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
    };
    writeFileSync(join(dir, 'alrao.json'), JSON.stringify(saved, replacer));
  }

  /** Loads a model written by {@link save}; training continues exactly where it stopped. */
  static async load(dir: string): Promise<AlraoModel> {
    const { fs, path } = await nodeFiles('AlraoModel.load');
    const { readFileSync } = fs;
    const { join } = path;
    const saved = JSON.parse(readFileSync(join(dir, 'alrao.json'), 'utf8'), reviver) as SavedAlrao;
    if (saved.format !== 'lrfree-alrao') {
      throw new LrfreeConfigError(`AlraoModel.load: ${join(dir, 'alrao.json')} is not an Alrao model.`);
    }
    const pre = await tf.loadLayersModel(fileSystem(join(dir, 'preclassifier')));
    const { direction, ...rest } = saved.config;
    const model = new AlraoModel(pre, { ...rest, direction: createDirection(direction) });
    model.W.assign(fromSaved(saved.heads.W));
    model.b.assign(fromSaved(saved.heads.b));
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
    const where = 'alrao';
    if (y.shape[0] !== n) {
      throw new LrfreeConfigError(`${where}: got ${y.shape[0]} labels for ${n} examples.`);
    }
    if (this.task === 'regression') {
      if (y.shape.length !== 2 || y.shape[1] !== this.classes) {
        throw new LrfreeConfigError(
          `${where}: regression targets must be [batch, ${this.classes}]; got ${JSON.stringify(y.shape)}.`,
        );
      }
      return tf.cast(y, 'float32') as tf.Tensor2D;
    }
    const sparse = y.shape.length === 1 || (y.shape.length === 2 && y.shape[1] === 1 && this.classes !== 1);
    if (sparse) {
      if (check) {
        const values = y.dataSync();
        const bad = values.findIndex((v) => !Number.isInteger(v) || v < 0 || v >= this.classes);
        if (bad >= 0) {
          throw new LrfreeConfigError(
            `${where}: label ${values[bad]} at index ${bad} is out of range; integer labels must be in [0, ${this.classes - 1}].`,
          );
        }
      }
      return tf.tidy(
        () => tf.oneHot(tf.cast(tf.reshape(y, [n]), 'int32'), this.classes).toFloat() as tf.Tensor2D,
      );
    }
    if (y.shape.length !== 2 || y.shape[1] !== this.classes) {
      throw new LrfreeConfigError(
        `${where}: labels must be integers [batch] or one-hot [batch, ${this.classes}]; got shape ${JSON.stringify(y.shape)}.`,
      );
    }
    if (check) {
      const values = y.dataSync();
      const bad = values.findIndex((v) => !(v >= 0 && v <= 1));
      if (bad >= 0) {
        throw new LrfreeConfigError(
          `${where}: one-hot label value ${values[bad]} at flat index ${bad} is out of range; values must be in [0, 1].`,
        );
      }
    }
    return tf.cast(y, 'float32') as tf.Tensor2D;
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

function shuffleInPlace(a: number[], seed: number): void {
  const r = mulberry32(seed);
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
}

function toSaved(name: string, t: tf.Tensor): SavedTensor {
  return {
    name,
    shape: [...t.shape],
    dtype: t.dtype === 'int32' ? 'int32' : 'float32',
    values: Array.from(t.dataSync()),
  };
}

function fromSaved(s: SavedTensor): tf.Tensor {
  return tf.tensor(s.values, s.shape, s.dtype);
}

function named(s: SavedTensor): NamedTensor {
  return { name: s.name, tensor: fromSaved(s) };
}

// JSON keeps NaN/Infinity (a diverged head, theta = 1) as tagged strings.
function replacer(_k: string, v: unknown): unknown {
  return typeof v === 'number' && !Number.isFinite(v) ? `$nf:${v}` : v;
}
function reviver(_k: string, v: unknown): unknown {
  return typeof v === 'string' && v.startsWith('$nf:') ? Number(v.slice(4)) : v;
}

/** The part of `cli-progress` the bar uses (loaded at call time, in a terminal only). */
interface CliProgress {
  SingleBar: new (
    options: object,
    preset: object,
  ) => {
    start(total: number, value: number, payload: object): void;
    update(v: number, payload: object): void;
    stop(): void;
  };
  Presets: { shades_classic: object };
}

async function progressBar(): Promise<
  | {
      start(total: number, value: number, payload: object): void;
      update(v: number, payload: object): void;
      stop(): void;
    }
  | undefined
> {
  if (typeof process === 'undefined' || !process.stderr?.isTTY) return undefined;
  const mod = await nodeImport<CliProgress & { default?: CliProgress }>(
    'cli-progress',
    'the Alrao progress bar',
  );
  const cli = mod.default ?? mod;
  return new cli.SingleBar(
    {
      format: 'epoch {epoch}/{epochs} [{bar}] {value}/{total} batches | loss {loss} | eta {eta}s',
      hideCursor: true,
    },
    cli.Presets.shades_classic,
  );
}
