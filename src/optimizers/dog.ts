/**
 * DoG and L-DoG, "Distance over Gradients" (Ivgi, Hinder & Carmon, ICML 2023; ALGORITHMS.md §9.5, traps
 * T22-T24). Pair with the polynomial-decay averager (averager.ts): the authors call averaging crucial.
 */

import * as tf from '@tensorflow/tfjs';
import { LrfreeOptimizer } from '../core/optimizer.js';
import { registerDirection } from '../core/registry.js';
import type { Method } from '../core/types.js';
import { checkBoolean, checkKnownKeys, checkNumber, LrfreeConfigError, showValue } from '../core/validate.js';
import { AveragedOptimizer } from './averaged.js';
import type { AveragerOptions } from './averager.js';
import { presetKeys } from './baselines.js';
import { type MethodCommonOptions, readScalars, splitCommon } from './methodCommon.js';

/** What the DoG presets accept besides {@link DogOptions}: the common options and iterate averaging. */
export type DogPresetOptions = DogOptions &
  MethodCommonOptions & {
    /**
     * Keep DoG's polynomial-decay iterate average (gamma 8 with `true`) as the optimizer's evaluation
     * point: the preset then returns an `AveragedOptimizer` (training unchanged; evaluate, predict and save
     * at the average through `withEvalPoint`, the `atX` helpers or `evalPointCallback`). Default false.
     */
    average?: boolean | AveragerOptions;
  };

/** Options of {@link dogDirection}, {@link dog} and {@link ldog} (reference names in camelCase). */
export interface DogOptions {
  /**
   * Initial movement r_eps = repsRel*(1 + ||x0||). Default 1e-6 (the reference suggests 1e-4 with batch
   * norm). Divergence early: lower it by 100x; eta not growing within a few hundred steps: raise it by 100x.
   */
  repsRel?: number;
  /** The paper's c, multiplying eta; changing it is discouraged. Default 1. */
  lr?: number;
  /**
   * L2 weight decay added to the gradient (and so to G), DoG's own (kept inside the method, since G and
   * so the step size see it; `transforms.decoupledWeightDecay` would not). Default 0.
   */
  weightDecay?: number;
  /** Added once to G at the first step. Default 1e-8. */
  eps?: number;
  /** First step size, replacing repsRel (which then counts as 0). Default null. */
  initEta?: number | null;
}

const KEYS = ['repsRel', 'lr', 'weightDecay', 'eps', 'initEta'];
/** The presets' keys: the method's but layerwise (each preset decides it), average and the common ones. */
const DOG_KEYS = presetKeys('dog', [...KEYS, 'average']);
const LDOG_KEYS = presetKeys('ldog', [...KEYS, 'average']);

/**
 * DoG as a method (a piece that computes the whole update, step size included; `optimizer({ method })`, as the preset does). With g <- g + weightDecay*x:
 *
 * first step: x0 = x, rBar = repsRel*(1 + ||x0||), G = ||g||^2 + eps;
 * later:      rBar <- max(rBar, ||x - x0||) (the point before this step, T22), G <- G + ||g||^2;
 * eta = lr*rBar/sqrt(G) (first step: initEta when given);  x <- x - eta*g.
 *
 * `layerwise` (L-DoG) keeps rBar, G, eta and x0 per variable (every kernel and bias is its own layer,
 * T23). Slots: `x0`. Scalars: `t`, `rBar`, `G`, `eta` (arrays for L-DoG). `etaScale` = eta (L-DoG: the
 * mean over variables; the per-variable values are in `methodState(opt).eta`).
 *
 * @example
 * ```ts
 * const opt = lrfree.optimizer({ method: lrfree.methods.dog({ repsRel: 1e-4 }) });
 * ```
 */
