/**
 * Loss along a line (and over a plane) in weight space, ALGORITHMS.md §11.1 (steps 1 and 7 of the
 * procedure): theta(alpha) = theta* + alpha*d with a filter-normalised random d (Li et al. 2018), or the
 * init -> final interpolation theta(alpha) = (1-alpha)*theta_init + alpha*theta_final (Goodfellow et al.).
 * The model is restored bit for bit afterwards. Batch-norm moving statistics are kept at the model's
 * values for every alpha by default, or (option `recomputeBatchNorm`, the better option of §11.1)
 * recomputed at every alpha from training-mode forwards on the data given.
 */
import * as tf from '@tensorflow/tfjs';
import { recomputeBatchNorm } from '../core/batchNorm.js';
import { featureAxisOf } from '../core/params.js';
import { deriveSeed, gaussian, mulberry32 } from '../core/rng.js';
import { checkKnownKeys, checkNumber, checkOneOf, LrfreeConfigError } from '../core/validate.js';
import {
  checkAbort,
  type DataSplit,
  type Evaluation,
  evaluate,
  type LossSpec,
  snapshotModel,
} from './common.js';

/** How a random direction is scaled (trap T27). */
export type Normalization = 'filter' | 'layer' | 'none';
/** What 1-D parameters (biases, batch-norm gamma/beta) get: zero (`biasbn`, the paper) or a copy of theta. */
export type IgnoreMode = 'biasbn' | 'none';

/** Options of {@link randomDirection}. */
export interface RandomDirectionOptions {
  /** Seed of the Gaussian draw. Default 0. */
  seed?: number;
  /** `filter` (default): every output filter of d gets the norm of the same filter of theta. */
  normalization?: Normalization;
  /** Default `biasbn`: 1-D parameters get d = 0. */
  ignore?: IgnoreMode;
}

/**
 * A random direction with the shapes of the model's trainable weights. d ~ N(0, I); for every tensor
 * with 2+ dims and every output filter f (last axis in TF.js, axis 2 for Conv2DTranspose):
 * d_f <- d_f * ||theta_f|| / (||d_f|| + 1e-10) (`filter`), or the same over the whole tensor (`layer`).
 * 1-D tensors: d = 0 (`biasbn`) or d = theta. The caller disposes the tensors.
 *
 * @example
 * ```ts
 * const d = randomDirection(model, { seed: 1 }); // filter-normalised, biases zeroed
 * ```
 */
export function randomDirection(model: tf.LayersModel, options: RandomDirectionOptions = {}): tf.Tensor[] {
  checkKnownKeys('randomDirection', options, ['seed', 'normalization', 'ignore']);
  const seed = checkNumber('randomDirection', 'seed', options.seed ?? 0, { integer: true });
  const norm = checkOneOf('randomDirection', 'normalization', options.normalization ?? 'filter', [
    'filter',
    'layer',
    'none',
  ] as const);
  const ignore = checkOneOf('randomDirection', 'ignore', options.ignore ?? 'biasbn', [
    'biasbn',
    'none',
  ] as const);
  const classOf = new Map<string, string>();
  for (const layer of model.layers) {
    for (const w of layer.trainableWeights) classOf.set(w.read().id.toString(), layer.getClassName());
  }
  return model.trainableWeights.map((w, i) => {
    const theta = w.read();
    const shape = theta.shape;
    const values = theta.dataSync();
    const d = new Float64Array(values.length);
    if (shape.length <= 1) {
      if (ignore === 'none') d.set(values);
      return tf.tensor(Float32Array.from(d), shape);
    }
    const draw = gaussian(mulberry32(deriveSeed(seed, i)));
    for (let j = 0; j < d.length; j++) d[j] = draw();
    if (norm === 'layer') scaleGroup(d, values, () => 0, 1);
    else if (norm === 'filter') {
      const axis = featureAxisOf(shape, classOf.get(theta.id.toString()), w.originalName ?? w.name);
      const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
      const filters = shape[axis];
      scaleGroup(d, values, (j) => Math.floor(j / inner) % filters, filters);
    }
    return tf.tensor(Float32Array.from(d), shape);
  });
}

