/**
 * Newton direction for small models (sources/more-descent-less-gradient.txt, ALGORITHMS.md §8): d solves
 * (H + lambda I) d = g, with H from finite-difference Hessian-vector products (nested tf.grad is wrong or
 * fails for tanh/sigmoid/softmax in TF.js, TFJS-NOTES §6, trap T25).
 */
import { registerDirection } from '../core/registry.js';
import type { Direction, DirectionContext, DirectionResult } from '../core/types.js';
import { checkKnownKeys, checkNumber, checkOneOf, LrfreeConfigError } from '../core/validate.js';
import { denseHessian, finiteDifferenceHvp, flatten, lossAtFlat, scaled, unflatten } from './flatParams.js';
import { conjugateGradient, dampedSolve, dot } from './newtonSolvers.js';

/** Options of {@link newton}. */
export interface NewtonOptions {
  /** Damping lambda >= 0 added to the Hessian's diagonal; with `adaptive` also its floor. Default 0. */
  damping?: number;
  /**
   * Levenberg-Marquardt loop inside each step (ALGORITHMS.md §8.4): solve with lambda, evaluate the loss at
   * w - d on the step's batch; accept when it is lower (lambda <- max(lambda/3, damping) for the next step),
   * else lambda <- max(10*lambda, 1e-4*mean|diag H|) and solve again with the same Hessian, at most
   * `lmTrials` times; then an Armijo backtracking search along the first Newton direction. Default true.
   * With false: one solve with `damping`, no evaluation (the step rule decides).
   */
  adaptive?: boolean;
  /** Levenberg-Marquardt solves per step before the Armijo fallback. Default 10. */
  lmTrials?: number;
  /** Finite-difference Hessian-vector product: `forward` (1 gradient each) or `central` (2). Default `central`. */
  hvp?: 'forward' | 'central';
  /** `dense` (P HVPs, Cholesky), `cg` (conjugate gradients on HVPs) or `auto` (dense up to maxDenseParams). Default `auto`. */
  solver?: 'auto' | 'dense' | 'cg';
  /** Largest parameter count for the dense solver (a P x P float64 Hessian and a P^3 solve). Default 1000. */
  maxDenseParams?: number;
  /** Largest parameter count for the CG solver. Default 100000. */
  maxParams?: number;
  /** CG iterations per step (each one HVP). Default 50. */
  cgIterations?: number;
  /** CG stops when ||r|| <= cgTolerance * ||g||. Default 1e-6. */
  cgTolerance?: number;
  /** Finite-difference scale: eps = fdScale * (1 + ||w||) / ||v||. Default 1e-2 (see the docs). */
  fdScale?: number;
}

/** The option keys this factory takes (the preset of the same name adds its own and the common ones). */
export const NEWTON_DIRECTION_KEYS = [
  'damping',
  'adaptive',
  'hvp',
  'solver',
  'maxDenseParams',
  'maxParams',
  'cgIterations',
  'cgTolerance',
  'fdScale',
  'lmTrials',
];

/** Armijo fallback along the Newton direction (textbook constants, ALGORITHMS.md §8.4). */
const ARMIJO_C = 1e-4;
const ARMIJO_SHRINK = 0.5;
const ARMIJO_TRIALS = 30;

/**
 * Newton: d = (H + lambda I)^-1 g, committed as w <- w - eta*d (eta = 1 is the Newton step). H v is
 * (g(w + eps v) - g(w - eps v)) / (2 eps) (`central`) or (g(w + eps v) - g(w)) / eps (`forward`), every
 * gradient on the step's batch and dropout mask with the batch-norm statistics restored. The dense solver
 * builds H column by column from P unit-vector HVPs, symmetrises it and solves with Cholesky, raising
 * lambda until H + lambda I is positive definite; the CG solver runs conjugate gradients on HVPs and stops
 * on non-positive curvature. Non-finite Hessian values: no move, lambda raised.
 *
 * On linear least squares one step from any start reaches the normal-equation solution (ridge: the ridge
 * solution), up to float32 round-off.
 *
 * Cost per step: 1 forward/backward + P (forward) or 2P (central) gradients for the dense solver, or
 * 1-2 gradients per CG iteration; plus the O(P^3) solve in float64 JS. Only for small models.
 *
 * @example
 * ```ts
 * const opt = lrfree.optimizer({ direction: lrfree.directions.newton(), step: lrfree.constant(1) });
 * ```
 */
