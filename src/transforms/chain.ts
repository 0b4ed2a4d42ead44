/** `chain`: several gradient transforms applied in order, as one (optax's `chain`). */

import type * as tf from '@tensorflow/tfjs';
import { createTransform, registerTransform } from '../core/registry.js';
import type { GradientTransform, HyperparameterSpec, ScalarState, TransformContext } from '../core/types.js';
import { LrfreeConfigError } from '../core/validate.js';

/**
 * Applies `transforms` in order: their gradient hooks (g -> g') in order before the direction, their
 * update hooks (d -> d') in order after it. Each keeps its own scalar state (stored under `i:key`) and its
 * own per-variable tensors (slots named `i:name`).
 * Hyperparameters keep their names (`maxNorm`, `rate`); a name two of them share becomes `name@i`.
 *
 * @example
 * ```ts
 * const { chain, clipByGlobalNorm, decoupledWeightDecay } = lrfree.transforms;
 * const opt = lrfree.optimizer({
 *   transforms: chain(clipByGlobalNorm(1), decoupledWeightDecay({ rate: 1e-4 })),
 *   direction: lrfree.directions.adam(),
 *   step: lrfree.steps.smoothedArmijo(),
 * });
 * ```
 */
export function chain(...transforms: GradientTransform[]): GradientTransform {
  transforms.forEach((t, i) => {
    if (typeof t?.initScalars !== 'function' || (!t.gradient && !t.update)) {
      throw new LrfreeConfigError(
        `chain: argument ${i} is not a gradient transform (clipByGlobalNorm(1), decoupledWeightDecay({ rate }), ...).`,
      );
    }
  });
  // Hyperparameter names: the child's own unless two children share one.
  const count = new Map<string, number>();
  for (const t of transforms)
    for (const n of Object.keys(t.hyperparameters ?? {})) count.set(n, (count.get(n) ?? 0) + 1);
  const hyperparameters: Record<string, HyperparameterSpec> = {};
  const names = transforms.map((t, i) => {
    const map: Record<string, string> = {};
    for (const [n, spec] of Object.entries(t.hyperparameters ?? {})) {
      const outer = count.get(n)! > 1 ? `${n}@${i}` : n;
      map[n] = outer;
      hyperparameters[outer] = spec;
    }
    return map;
  });
  const sub = (i: number, outer: Readonly<Record<string, number>>) =>
    Object.fromEntries(Object.entries(names[i]).map(([n, o]) => [n, outer[o]]));
  const own = (i: number, s: Readonly<ScalarState>): ScalarState => {
    const out: ScalarState = {};
    for (const [k, v] of Object.entries(s)) if (k.startsWith(`${i}:`)) out[k.slice(`${i}:`.length)] = v;
    return out;
  };
  const hasGradient = transforms.some((t) => t.gradient);
  const hasUpdate = transforms.some((t) => t.update);
  // Per-variable slots: child i owns positions [offset[i], offset[i] + its slot count) of each variable's.
  const slotCounts = transforms.map((t) => t.slotNames?.length ?? 0);
  const offsets = slotCounts.map((_, i) => slotCounts.slice(0, i).reduce((a, b) => a + b, 0));
  const hasSlots = slotCounts.some((c) => c > 0);
  const ownSlots = (i: number, slots: TransformContext['slots']) =>
    slots.map((v) => v.slice(offsets[i], offsets[i] + slotCounts[i]));
  const withOwn = (all: tf.Tensor[][], i: number, mine: tf.Tensor[][]) =>
    all.map((v, k) => [...v.slice(0, offsets[i]), ...mine[k], ...v.slice(offsets[i] + slotCounts[i])]);
  const childCtx = (
    i: number,
    ctx: TransformContext,
    slots: TransformContext['slots'],
  ): TransformContext => ({
    ...ctx,
    hyper: sub(i, ctx.hyper),
    scalars: own(i, ctx.scalars),
    slots: ownSlots(i, slots),
  });
  return {
    kind: 'chain',
    config: { transforms: transforms.map((t) => ({ kind: t.kind, config: t.config })) },
    initScalars: () => {
      const out: ScalarState = {};
      transforms.forEach((t, i) => {
        for (const [k, v] of Object.entries(t.initScalars())) out[`${i}:${k}`] = v;
      });
      return out;
    },
    hyperparameters,
    ...(hasSlots
      ? {
          slotNames: transforms.flatMap((t, i) => (t.slotNames ?? []).map((n) => `${i}:${n}`)),
          initSlots: (
            variable: tf.Variable,
            info: Parameters<NonNullable<GradientTransform['initSlots']>>[1],
          ) => transforms.flatMap((t) => t.initSlots?.(variable, info) ?? []),
        }
      : {}),
    gradient: hasGradient
      ? (ctx, grads, gradNormSq) => {
          let g = [...grads];
          let q = [...gradNormSq];
          const scalars: ScalarState = { ...ctx.scalars };
          const info: Record<string, number> = {};
          let slots = ctx.slots.map((v) => [...v]);
          let changed = false;
          transforms.forEach((t, i) => {
            if (!t.gradient) return;
            const r = t.gradient(childCtx(i, ctx, slots), g, q);
            g = r.grads;
            q = r.gradNormSq;
            if (r.slots) {
              slots = withOwn(slots, i, r.slots);
              changed = true;
            }
            for (const [k, v] of Object.entries(r.scalars ?? {})) scalars[`${i}:${k}`] = v;
            Object.assign(info, r.info ?? {});
          });
          return { grads: g, gradNormSq: q, scalars, info, ...(changed ? { slots } : {}) };
        }
      : undefined,
    update: hasUpdate
      ? (ctx, update) => {
          let d = [...update];
          let slots = ctx.slots.map((v) => [...v]);
          let changed = false;
          transforms.forEach((t, i) => {
            if (!t.update) return;
            const r = t.update(childCtx(i, ctx, slots), d);
            if (Array.isArray(r)) d = r;
            else {
              d = r.update;
              if (r.slots) {
                slots = withOwn(slots, i, r.slots);
                changed = true;
              }
            }
          });
          return changed ? { update: d, slots } : d;
        }
      : undefined,
  };
}

registerTransform('chain', (c) =>
  chain(...((c.transforms as unknown[]) ?? []).map((spec) => createTransform(spec))),
);