/** Scales each group g of d (given by `groupOf`) to the norm of the same entries of theta. */
function scaleGroup(
  d: Float64Array,
  theta: ArrayLike<number>,
  groupOf: (j: number) => number,
  groups: number,
): void {
  const dn = new Float64Array(groups);
  const tn = new Float64Array(groups);
  for (let j = 0; j < d.length; j++) {
    const g = groupOf(j);
    dn[g] += d[j] * d[j];
    tn[g] += theta[j] * theta[j];
  }
  for (let j = 0; j < d.length; j++) {
    const g = groupOf(j);
    d[j] *= Math.sqrt(tn[g]) / (Math.sqrt(dn[g]) + 1e-10);
  }
}

/** Where the loss is measured: a split (inference mode, batched) or your own function of the model. */
export type Evaluator =
  | (DataSplit & { loss?: LossSpec; batchSize?: number })
  | ((model: tf.LayersModel) => Evaluation);

function evaluator(e: Evaluator): (model: tf.LayersModel) => Evaluation {
  return typeof e === 'function' ? e : (model) => evaluate(model, e, e.loss, e.batchSize);
}

/** Options of {@link weightSpaceLine}. */
export interface LineOptions extends RandomDirectionOptions {
  /**
   * `random` (default): a filter-normalised random direction from the current weights.
   * `interpolate`: from `init` (alpha = 0) to the current weights or `final` (alpha = 1).
   * A Tensor[] (trainable-weight shapes): that direction from the current weights.
   */
  direction?: 'random' | 'interpolate' | tf.Tensor[];
  /** First alpha. Default -1 (random), -0.5 (interpolate), 0 (given direction). */
  from?: number;
  /** Last alpha. Default 1 (random), 1.5 (interpolate, given direction). */
  to?: number;
  /** Multiplies the direction (a random direction's scale). Default 1. */
  span?: number;
  /** Number of alphas, evenly spaced, ends included. Default 51 (random), 81 (interpolate), 31 (given). */
  steps?: number;
  /**
   * Initial weights (interpolate only): `modelValues(model)` taken before training (batch-norm statistics
   * are then interpolated too), or `trainableValues(model)` (statistics kept at the model's).
   */
  init?: readonly tf.Tensor[];
  /** Final weights, in the same layout as `init`. Default: the model's current weights. */
  final?: readonly tf.Tensor[];
  /**
   * Recompute the batch-norm moving statistics at every alpha (ALGORITHMS.md §11.1, the better option):
   * before each evaluation, the exact average of the batch statistics of up to `batches` (default 20)
   * training-mode forwards of `batchSize` (default 32) rows of `x` at theta(alpha). Cost: those forwards
   * per alpha. Default: the statistics are kept at the model's values (or interpolated, see `init`).
   */
  recomputeBatchNorm?: { x: tf.Tensor; batchSize?: number; batches?: number };
  signal?: AbortSignal;
  /** Called after each alpha (done, total). */
  onProgress?: (done: number, total: number) => void;
}

/** The loss (and accuracy) along a line. */
export interface LineResult {
  kind: 'random' | 'interpolate' | 'given';
  normalization: Normalization | 'n/a';
  /**
   * Batch-norm moving statistics: moved along the line (init from {@link modelValues}), recomputed at
   * every alpha (`recomputeBatchNorm`), or kept.
   */
  batchNorm: 'interpolated' | 'recomputed' | 'kept';
  alphas: number[];
  losses: number[];
  accuracies?: number[];
}

/** Copies of the model's trainable weight values. The caller disposes them. */
export function trainableValues(model: tf.LayersModel): tf.Tensor[] {
  return model.trainableWeights.map((w) => tf.keep(w.read().clone()));
}

/**
 * Copies of every weight of the model, batch-norm statistics included (`model.weights` order): the init
 * to pass to an interpolation so that both endpoints reproduce the model exactly. The caller disposes them.
 */
export function modelValues(model: tf.LayersModel): tf.Tensor[] {
  return model.weights.map((w) => tf.keep(w.read().clone()));
}

function linspace(a: number, b: number, n: number): number[] {
  if (n === 1) return [a];
  // Snap rounding noise so that grid points meant to be integers (0, 1) are exact.
  return Array.from({ length: n }, (_, i) => {
    const v = i === n - 1 ? b : a + ((b - a) * i) / (n - 1);
    return Math.abs(v - Math.round(v)) < 1e-9 ? Math.round(v) : v;
  });
}