export function newton(options: NewtonOptions = {}): Direction {
  checkKnownKeys('newton', options, NEWTON_DIRECTION_KEYS, 'directions.newton');
  const damping = checkNumber('newton', 'damping', options.damping ?? 0, { min: 0 });
  const adaptive = checkOneOf('newton', 'adaptive', options.adaptive ?? true, [true, false]);
  const hvpMode = checkOneOf('newton', 'hvp', options.hvp ?? 'central', ['forward', 'central']);
  const solver = checkOneOf('newton', 'solver', options.solver ?? 'auto', ['auto', 'dense', 'cg']);
  const maxDenseParams = checkNumber('newton', 'maxDenseParams', options.maxDenseParams ?? 1000, {
    min: 1,
    max: 20000,
    integer: true,
  });
  const maxParams = checkNumber('newton', 'maxParams', options.maxParams ?? 100000, {
    min: 1,
    integer: true,
  });
  const cgIterations = checkNumber('newton', 'cgIterations', options.cgIterations ?? 50, {
    min: 1,
    integer: true,
  });
  const cgTolerance = checkNumber('newton', 'cgTolerance', options.cgTolerance ?? 1e-6, {
    min: 0,
    minExclusive: true,
    max: 1,
  });
  const fdScale = checkNumber('newton', 'fdScale', options.fdScale ?? 1e-2, {
    min: 0,
    minExclusive: true,
    max: 1,
  });
  const lmTrials = checkNumber('newton', 'lmTrials', options.lmTrials ?? 10, {
    min: 1,
    max: 100,
    integer: true,
  });
  const config = {
    damping,
    adaptive,
    hvp: hvpMode,
    solver,
    maxDenseParams,
    maxParams,
    cgIterations,
    cgTolerance,
    fdScale,
    lmTrials,
  };

  function compute(ctx: DirectionContext): DirectionResult {
    const shapes = ctx.params.map((p) => p.shape);
    const sizes = ctx.params.map((p) => p.size);
    const P = sizes.reduce((a, b) => a + b, 0);
    const dense = solver === 'dense' || (solver === 'auto' && P <= maxDenseParams);
    if (dense && P > maxDenseParams) {
      throw new LrfreeConfigError(
        `newton: the model has ${P} parameters, more than maxDenseParams = ${maxDenseParams} the dense solver ` +
          `allows (a ${P} x ${P} Hessian from ${P} gradient evaluations and a P^3 solve per step). ` +
          `Use solver: 'cg', raise maxDenseParams, or a smaller model.`,
      );
    }
    if (P > maxParams) {
      throw new LrfreeConfigError(
        `newton: the model has ${P} parameters, more than maxParams = ${maxParams}; Newton is for small models ` +
          `(each CG iteration costs ${hvpMode === 'central' ? 2 : 1} extra gradient evaluations). ` +
          `Raise maxParams if you mean it, or use a first-order optimizer.`,
      );
    }
    const g = flatten(ctx.grads);
    const w = flatten(ctx.params);
    const wNorm = Math.sqrt(dot(w, w));
    const s = ctx.scalars;
    let lambda = s.lambda as number;
    const diagScale = s.diagScale as number;
    const floorOf = (scale: number) => (scale > 0 ? 1e-4 * scale : 1e-8);

    const hvp = finiteDifferenceHvp(ctx, { g, wNorm, fdScale, mode: hvpMode, shapes, sizes });

    // The Hessian is built once per step; every Levenberg-Marquardt retry re-solves with it.
    let newDiag = diagScale;
    let solve: (lam: number) => { x: Float64Array; lambda: number } | undefined;
    if (dense) {
      const h = denseHessian(hvp, P);
      if (h.every(Number.isFinite)) {
        let sum = 0;
        for (let i = 0; i < P; i++) sum += Math.abs(h[i * P + i]);
        newDiag = sum / P;
        solve = (lam) => dampedSolve(h, P, g, lam, floorOf(newDiag));
      } else {
        solve = () => undefined;
      }
    } else {
      // Hessian-free: each solve runs CG on fresh HVPs (there is no Hessian to keep).
      solve = (lam) => {
        const cg = conjugateGradient(hvp, g, lam, cgIterations, cgTolerance);
        return cg.x.every(Number.isFinite) ? { x: cg.x, lambda: lam } : undefined;
      };
    }

    // Loss at w - t*x on the step's batch (same dropout mask, BN statistics restored).
    const lossAt = (x: Float64Array, t: number) => lossAtFlat(ctx, scaled(x, -t), shapes, sizes);
    let x: Float64Array | undefined;
    let trials = 0;
    let armijoTrials = 0;
    let accepted = 1;
    if (!adaptive) {
      const r = solve(lambda);
      if (r) {
        x = r.x;
        lambda = r.lambda;
      }
    } else {
      let first: Float64Array | undefined;
      for (let t = 0; t < lmTrials; t++) {
        const r = solve(lambda);
        if (!r) break;
        first ??= r.x;
        lambda = r.lambda;
        trials += 1;
        const l1 = lossAt(r.x, 1);
        // An exact tie counts as a decrease while the predicted one is below float32 resolution (§0.5).
        const tie = l1 === ctx.loss && dot(g, r.x) <= 1e-6 * Math.abs(ctx.loss);
        if (Number.isFinite(l1) && (l1 < ctx.loss || tie)) {
          x = r.x;
          break;
        }
        lambda = Math.max(10 * lambda, floorOf(newDiag));
      }
      if (x) {
        // Accepted: less damping for the next step (never below the floor `damping`).
        lambda = Math.max(lambda / 3, damping);
        if (lambda < 1e-12 * floorOf(newDiag)) lambda = damping;
      } else if (first) {
        // Armijo backtracking along the first Newton direction p = -first: f(w + t p) <= f(w) + c t <g, p>.
        const slope = dot(g, first);
        const p = slope > 0 ? first : g;
        const gp = slope > 0 ? slope : dot(g, g);
        let t = 1;
        for (let k = 0; k < ARMIJO_TRIALS; k++) {
          armijoTrials += 1;
          const l1 = lossAt(p, t);
          if (Number.isFinite(l1) && l1 <= ctx.loss - ARMIJO_C * t * gp) {
            x = scaled(p, t);
            break;
          }
          t *= ARMIJO_SHRINK;
        }
      }
      if (!x) accepted = 0;
    }
    if (!x) {
      // Non-finite Hessian, no damping made it positive definite, or nothing lowered the loss: no move this
      // step, more damping next.
      x = new Float64Array(P);
      lambda = Math.max(10 * lambda, floorOf(newDiag));
    }
    return {
      update: unflatten(x, shapes, sizes),
      slots: ctx.params.map(() => []),
      // prevLoss is what the LM rule compares the next step's loss with.
      scalars: { lambda, diagScale: newDiag, prevLoss: ctx.loss },
      info: { damping: lambda, lmTrials: trials, armijoTrials, accepted },
    };
  }

  return {
    kind: 'newton',
    config,
    slotNames: [],
    initSlots: () => [],
    initScalars: () => ({ lambda: damping, diagScale: 0, prevLoss: Number.NaN }),
    compute,
  };
}

registerDirection('newton', (c) => newton(c as NewtonOptions));
