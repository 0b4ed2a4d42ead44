/**
 * Alrao's per-feature learning rates (ALGORITHMS.md §5.2, trap T12): one rate per output feature, drawn
 * once, log-uniform in [minLr, maxLr], kept as optimizer state so that save/load keeps them.
 */
import * as tf from '@tensorflow/tfjs';
import { registerDirection, registerStepRule } from '../core/registry.js';
import { deriveSeed, mulberry32 } from '../core/rng.js';
import type { Direction, StepRule, VariableInfo } from '../core/types.js';
import { checkKnownKeys, checkNumber, checkOneOf, LrfreeConfigError } from '../core/validate.js';

/** Options of {@link alraoRates}. */
export interface AlraoRatesOptions {
  /** Smallest rate, > 0. Default 1e-5 (paper, CIFAR-10). */
  minLr?: number;
  /** Largest rate, > minLr. Default 10 (paper, CIFAR-10). */
  maxLr?: number;
  /** Seed of the draw (an integer). Default 0. The rates depend on it and on each layer's position only. */
  seed?: number;
  /**
   * `feature` (default, the paper's method): one rate per output feature, shared by the weights and bias
   * of that feature. `weight`: one rate per scalar weight (the paper's appendix variant; less stable).
   */
  granularity?: 'feature' | 'weight';
  /**
   * Recurrent layers (LSTM, GRU, SimpleRNN): `perUnit` (default, the paper) shares one rate per unit
   * across the gates and across kernel, recurrent kernel and bias; `perGateRow` (the reference code)
   * draws one rate per gate column, independently for the kernel (and bias) and the recurrent kernel.
   */
  lstmRateSharing?: 'perUnit' | 'perGateRow';
}

/** Where one variable's rates come from: a log-uniform stream, and how it is laid over the variable. */
export interface RateLayout {
  /** Which independent stream of the layer's draws (variables sharing a stream share rates). */
  stream: number;
  /** Number of distinct rates drawn from the stream. */
  count: number;
  /** The drawn vector is repeated this many times (recurrent gates). */
  tile: number;
  /** Shape of the rate tensor, broadcastable to the variable. */
  shape: number[];
  /** True when the layer kind is unknown (one rate for the whole tensor). */
  unknown?: boolean;
}

const GATES: Record<string, number> = { LSTM: 4, GRU: 3, SimpleRNN: 1 };
/** Layer kinds whose features lie along the feature axis of every weight (bias shares the kernel's). */
const ALONG_AXIS = new Set([
  'Dense',
  'Conv1D',
  'Conv2D',
  'Conv3D',
  'Conv2DTranspose',
  'Embedding',
  'BatchNormalization',
  'LayerNormalization',
]);

function broadcastShape(rank: number, axis: number, size: number): number[] {
  const s = new Array<number>(rank).fill(1);
  s[axis] = size;
  return s;
}

/**
 * How the rates of one variable are laid out (TF.js layouts, ALGORITHMS.md §0.2). Pure, for tests:
 * - Dense `[in, out]`, Conv `[..., in, out]`, Embedding `[vocab, dim]`, BatchNorm/LayerNorm `[c]`: one rate
 *   per index of the feature axis (Conv2DTranspose: axis 2 of `[kh, kw, out, in]`); the bias shares it.
 * - DepthwiseConv2D `[kh, kw, in, mult]`: one rate per output channel `in*mult`, the bias `[in*mult]` shares it.
 * - SeparableConv2D: the pointwise kernel and bias per output filter; the depthwise kernel per `(in, mult)`.
 * - LSTM/GRU/SimpleRNN `[in, G*u]`, `[u, G*u]`, `[G*u]`: per unit, tiled over the G gates (or per gate row).
 * - No layer class (no model given): one rate per index of the feature axis; tensors of a layer whose
 *   feature axes have the same size share them.
 * - Any other class: one rate for the whole tensor (`unknown`).
 */