/**
 * Loss (and accuracy for one-hot targets) at theta(alpha) for evenly spaced alphas, then restores the
 * model exactly. Cost: one inference pass over the evaluation set per alpha.
 *
 * @example
 * ```ts
 * const init = trainableValues(model);
 * await model.fit(x, y, { epochs: 2 });
 * const line = weightSpaceLine(model, test, { direction: 'interpolate', init });
 * console.log(line.alphas, line.losses); // endpoints: the initial and final losses
 * ```
 */
export function weightSpaceLine(model: tf.LayersModel, on: Evaluator, options: LineOptions = {}): LineResult {
  checkKnownKeys('weightSpaceLine', options, [
    'direction',
    'from',
    'to',
    'span',
    'steps',
    'init',
    'final',
    'recomputeBatchNorm',
    'seed',
    'normalization',
    'ignore',
    'signal',
    'onProgress',
  ]);
  const dir = options.direction ?? 'random';
  const kind = Array.isArray(dir)
    ? 'given'
    : checkOneOf('weightSpaceLine', 'direction', dir, ['random', 'interpolate'] as const);
  const defaults = { random: [-1, 1, 51], interpolate: [-0.5, 1.5, 81], given: [0, 1.5, 31] }[kind];
  const from = checkNumber('weightSpaceLine', 'from', options.from ?? defaults[0]);
  const to = checkNumber('weightSpaceLine', 'to', options.to ?? defaults[1]);
  const steps = checkNumber('weightSpaceLine', 'steps', options.steps ?? defaults[2], {
    min: 1,
    integer: true,
  });
  const span = checkNumber('weightSpaceLine', 'span', options.span ?? 1, { min: 0, minExclusive: true });
  const trainable = model.trainableWeights.map((w) => w.read() as tf.Variable);
  // An init covering every weight (modelValues) moves batch-norm statistics along the line too.
  const all = model.weights.map((w) => w.read() as tf.Variable);
  const withStats =
    kind === 'interpolate' && options.init?.length === all.length && all.length > trainable.length;
  const vars = withStats ? all : trainable;
  const bn = options.recomputeBatchNorm;
  if (bn && withStats) {
    throw new LrfreeConfigError(
      'weightSpaceLine: recomputeBatchNorm and an init with batch-norm statistics (modelValues) both set the ' +
        'statistics; pass trainableValues(model) as init to recompute them.',
    );
  }
  const evalFn = evaluator(on);
  const snap = snapshotModel(model);
  const owned: tf.Tensor[] = [];
  try {
    let point: (alpha: number) => tf.Tensor[];
    if (kind === 'interpolate') {
      const init = options.init;
      if (!init)
        throw new LrfreeConfigError(
          "weightSpaceLine: direction 'interpolate' needs options.init (the initial weights).",
        );
      checkShapes('init', init, vars);
      const final = options.final ?? vars.map((v) => v.clone());
      if (!options.final) owned.push(...final);
      checkShapes('final', final, vars);
      // (1-a)*init + a*final reproduces both endpoints exactly in float32; init + a*(final-init) does not.
      point = (a) => vars.map((_, i) => tf.add(tf.mul(init[i], 1 - a * span), tf.mul(final[i], a * span)));
    } else {
      const d = kind === 'given' ? (dir as tf.Tensor[]) : randomDirection(model, pickDirection(options));
      if (kind === 'random') owned.push(...d);
      checkShapes('direction', d, vars);
      const theta = vars.map((v) => v.clone());
      owned.push(...theta);
      point = (a) =>
        vars.map((_, i) => (a === 0 ? theta[i].clone() : tf.add(theta[i], tf.mul(d[i], a * span))));
    }
    const alphas = linspace(from, to, steps);
    const losses: number[] = [];
    const accs: number[] = [];
    alphas.forEach((a, k) => {
      checkAbort(options.signal);
      tf.tidy(() => {
        const p = point(a);
        vars.forEach((v, i) => {
          v.assign(p[i]);
        });
      });
      // The snapshot restores the model's own statistics at the end.
      if (bn)
        tf.dispose(
          recomputeBatchNorm({ model, x: bn.x, batchSize: bn.batchSize, batches: bn.batches ?? 20 }),
        );
      const e = evalFn(model);
      losses.push(e.loss);
      if (e.accuracy !== undefined) accs.push(e.accuracy);
      options.onProgress?.(k + 1, steps);
    });
    return {
      kind,
      normalization: kind === 'random' ? (options.normalization ?? 'filter') : 'n/a',
      batchNorm: withStats ? 'interpolated' : bn ? 'recomputed' : 'kept',
      alphas,
      losses,
      ...(accs.length === alphas.length ? { accuracies: accs } : {}),
    };
  } finally {
    snap.restore();
    snap.dispose();
    tf.dispose(owned);
  }
}

