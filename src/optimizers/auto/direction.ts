/**
 * auto()'s direction: Schedule-Free (z, x, y; evaluate at x) along a clipped Adam direction times the scale
 * the rule decided, as TF.js ops or one fused kernel; in the deterministic regime it hands the step to
 * conjugate gradients (conjugate.ts). Registered as 'autoSf' so that saved states rebuild it.
 */
import * as tf from '@tensorflow/tfjs';
import { FUSED_AUTO, type FusedAutoAttrs, fusedAutoAvailable } from '../../core/fusedAutoKernel.js';
import { registerDirection } from '../../core/registry.js';
import type { DirectionResult } from '../../core/types.js';
import { committedPoint, type EvalPointDirection } from '../evalPointMethod.js';
import { conjugateStep } from './conjugate.js';
import { BETA2, EPS, TINY } from './constants.js';
import { dotAll } from './line.js';

/** The direction, with what {@link AutoOptimizer} hands it before each step. */
export interface AutoDirection extends EvalPointDirection {
  /** The scale for the coming step, set by {@link AutoOptimizer} from the rule's state before each step. */
  scale: number;
  /** The smallest averaging weight for the coming step (0: Schedule-Free's own), set likewise. */
  cFloor: number;
  /**
   * The share of the step z takes along -u that the training point y takes in the step just computed:
   * y moves by (1 - beta + beta*c)*eta*u (plus a drift towards x that does not depend on eta).
   */
  yShare: number;
  /**
   * Conjugate gradients for the coming step (the deterministic regime's direction, see
   * {@link AutoDeterministicDirection}), set likewise.
   */
  cg: boolean;
  /** The fraction of its last move the rule let through (1, or less where the loss was not finite). */
  cgFraction: number;
  /** The loss is known to be noisy (the default decay applies), set likewise. */
  noisy: boolean;
}

/** The direction's settings (saved in its config). */
interface AutoDirectionConfig {
  /** The decay on a noisy loss. */
  weightDecay: number;
  /** The decay on a deterministic loss and before the regime is known (0 unless the user gave one). */
  deterministicDecay: number;
  beta: number;
  clip: boolean;
  /** Schedule-Free averaging; off: x = y = z (an ablation switch). */
  average: boolean;
  /**
   * Conjugate gradients' moves compensated for float32 rounding (a seventh slot `c`, see
   * {@link compensate}); false in states saved before it existed.
   */
  compensated: boolean;
  /**
   * The Newton polish of a small deterministic problem when conjugate gradients stall (./polish.ts); false
   * in states saved before it existed (they continue as they were).
   */
  polish: boolean;
}

/**
 * The direction. `fused` (not saved: a speed choice, not a setting) lets it run the whole per-tensor chain
 * as one kernel where {@link FUSED_AUTO} can run (wasm), equal to the ops below to float32 round-off.
 */