export function rateLayout(
  shape: readonly number[],
  featureAxis: number,
  layerClass: string | undefined,
  varName: string,
  options: { granularity?: 'feature' | 'weight'; lstmRateSharing?: 'perUnit' | 'perGateRow' } = {},
): RateLayout {
  const rank = shape.length;
  const size = shape.reduce((a, b) => a * b, 1);
  if (options.granularity === 'weight') return { stream: 0, count: size, tile: 1, shape: [...shape] };
  if (rank === 0) return { stream: 0, count: 1, tile: 1, shape: [] };
  const leaf = varName.slice(varName.lastIndexOf('/') + 1);
  let cls = layerClass;
  let streamBase = 0;
  if (cls === 'Bidirectional') {
    // Bidirectional(LSTM) holds the forward and the backward cell's weights: two independent layers.
    cls = /gru/i.test(varName) ? 'GRU' : /simple_?rnn/i.test(varName) ? 'SimpleRNN' : 'LSTM';
    streamBase = /backward/i.test(varName) ? 2 : 0;
  }
  if (cls !== undefined && cls in GATES) {
    const gates = GATES[cls];
    const last = shape[rank - 1];
    const recurrent = leaf.startsWith('recurrent');
    if (options.lstmRateSharing === 'perGateRow') {
      return { stream: streamBase + (recurrent ? 1 : 0), count: last, tile: 1, shape: [last] };
    }
    return { stream: streamBase, count: last / gates, tile: gates, shape: [last] };
  }
  if (cls === 'DepthwiseConv2D' || (cls === 'SeparableConv2D' && leaf.startsWith('depthwise'))) {
    const stream = cls === 'SeparableConv2D' ? 1 : 0;
    if (rank === 4) {
      return { stream, count: shape[2] * shape[3], tile: 1, shape: [1, 1, shape[2], shape[3]] };
    }
    return { stream, count: shape[rank - 1], tile: 1, shape: [shape[rank - 1]] };
  }
  if (cls === undefined || ALONG_AXIS.has(cls) || cls === 'SeparableConv2D') {
    const n = shape[featureAxis];
    // Without a class, tensors with different feature counts get independent streams.
    const stream = cls === undefined ? 100 + n : 0;
    return { stream, count: n, tile: 1, shape: broadcastShape(rank, featureAxis, n) };
  }
  return { stream: 0, count: 1, tile: 1, shape: [], unknown: true };
}

/**
 * `n` log-uniform draws in [minLr, maxLr]: exp(log minLr + U (log maxLr - log minLr)), U ~ U(0, 1), from
 * a seeded generator (float64).
 */
export function logUniform(seed: number, n: number, minLr: number, maxLr: number): Float64Array {
  const r = mulberry32(seed);
  const lo = Math.log(minLr);
  const span = Math.log(maxLr) - lo;
  return Float64Array.from({ length: n }, () => Math.exp(lo + r() * span));
}

/**
 * The classifier copies' rates: exp(log minLr + j/(K-1) (log maxLr - log minLr)), j = 0..K-1 (minLr when
 * K = 1). Deterministic, log-spaced, both ends included.
 */
export function headRates(k: number, minLr: number, maxLr: number): number[] {
  if (k === 1) return [minLr];
  const lo = Math.log(minLr);
  const span = Math.log(maxLr) - lo;
  return Array.from({ length: k }, (_, j) => Math.exp(lo + (j / (k - 1)) * span));
}

/** Validates an Alrao range: 0 < minLr < maxLr. */
export function checkRange(where: string, minLr: number, maxLr: number): void {
  checkNumber(where, 'minLr', minLr, { min: 0, minExclusive: true });
  checkNumber(where, 'maxLr', maxLr, { min: 0, minExclusive: true });
  if (!(minLr < maxLr)) {
    throw new LrfreeConfigError(
      `${where}: minLr = ${minLr} must be smaller than maxLr = ${maxLr} (the rates are drawn in [minLr, maxLr]).`,
    );
  }
}

