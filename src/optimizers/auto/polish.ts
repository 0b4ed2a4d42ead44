/**
 * auto()'s Newton polish: on a small deterministic problem where conjugate gradients have stalled at the
 * float32 resolution of their moves, one Newton step from the dense Hessian (central finite differences of
 * gradients, a Cholesky solve) lands on the float32 point nearest the minimiser that the line moves cannot
 * reach (measured: the ill-conditioned quadratic 3.4e-10 -> 0, Rosenbrock 6.9e-12 -> 0; docs/auto.md,
 * "The Newton polish"). Bounded so that it never dominates the cost: at most POLISH_MAX_PARAMS weights,
 * polishes in all cost no more gradients than the rest of the deterministic regime, and a polish follows
 * another only once the run has found a lower loss than the last one reached.
 */
import type * as tf from '@tensorflow/tfjs';
import type { DirectionContext } from '../../core/types.js';
import { denseHessian, finiteDifferenceHvp, flatten, unflatten } from '../../directions/flatParams.js';
import { dampedSolve, dot } from '../../directions/newtonSolvers.js';

/** The largest model the polish builds a dense Hessian for (as Newton's `maxDenseParams` default). */
export const POLISH_MAX_PARAMS = 1000;
/** Finite-difference scale of the Hessian-vector products (Newton's default `fdScale`). */
const FD_SCALE = 1e-2;

/** Gradient evaluations one polish costs on a model of `params` weights (2 per Hessian column). */
export function polishCost(params: number): number {
  return 2 * params;
}

/**
 * Whether a stalled run may polish: a model of at most {@link POLISH_MAX_PARAMS} weights, no more gradients
 * spent on polishes, this one included, than on everything else (so polishing at most doubles the cost),
 * and no weight decay (the Newton step solves for the loss's minimiser, not the decayed one).
 */
export function mayPolish(params: number, spent: number, polishSpent: number, weightDecay: number): boolean {
  return weightDecay === 0 && params <= POLISH_MAX_PARAMS && polishSpent + polishCost(params) <= spent;
}

/**
 * The Newton step x solving (H + lambda I) x = g (lambda 0, raised only until the Cholesky factorisation
 * succeeds), as tensors shaped like the weights, and its slope <g, x>; undefined when the Hessian is not
 * finite or no damping makes it positive definite. The move is w <- w - x.
 */
export function newtonPolish(ctx: DirectionContext): { step: tf.Tensor[]; slope: number } | undefined {
  const shapes = ctx.params.map((p) => p.shape);
  const sizes = ctx.params.map((p) => p.size);
  const g = flatten(ctx.grads);
  const w = flatten(ctx.params);
  const P = g.length;
  const hvp = finiteDifferenceHvp(ctx, {
    g,
    wNorm: Math.sqrt(dot(w, w)),
    fdScale: FD_SCALE,
    mode: 'central',
    shapes,
    sizes,
  });
  const h = denseHessian(hvp, P);
  if (!h.every(Number.isFinite)) return undefined;
  let diag = 0;
  for (let i = 0; i < P; i++) diag += Math.abs(h[i * P + i]);
  const floor = diag > 0 ? (1e-4 * diag) / P : 1e-8;
  const solved = dampedSolve(h, P, g, 0, floor);
  if (!solved) return undefined;
  const slope = dot(g, solved.x);
  if (!(slope > 0)) return undefined;
  return { step: unflatten(solved.x, shapes, sizes), slope };
}