export function autoDirection(
  {
    weightDecay: noisyDecay,
    deterministicDecay,
    beta,
    clip,
    average,
    compensated,
    polish,
  }: AutoDirectionConfig,
  fused = true,
): AutoDirection {
  const dir: AutoDirection = {
    kind: 'autoSf',
    config: { weightDecay: noisyDecay, deterministicDecay, beta, clip, average, compensated, polish },
    noisy: false,
    scale: 0,
    cFloor: 0,
    yShare: 1,
    cg: false,
    cgFraction: 1,
    // s and gPrev: the conjugate-gradient search direction and gradient of the last step (scalar
    // placeholders until the deterministic regime's conjugate gradients start).
    slotNames: ['z', 'x', 'y', 'v', 's', 'gPrev', ...(compensated ? ['c'] : [])],
    trainPointSlot: 2,
    evalPointOf: (slots) => slots[1].clone(),
    initSlots: (v) => [
      v.clone(),
      v.clone(),
      v.clone(),
      tf.zerosLike(v),
      tf.scalar(0),
      tf.scalar(0),
      ...(compensated ? [tf.scalar(0)] : []),
    ],
    initScalars: () => ({ k: 0, lrMax: 0, weightSum: 0 }),
    compute: (ctx): DirectionResult => {
      const weightDecay = dir.noisy ? noisyDecay : deterministicDecay;
      if (dir.cg) return conjugateStep(ctx, weightDecay, dir.scale, dir.cgFraction, compensated, polish);
      const s = ctx.scalars;
      const k = s.k as number;
      const eta = dir.scale;
      const lrMax = Math.max(s.lrMax as number, eta);
      const w = lrMax * lrMax;
      const weightSum = (s.weightSum as number) + w;
      const c = !average ? 1 : weightSum > 0 ? Math.max(w / weightSum, eta > 0 ? dir.cFloor : 0) : 0;
      dir.yShare = average ? 1 - beta + beta * c : 1;
      const bc2 = 1 - BETA2 ** (k + 1);
      const update: tf.Tensor[] = [];
      const search: tf.Tensor[] = [];
      const slots: tf.Tensor[][] = [];
      const attrs: FusedAutoAttrs = {
        beta2: BETA2,
        bc2,
        epsRel: EPS,
        epsFloor: TINY,
        clip,
        eta,
        weightDecay,
        c,
        average,
        beta,
      };
      const useFused = fused && fusedAutoAvailable();
      const firstMove = k === 1;
      // Conjugate gradients' state: the first move and its gradient, else scalar placeholders (the ones
      // already there, so a noisy run allocates none per step).
      const placeholder = (t: tf.Tensor | undefined) => (t?.rank === 0 ? t : tf.scalar(0));
      // (and no compensation: the Schedule-Free moves are not conjugate gradients').
      const lastMove = (step: tf.Tensor, g: tf.Tensor, i: number) => [
        ...(firstMove && eta > 0
          ? [step.clone(), g.clone()]
          : [placeholder(ctx.slots[i][4]), placeholder(ctx.slots[i][5])]),
        ...(compensated ? [placeholder(ctx.slots[i][6])] : []),
      ];
      ctx.grads.forEach((g, i) => {
        const y = ctx.params[i];
        const [z0, x0, , v0] = ctx.slots[i];
        if (useFused) {
          // The chain below in one kernel (src/backend/wasm/fusedAuto.ts): [v, u, z, x, update, committed y].
          const [v, u, z, x, step, yc] = tf
            .engine()
            .runKernel(FUSED_AUTO, { g, v0, z0, x0, y }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
          search.push(u);
          update.push(step);
          slots.push([z, x, yc, v, ...lastMove(step, g, i)]);
          return;
        }
        const v = tf.add(tf.mul(v0, BETA2), tf.mul(tf.square(g), 1 - BETA2));
        const vHat = tf.div(v, bc2);
        // eps relative to the tensor's gradient scale, so u (and every decision) is the same whatever the
        // scale of the loss; the absolute floor only keeps an all-zero gradient at 0 rather than 0/0.
        const eps = tf.add(tf.mul(tf.sqrt(tf.mean(vHat)), EPS), TINY);
        let u = tf.div(g, tf.add(tf.sqrt(vHat), eps));
        // Update clipping: per-tensor RMS at most 1.
        if (clip) {
          const rms = tf.maximum(tf.div(tf.sqrt(tf.sum(tf.square(u))), Math.sqrt(Math.max(g.size, 1))), 1);
          u = tf.div(u, rms);
        }
        search.push(u);
        let z = z0;
        if (eta > 0) {
          if (weightDecay > 0) z = tf.sub(z, tf.mul(y, eta * weightDecay));
          z = tf.sub(z, tf.mul(u, eta));
        }
        const x = c > 0 ? tf.add(tf.mul(x0, 1 - c), tf.mul(z, c)) : x0;
        const yNew = average ? tf.add(tf.mul(x, beta), tf.mul(z, 1 - beta)) : z;
        const step = tf.sub(y, yNew);
        update.push(step);
        slots.push([z, x, committedPoint(y, step), v, ...lastMove(step, g, i)]);
      });
      // The first move (step 2, before the regime is known) is kept as conjugate gradients' last step, so
      // that on a deterministic loss their acceptance test checks it too (and backtracks along it).
      const moving = firstMove && eta > 0;
      return {
        update,
        search,
        slots,
        scalars: {
          k: k + 1,
          lrMax,
          weightSum,
          ...(moving ? { cgHas: 1, cgAlpha: 1, cgLoss: ctx.loss, cgSlope: dotAll(ctx.grads, update) } : {}),
        },
        etaScale: eta,
        info: { c },
      };
    },
  };
  return dir;
}

registerDirection('autoSf', (c) =>
  autoDirection({
    weightDecay: c.weightDecay as number,
    // States saved before the regime-dependent default applied their one decay in both regimes.
    deterministicDecay: (c.deterministicDecay as number | undefined) ?? (c.weightDecay as number),
    beta: c.beta as number,
    clip: (c.clip as boolean | undefined) ?? true,
    average: (c.average as boolean | undefined) ?? true,
    compensated: (c.compensated as boolean | undefined) ?? false,
    polish: (c.polish as boolean | undefined) ?? false,
  }),
);