export function dogDirection(options: DogOptions & { layerwise?: boolean } = {}): Method {
  const layerwise = checkBoolean('dog', 'layerwise', options.layerwise ?? false);
  const W = layerwise ? 'ldog' : 'dog';
  checkKnownKeys(W, options, [...KEYS, 'layerwise'], `methods.${W}`);
  const repsRel = checkNumber(W, 'repsRel', options.repsRel ?? 1e-6, { min: 0, minExclusive: true });
  const lr = checkNumber(W, 'lr', options.lr ?? 1, { min: 0, minExclusive: true });
  const weightDecay = checkNumber(W, 'weightDecay', options.weightDecay ?? 0, { min: 0 });
  const eps = checkNumber(W, 'eps', options.eps ?? 1e-8, { min: 0 });
  const initEta =
    options.initEta === undefined || options.initEta === null
      ? null
      : checkNumber(W, 'initEta', options.initEta, { min: 0, minExclusive: true });
  // The reference ignores repsRel when initEta is given (sets it to 0).
  const r0 = initEta === null ? repsRel : 0;
  return {
    kind: W,
    ownsStep: true,
    config: { repsRel, lr, weightDecay, eps, initEta },
    slotNames: ['x0'],
    initSlots: (v) => [v.clone()],
    initScalars: () => (layerwise ? { t: 0, rBar: [], G: [], eta: [] } : { t: 0, rBar: 0, G: 0, eta: 0 }),
    compute: (ctx) => {
      const first = (ctx.scalars.t as number) === 0;
      // The optimizer's schedule multiplies DoG's lr (the paper's c), as it does every method's lr.
      const c = lr * ctx.lrScale;
      const n = ctx.grads.length;
      const grads = ctx.grads.map((g, i) =>
        weightDecay > 0 ? tf.add(g, tf.mul(ctx.params[i], weightDecay)) : g,
      );
      const sums = readScalars([
        ...ctx.params.map((p, i) => tf.sum(tf.square(first ? p : tf.sub(p, ctx.slots[i][0])))),
        ...grads.map((g) => tf.sum(tf.square(g))),
      ]);
      const dist = sums.slice(0, n);
      const gsq = sums.slice(n);
      const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
      let rBar: number | number[];
      let G: number | number[];
      let eta: number[];
      if (!layerwise) {
        const r = first
          ? r0 * (1 + Math.sqrt(sum(dist)))
          : Math.max(ctx.scalars.rBar as number, Math.sqrt(sum(dist)));
        const g = first ? sum(gsq) + eps : (ctx.scalars.G as number) + sum(gsq);
        rBar = r;
        G = g;
        eta = new Array(n).fill(g > 0 ? (c * r) / Math.sqrt(g) : 0);
      } else {
        const rPrev = ctx.scalars.rBar as number[];
        const gPrev = ctx.scalars.G as number[];
        const r = dist.map((d, i) => (first ? r0 * (1 + Math.sqrt(d)) : Math.max(rPrev[i], Math.sqrt(d))));
        const g = gsq.map((q, i) => (first ? q + eps : gPrev[i] + q));
        rBar = r;
        G = g;
        eta = r.map((ri, i) => (g[i] > 0 ? (c * ri) / Math.sqrt(g[i]) : 0));
      }
      if (first && initEta !== null) eta = eta.map(() => initEta * ctx.lrScale);
      return {
        update: grads.map((g, i) => tf.mul(g, eta[i])),
        slots: ctx.slots.map((s) => [...s]),
        scalars: { t: (ctx.scalars.t as number) + 1, rBar, G, eta: layerwise ? eta : eta[0] },
        etaScale: n === 0 ? 0 : sum(eta) / n,
      };
    },
  };
}

registerDirection('dog', (c) => dogDirection(c as DogOptions));
registerDirection('ldog', (c) => dogDirection({ ...(c as DogOptions), layerwise: true }));

function preset(options: DogPresetOptions, layerwise: boolean): LrfreeOptimizer {
  // layerwise is the method's option (methods.dog); the preset decides it, so it is not among the preset's
  // keys and a given one is refused as unknown (it would be silently overridden).
  const { average, ...rest } = options;
  const { own, common, schedule } = splitCommon<DogOptions>(
    rest,
    layerwise ? 'ldog' : 'dog',
    layerwise ? LDOG_KEYS : DOG_KEYS,
  );
  if (
    average !== undefined &&
    typeof average !== 'boolean' &&
    (average === null || typeof average !== 'object' || Array.isArray(average))
  ) {
    throw new LrfreeConfigError(
      `${layerwise ? 'ldog' : 'dog'}: average = ${showValue(average)} is not allowed; average must be true, ` +
        'false or the averager options { gamma }.',
    );
  }
  const averageGamma =
    average === undefined || average === false ? undefined : average === true ? 8 : (average.gamma ?? 8);
  const cls = averageGamma === undefined ? LrfreeOptimizer : AveragedOptimizer;
  return new cls({
    ...(averageGamma === undefined ? {} : { averageGamma }),
    ...common,
    // DoG's eta already decays through G; a schedule multiplies its lr c (ctx.lrScale), which for DoG
    // moves the weights exactly as multiplying the committed step would.
    schedule,
    method: dogDirection({ ...own, layerwise }),
    name: layerwise ? 'ldog' : 'dog',
  });
}

/**
 * DoG preset (`optimizer({ method: methods.dog() })`); 1 forward + 1 backward per step; `lastStep.eta` is eta = rBar/sqrt(G).
 *
 * @example
 * ```ts
 * const opt = lrfree.dog({ repsRel: 1e-4 }); // 1e-4 because the model has batch norm
 * const avg = lrfree.averager(model);         // evaluate with the averaged weights
 * // or keep the average inside the optimizer, as its evaluation point:
 * const avgOpt = lrfree.dog({ repsRel: 1e-4, average: true });
 * // model.fit(..., { callbacks: [lrfree.evalPointCallback(avgOpt, { trainX })] }) leaves the average in
 * ```
 */
export function dog(options: DogPresetOptions = {}): LrfreeOptimizer {
  return preset(options, false);
}

/**
 * L-DoG preset: DoG per variable; `lastStep.eta` is the mean of the per-variable etas.
 *
 * @example
 * ```ts
 * model.compile({ optimizer: lrfree.ldog(), loss: 'categoricalCrossentropy' });
 * ```
 */
export function ldog(options: DogPresetOptions = {}): LrfreeOptimizer {
  return preset(options, true);
}
