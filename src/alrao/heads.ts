/**
 * Alrao's classifier copies (ALGORITHMS.md §5.1, §5.3, traps T13-T14), stored stacked: kernel W [d, K, C]
 * and bias b [K, C], so that the K heads cost one matmul. Their gradients are written in closed form:
 * each head's own loss with the features detached, and the mixture loss's gradient for the features.
 */
import * as tf from '@tensorflow/tfjs';
import { registerStepRule } from '../core/registry.js';
import type { StepRule } from '../core/types.js';
import { checkKnownKeys, checkNumber } from '../core/validate.js';
import { checkRange, headRates } from './rates.js';

/** Classification heads give log-softmax outputs; regression heads are linear with unit-variance Gaussians. */
export type AlraoTask = 'classification' | 'regression';

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * Raw head outputs [B, K, C]: logits (classification) or means (regression). Non-finite head weights stay
 * as they are here; callers mask the heads whose outputs are not finite.
 */
export function headOutputs(z: tf.Tensor2D, W: tf.Tensor3D, b: tf.Tensor2D): tf.Tensor3D {
  const [d, k, c] = W.shape;
  const flat = tf.matMul(z, tf.reshape(W, [d, k * c]));
  return tf.add(tf.reshape(flat, [z.shape[0], k, c]), b) as tf.Tensor3D;
}

/**
 * Per-example log-likelihood of each head, [B, K], and g = d ll / d out, [B, K, C].
 * Classification: ll = sum_c y_c logSoftmax(out)_c, g = y - sum(y) softmax(out).
 * Regression: ll = -|out - y|^2 / 2 - (C/2) log(2 pi), g = y - out.
 */
export function headLogLikelihood(
  out: tf.Tensor3D,
  y: tf.Tensor2D,
  task: AlraoTask,
): { ll: tf.Tensor2D; g: tf.Tensor3D } {
  const y3 = tf.expandDims(y, 1);
  if (task === 'classification') {
    const lp = tf.logSoftmax(out);
    const ll = tf.sum(tf.mul(lp, y3), 2) as tf.Tensor2D;
    const g = tf.sub(y3, tf.mul(tf.exp(lp), tf.sum(y3, 2, true))) as tf.Tensor3D;
    return { ll, g };
  }
  const diff = tf.sub(y3, out);
  const ll = tf.sub(tf.mul(tf.sum(tf.square(diff), 2), -0.5), HALF_LOG_2PI * out.shape[2]) as tf.Tensor2D;
  return { ll, g: diff as tf.Tensor3D };
}

/**
 * log p_mix(y|x) = LSE_j(ll_j + logPost_j) over the heads whose log-likelihood is finite, [B], and the
 * responsibilities r_j = exp(ll_j + logPost_j - log p_mix), [B, K] (0 for masked heads).
 */
export function mixture(
  ll: tf.Tensor2D,
  logPost: tf.Tensor1D,
): { logMix: tf.Tensor1D; resp: tf.Tensor2D; finite: tf.Tensor2D } {
  const finite = tf.isFinite(ll) as tf.Tensor2D;
  const joint = tf.where(finite, tf.add(ll, logPost), tf.fill(ll.shape, Number.NEGATIVE_INFINITY));
  const logMix = tf.logSumExp(joint, 1) as tf.Tensor1D;
  const resp = tf.exp(tf.sub(joint, tf.expandDims(logMix, 1))) as tf.Tensor2D;
  return { logMix, resp, finite };
}

/** What one training forward through the heads gives besides the mixture loss. */
export interface HeadStep {
  /** Batch-mean log-likelihood of each head, [K] (non-finite for a diverged head). */
  meanLogLik: tf.Tensor1D;
  /** Gradient of each head's own mean NLL w.r.t. W (features detached), zero for non-finite heads. */
  dW: tf.Tensor3D;
  db: tf.Tensor2D;
}

/**
 * The mixture loss L = -mean_b log p_mix(y_b|x_b) as a function of the features z, with its gradient in
 * closed form (so that diverged heads, whose weights may be NaN, add nothing to the features' gradient),
 * and the heads' own-loss gradients computed from the same forward. `onHeads` receives those (kept: the
 * caller disposes them).
 */