/**
 * Alrao's step rule: every feature gets its own learning rate, drawn once, log-uniform in
 * [minLr, maxLr], and keeps it: w_f <- w_f - eta_f * d_f, eta_f = exp(log minLr + U_f (log maxLr - log minLr)).
 * Under `sgd()` this is Alrao-SGD, under `adam()` Alrao-Adam (experimental: the paper finds it unreliable).
 *
 * The rates are the rule's only state (slot `rate`, one tensor per variable, broadcast over it), so
 * `getWeights`/`model.save({includeOptimizer: true})` keep them and a reload trains on with the same
 * rates. Give the optimizer the `model` so that layer kinds are known (LSTM gates, depthwise channels);
 * without it the feature axis of each tensor is used (see {@link rateLayout}). Layers of an unknown kind
 * get one rate per tensor and a console warning naming the layer. A schedule multiplies all rates.
 *
 * Cost per step: nothing beyond the gradient (1 backward, no probes). `lastStep.eta` shows the geometric
 * centre sqrt(minLr * maxLr).
 *
 * @example
 * ```ts
 * const opt = lrfree.optimizer({
 *   direction: lrfree.directions.sgd(),
 *   step: lrfree.alraoRates({ minLr: 1e-5, maxLr: 10, seed: 1 }),
 *   model,
 * });
 * ```
 */
export function alraoRates(options: AlraoRatesOptions = {}): StepRule {
  checkKnownKeys('alraoRates', options, ['minLr', 'maxLr', 'seed', 'granularity', 'lstmRateSharing']);
  const minLr = options.minLr ?? 1e-5;
  const maxLr = options.maxLr ?? 10;
  checkRange('alraoRates', minLr, maxLr);
  const seed = checkNumber('alraoRates', 'seed', options.seed ?? 0, { integer: true });
  const granularity = checkOneOf('alraoRates', 'granularity', options.granularity ?? 'feature', [
    'feature',
    'weight',
  ] as const);
  const lstmRateSharing = checkOneOf('alraoRates', 'lstmRateSharing', options.lstmRateSharing ?? 'perUnit', [
    'perUnit',
    'perGateRow',
  ] as const);
  const warned = new Set<string>();
  const centre = Math.sqrt(minLr * maxLr);
  return {
    kind: 'alraoRates',
    config: { minLr, maxLr, seed, granularity, lstmRateSharing },
    slotNames: ['rate'],
    needsLoss: false,
    initScalars: () => ({}),
    initSlots: (variable: tf.Variable, info: VariableInfo) => [
      drawRates(variable, info, { minLr, maxLr, seed, granularity, lstmRateSharing }, warned, 'alraoRates'),
    ],
    choose: (ctx) => ({
      eta: { perVariable: ctx.slots.map((s) => s[0]) },
      reported: centre,
    }),
  };
}

registerStepRule('alraoRates', (c) => alraoRates(c as AlraoRatesOptions));

/** The rate tensor of one variable (shared by {@link alraoRates} and {@link alraoMomentum}: same draw). */
function drawRates(
  variable: tf.Variable,
  info: VariableInfo,
  o: Required<AlraoRatesOptions>,
  warned: Set<string>,
  where: string,
): tf.Tensor {
  const layout = rateLayout(variable.shape, info.featureAxis, info.group.layerClass, variable.name, {
    granularity: o.granularity,
    lstmRateSharing: o.lstmRateSharing,
  });
  if (layout.unknown && !warned.has(info.group.name)) {
    warned.add(info.group.name);
    console.warn(
      `${where}: layer '${info.group.name}' (${info.group.layerClass}) is not a kind Alrao knows; ` +
        'its tensors get one learning rate each.',
    );
  }
  // The layer's position (its first variable) and the stream key the draw, so a kernel and its bias
  // share rates; per-weight rates are independent per variable.
  const key = o.granularity === 'weight' || layout.unknown ? 1000 + info.index : layout.stream;
  const drawn = logUniform(
    deriveSeed(o.seed, 0xa1a0, info.group.indices[0], key),
    layout.count,
    o.minLr,
    o.maxLr,
  );
  const values = new Float32Array(layout.count * layout.tile);
  for (let t = 0; t < layout.tile; t++) values.set(drawn, t * layout.count);
  return tf.tensor(values, layout.shape, 'float32');
}