function pickDirection(o: RandomDirectionOptions): RandomDirectionOptions {
  return { seed: o.seed, normalization: o.normalization, ignore: o.ignore };
}

function checkShapes(what: string, ts: readonly tf.Tensor[], vars: readonly tf.Variable[]): void {
  if (ts.length !== vars.length || ts.some((t, i) => !tf.util.arraysEqual(t.shape, vars[i].shape))) {
    throw new LrfreeConfigError(
      `weightSpaceLine: ${what} must have one tensor per trainable weight with the same shapes ` +
        `(${vars.map((v) => `[${v.shape}]`).join(', ')}).`,
    );
  }
}

/** Options of {@link weightSpacePlane}. */
export interface PlaneOptions extends RandomDirectionOptions {
  /** Range of both coordinates. Default [-1, 1]. */
  from?: number;
  to?: number;
  /** Points per axis. Default 21. */
  steps?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/** The loss over a plane: losses[i][j] at theta* + xs[i]*d1 + ys[j]*d2. */
export interface PlaneResult {
  xs: number[];
  ys: number[];
  losses: number[][];
  accuracies?: number[][];
}

/**
 * The loss over the plane spanned by two independent filter-normalised random directions (seeds `seed`
 * and `seed + 1`) around the current weights; restores the model exactly. Cost: steps^2 evaluations.
 *
 * @example
 * ```ts
 * const plane = weightSpacePlane(model, test, { steps: 15, seed: 3 });
 * ```
 */
export function weightSpacePlane(
  model: tf.LayersModel,
  on: Evaluator,
  options: PlaneOptions = {},
): PlaneResult {
  checkKnownKeys('weightSpacePlane', options, [
    'from',
    'to',
    'steps',
    'seed',
    'normalization',
    'ignore',
    'signal',
    'onProgress',
  ]);
  const from = checkNumber('weightSpacePlane', 'from', options.from ?? -1);
  const to = checkNumber('weightSpacePlane', 'to', options.to ?? 1);
  const steps = checkNumber('weightSpacePlane', 'steps', options.steps ?? 21, { min: 1, integer: true });
  const seed = options.seed ?? 0;
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const evalFn = evaluator(on);
  const snap = snapshotModel(model);
  const d1 = randomDirection(model, { ...pickDirection(options), seed });
  const d2 = randomDirection(model, {
    normalization: options.normalization,
    ignore: options.ignore,
    seed: seed + 1,
  });
  const theta = vars.map((v) => v.clone());
  try {
    const grid = linspace(from, to, steps);
    const losses: number[][] = [];
    const accs: number[][] = [];
    let done = 0;
    for (const a of grid) {
      const row: number[] = [];
      const accRow: number[] = [];
      for (const b of grid) {
        checkAbort(options.signal);
        tf.tidy(() => {
          vars.forEach((v, i) => {
            v.assign(tf.add(tf.add(theta[i], tf.mul(d1[i], a)), tf.mul(d2[i], b)));
          });
        });
        const e = evalFn(model);
        row.push(e.loss);
        if (e.accuracy !== undefined) accRow.push(e.accuracy);
        options.onProgress?.(++done, steps * steps);
      }
      losses.push(row);
      accs.push(accRow);
    }
    return { xs: grid, ys: grid, losses, ...(accs[0]?.length === steps ? { accuracies: accs } : {}) };
  } finally {
    snap.restore();
    snap.dispose();
    tf.dispose([...d1, ...d2, ...theta]);
  }
}