export function mixtureLossOfFeatures(
  W: tf.Tensor3D,
  b: tf.Tensor2D,
  y: tf.Tensor2D,
  logPost: tf.Tensor1D,
  task: AlraoTask,
  onHeads: (h: HeadStep) => void,
): (z: tf.Tensor2D) => tf.Scalar {
  return tf.customGrad(((zIn: tf.Tensor, save: tf.GradSaveFunc) => {
    const z = zIn as tf.Tensor2D;
    const [d, k, c] = W.shape;
    const n = z.shape[0];
    const out = headOutputs(z, W, b);
    const { ll, g } = headLogLikelihood(out, y, task);
    const { logMix, resp } = mixture(ll, logPost);
    const loss = tf.neg(tf.mean(logMix)) as tf.Scalar;
    // A head is trained only when its whole batch is finite (reference remove_non_numerical).
    const meanLogLik = tf.mean(ll, 0) as tf.Tensor1D;
    // A finite batch mean implies every example is finite, so one mask per head suffices. Masks are
    // applied without broadcasting inside tf.where: that broadcast is a Tile, which wasm runs slowly
    // (measured: ~10% of an Alrao step); NaNs are zeroed elementwise, then the head mask multiplies.
    const headOk = tf.reshape(tf.cast(tf.isFinite(meanLogLik), 'float32'), [1, k, 1]);
    const gSafe = tf.mul(tf.where(tf.isFinite(g), g, tf.zerosLike(g)), headOk);
    // Own losses: d(-mean ll_j)/d out_j = -g_j / B.
    const dOwn3 = tf.mul(gSafe, -1 / n);
    const dOwn = tf.reshape(dOwn3, [n, k * c]);
    const dW = tf.reshape(tf.matMul(z, dOwn, true, false), [d, k, c]) as tf.Tensor3D;
    const db = tf.sum(dOwn3, 0) as tf.Tensor2D;
    onHeads({ meanLogLik: tf.keep(meanLogLik), dW: tf.keep(dW), db: tf.keep(db) });
    // Mixture: dL/dout_j = -(1/B) r_j g_j; dL/dz = sum_j dL/dout_j W_j^T, with diverged weights zeroed.
    const dMix = tf.reshape(tf.mul(dOwn3, tf.expandDims(resp, 2)), [n, k * c]);
    const wSafe = tf.where(tf.isFinite(W), W, tf.zerosLike(W));
    const dz = tf.matMul(dMix, tf.reshape(wSafe, [d, k * c]), false, true);
    save([dz]);
    return {
      value: loss,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => [tf.mul(dy as tf.Tensor, saved[0])],
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (z: tf.Tensor2D) => tf.Scalar;
}

/** Options of {@link alraoHeadRates}. */
export interface AlraoHeadRatesOptions {
  /** Number of heads K (an integer >= 1). */
  copies: number;
  minLr: number;
  maxLr: number;
}

/**
 * The heads' step rule: head j moves at eta_j = exp(log minLr + j/(K-1) (log maxLr - log minLr)), for
 * the stacked kernel [d, K, C] (rate tensor [1, K, 1]) and bias [K, C] (rate tensor [K, 1]).
 *
 * @example
 * ```ts
 * const heads = lrfree.optimizer({ direction: lrfree.directions.sgd(), step: alraoHeadRates({ copies: 10, minLr: 1e-5, maxLr: 10 }) });
 * ```
 */
export function alraoHeadRates(options: AlraoHeadRatesOptions): StepRule {
  checkKnownKeys('alraoHeadRates', options, ['copies', 'minLr', 'maxLr']);
  const copies = checkNumber('alraoHeadRates', 'copies', options.copies, { min: 1, integer: true });
  checkRange('alraoHeadRates', options.minLr, options.maxLr);
  const rates = headRates(copies, options.minLr, options.maxLr);
  return {
    kind: 'alraoHeadRates',
    config: { copies, minLr: options.minLr, maxLr: options.maxLr },
    slotNames: ['rate'],
    needsLoss: false,
    initScalars: () => ({}),
    initSlots: (variable) => {
      const shape = variable.shape.length === 3 ? [1, copies, 1] : [copies, 1];
      return [tf.tensor(rates, shape, 'float32')];
    },
    choose: (ctx) => ({
      eta: { perVariable: ctx.slots.map((s) => s[0]) },
      reported: Math.sqrt(options.minLr * options.maxLr),
    }),
  };
}

registerStepRule('alraoHeadRates', (c) => alraoHeadRates(c as unknown as AlraoHeadRatesOptions));