/** Options of {@link alraoMomentum}: the rate options plus the reference momentum and clipping. */
export interface AlraoMomentumOptions extends AlraoRatesOptions {
  /** mu in [0, 1) of the reference pre-classifier momentum. Default 0 (plain Alrao-SGD). */
  momentum?: number;
  /** Clip the gradient's global norm (over all variables) to this before the step; 0 = off. Default 0. */
  clipNorm?: number;
}

/**
 * The reference Alrao pre-classifier optimizer (ALGORITHMS.md §5.3) as a direction that carries the
 * per-feature rates itself (drawn exactly as {@link alraoRates} draws them): with eta_f the feature's rate,
 *
 *     g <- g * min(1, clipNorm/||g||)                      (clipNorm > 0; the RNN script uses 0.25)
 *     buf <- (1 - mu * min(sqrt(eta_f), 1/mu)) * buf + g    (first step: buf <- g)
 *     update = eta_f * buf                                 (commit with `constant(1)`)
 *
 * With mu = 0 and no clipping the update is eta_f * g, i.e. `sgd()` under `alraoRates`. Slots: `rate`,
 * `buf`. Cost: one gradient per step, one norm read back when clipping.
 *
 * @example
 * ```ts
 * const opt = lrfree.optimizer({ direction: alraoMomentum({ momentum: 0.9, clipNorm: 0.25, seed: 1 }), step: lrfree.constant(1), model });
 * ```
 */
export function alraoMomentum(options: AlraoMomentumOptions = {}): Direction {
  const W = 'alraoMomentum';
  checkKnownKeys(W, options, [
    'minLr',
    'maxLr',
    'seed',
    'granularity',
    'lstmRateSharing',
    'momentum',
    'clipNorm',
  ]);
  const minLr = options.minLr ?? 1e-5;
  const maxLr = options.maxLr ?? 10;
  checkRange(W, minLr, maxLr);
  const seed = checkNumber(W, 'seed', options.seed ?? 0, { integer: true });
  const granularity = checkOneOf(W, 'granularity', options.granularity ?? 'feature', [
    'feature',
    'weight',
  ] as const);
  const lstmRateSharing = checkOneOf(W, 'lstmRateSharing', options.lstmRateSharing ?? 'perUnit', [
    'perUnit',
    'perGateRow',
  ] as const);
  const mu = checkNumber(W, 'momentum', options.momentum ?? 0, { min: 0, max: 1, maxExclusive: true });
  const clipNorm = checkNumber(W, 'clipNorm', options.clipNorm ?? 0, { min: 0 });
  const rates = { minLr, maxLr, seed, granularity, lstmRateSharing };
  const warned = new Set<string>();
  return {
    kind: 'alraoMomentum',
    config: { ...rates, momentum: mu, clipNorm },
    slotNames: ['rate', 'buf'],
    initScalars: () => ({}),
    initSlots: (variable: tf.Variable, info: VariableInfo) => [
      drawRates(variable, info, rates, warned, W),
      tf.zerosLike(variable),
    ],
    compute: (ctx) => {
      let scale = 1;
      if (clipNorm > 0) {
        const norm = Math.sqrt(ctx.gradNormSq.reduce((a, b) => a + b, 0));
        if (norm > clipNorm) scale = clipNorm / norm;
      }
      const slots: tf.Tensor[][] = [];
      const update = ctx.grads.map((g0, i) => {
        const [rate, buf0] = ctx.slots[i];
        const g = scale === 1 ? g0 : tf.mul(g0, scale);
        const decay = mu === 0 ? tf.onesLike(rate) : tf.sub(1, tf.mul(mu, tf.minimum(tf.sqrt(rate), 1 / mu)));
        const buf = tf.add(tf.mul(decay, buf0), g); // buf starts at 0, so the first step gives buf = g
        slots.push([rate, buf]);
        return tf.mul(rate, buf);
      });
      return { update, slots, info: { clipScale: scale } };
    },
  };
}

registerDirection('alraoMomentum', (c) => alraoMomentum(c as AlraoMomentumOptions));
