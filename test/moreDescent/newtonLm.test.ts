/**
 * Newton's Levenberg-Marquardt loop and Armijo fallback (ALGORITHMS.md §8.4) against a float64 oracle written
 * from the spec: the Hessian is built once per step (central finite differences, §8.3), every retry re-solves
 * with it, losses are compared on the step's own batch, and when every LM solve fails an Armijo search
 * (c = 1e-4, shrink 0.5) runs along the Newton direction.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { LrfreeOptimizer } from '../../src/core/optimizer.js';
import { newton } from '../../src/directions/newton.js';
import { constant } from '../../src/steps/constant.js';
import { useBackend } from '../helpers/tf.js';

beforeAll(async () => {
  await useBackend('cpu');
});

type Fn = { f: (w: number[]) => number; g: (w: number[]) => number[] };

/** 2x2 Cholesky solve of (H + lam I) x = g, or undefined when not positive definite. */
function solve2(h: number[][], lam: number, g: number[]): number[] | undefined {
  const a = h[0][0] + lam;
  const b = h[0][1];
  const d = h[1][1] + lam;
  if (!(a > 0)) return undefined;
  const l11 = Math.sqrt(a);
  const l21 = b / l11;
  const r = d - l21 * l21;
  if (!(r > 0)) return undefined;
  const l22 = Math.sqrt(r);
  const y1 = g[0] / l11;
  const y2 = (g[1] - l21 * y1) / l22;
  const x2 = y2 / l22;
  const x1 = (y1 - l21 * x2) / l11;
  return [x1, x2];
}

/**
 * One step of §8.4 in float64 for a 2-parameter problem: central FD Hessian (eps = 1e-2 (1 + ||w||) per unit
 * vector), symmetrised; Cholesky raising lambda to 1e-4 mean|diag H| then x10; LM accept on a lower loss,
 * lambda/3 after acceptance, x10 after a rejection; Armijo fallback along the first Newton direction.
 */
function oracleStep(p: Fn, w: number[], lambda0: number, lmTrials: number) {
  const g = p.g(w);
  const L0 = p.f(w);
  const eps = 1e-2 * (1 + Math.hypot(...w));
  const cols = [0, 1].map((j) => {
    const e = [0, 0];
    e[j] = eps;
    const gp = p.g([w[0] + e[0], w[1] + e[1]]);
    const gm = p.g([w[0] - e[0], w[1] - e[1]]);
    return [(gp[0] - gm[0]) / (2 * eps), (gp[1] - gm[1]) / (2 * eps)];
  });
  const off = (cols[1][0] + cols[0][1]) / 2;
  const h = [
    [cols[0][0], off],
    [off, cols[1][1]],
  ];
  const floor = 1e-4 * ((Math.abs(h[0][0]) + Math.abs(h[1][1])) / 2);
  let lam = lambda0;
  let trials = 0;
  let first: number[] | undefined;
  for (let t = 0; t < lmTrials; t++) {
    let x = solve2(h, lam, g);
    while (!x) {
      lam = Math.max(10 * lam, floor);
      x = solve2(h, lam, g);
    }
    first ??= x;
    trials += 1;
    const next = [w[0] - x[0], w[1] - x[1]];
    if (p.f(next) < L0) return { w: next, lambda: Math.max(lam / 3, 0), trials, armijo: 0 };
    lam = Math.max(10 * lam, floor);
  }
  const d = first!;
  const slope = g[0] * d[0] + g[1] * d[1];
  let t = 1;
  for (let k = 1; k <= 30; k++) {
    const next = [w[0] - t * d[0], w[1] - t * d[1]];
    if (p.f(next) <= L0 - 1e-4 * t * slope) return { w: next, lambda: lam, trials, armijo: k };
    t *= 0.5;
  }
  throw new Error('oracle: no decrease');
}

function run(start: number[], steps: number, lmTrials: number, shift: (k: number) => number) {
  const v = tf.variable(tf.tensor1d(start));
  let k = 1;
  // Batch k adds shift(k): a rule comparing with the previous step's loss would accept or reject wrongly.
  const loss = () =>
    tf.tidy(() => {
      const [a, b] = tf.unstack(v);
      return tf.add(lossTf(a, b), shift(k)) as tf.Scalar;
    });
  let lossTf: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor = () => tf.scalar(0);
  const opt = new LrfreeOptimizer({ direction: newton({ hvp: 'central', lmTrials }), step: constant(1) });
  return {
    setLoss: (fn: typeof lossTf) => {
      lossTf = fn;
    },
    go: () => {
      const out: { w: number[]; info: Record<string, number>; backwards: number }[] = [];
      for (; k <= steps; k++) {
        opt.minimize(loss, false, [v]);
        out.push({ w: Array.from(v.dataSync()), info: opt.lastStep.info, backwards: opt.lastStep.backwards });
      }
      opt.dispose();
      v.dispose();
      return out;
    },
  };
}

describe('newton: size limits are inclusive', () => {
  // Mutation survivor: P == maxParams (and P == maxDenseParams) must be allowed (catches > -> >=).
  it('exactly maxParams (cg) and maxDenseParams (dense) parameters run; one more throws', () => {
    const v = tf.variable(tf.tensor1d([1, 2]));
    const loss = () => tf.sum(tf.square(v)) as tf.Scalar;
    for (const o of [
      { solver: 'cg' as const, maxParams: 2 },
      { solver: 'dense' as const, maxDenseParams: 2 },
    ]) {
      const ok = new LrfreeOptimizer({ direction: newton(o), step: constant(1) });
      ok.minimize(loss, false, [v]);
      expect(ok.counters.steps).toBe(1);
      ok.dispose();
    }
    const tooBig = new LrfreeOptimizer({
      direction: newton({ solver: 'cg', maxParams: 1 }),
      step: constant(1),
    });
    expect(() => tooBig.minimize(loss, false, [v])).toThrow(/maxParams = 1/);
    tooBig.dispose();
    v.dispose();
  });
});

describe('newton: Levenberg-Marquardt inside the step, Armijo fallback (float64 oracle)', () => {
  it('non-convex x^2 - y^2 + y^4: trials, lambda and iterates match; H built once per step (backwards = 1 + 2P + trials)', () => {
    const p: Fn = {
      f: ([x, y]) => x * x - y * y + y ** 4,
      g: ([x, y]) => [2 * x, -2 * y + 4 * y ** 3],
    };
    const shift = (k: number) => (k % 2 === 0 ? 3 : 0);
    const r = run([1, 0.1], 8, 10, shift);
    r.setLoss((a, b) => tf.add(tf.sub(tf.square(a), tf.square(b)), tf.pow(b, 4)));
    const got = r.go();
    let w = [1, 0.1];
    let lam = 0;
    let rejected = 0;
    got.forEach((s, i) => {
      const o = oracleStep(p, w, lam, 10);
      expect(s.info.lmTrials, `step ${i + 1} LM trials`).toBe(o.trials);
      expect(s.info.armijoTrials, `step ${i + 1} Armijo trials`).toBe(0);
      // Catches a Hessian recomputed on every rejection (2P more backwards per retry).
      expect(s.backwards, `step ${i + 1} backwards`).toBe(1 + 4 + o.trials);
      expect(Math.abs(s.info.damping - o.lambda), `step ${i + 1} lambda`).toBeLessThan(
        1e-3 * Math.max(o.lambda, 1e-6),
      );
      o.w.forEach((x, j) => {
        expect(Math.abs(s.w[j] - x), `step ${i + 1} w[${j}]`).toBeLessThan(1e-4);
      });
      rejected += o.trials - 1;
      w = o.w;
      lam = o.lambda;
    });
    // The run exercises rejections (the indefinite start needs them) and ends near a minimum (0, +-0.707).
    expect(rejected).toBeGreaterThan(0);
    expect(p.f(w)).toBeLessThan(-0.24);
  });

  it('log cosh from x = 2 with one LM solve: the Newton step overshoots, Armijo halves it along d', () => {
    // f(x) = log cosh(x - c_k): H = sech^2 is tiny at x - c = 2, so the Newton step -tanh/sech^2 overshoots.
    const c = (k: number) => 0.1 * k;
    const steps = 4;
    const v = tf.variable(tf.tensor1d([2]));
    let k = 1;
    const loss = () => tf.tidy(() => tf.sum(tf.log(tf.cosh(tf.sub(v, c(k))))) as tf.Scalar);
    const opt = new LrfreeOptimizer({
      direction: newton({ hvp: 'central', lmTrials: 1, solver: 'dense' }),
      step: constant(1),
    });
    let x = 2;
    let lam = 0;
    let usedArmijo = 0;
    for (; k <= steps; k++) {
      opt.minimize(loss, false, [v]);
      // 1-D oracle (P = 1).
      const ck = c(k);
      const p: Fn = {
        f: ([a]) => Math.log(Math.cosh(a - ck)),
        g: ([a, b]) => [Math.tanh(a - ck), b],
      };
      const h = (a: number) => {
        const eps = 1e-2 * (1 + Math.abs(a));
        return (Math.tanh(a + eps - ck) - Math.tanh(a - eps - ck)) / (2 * eps);
      };
      // Inline 1-D version of oracleStep (P = 1).
      const g = Math.tanh(x - ck);
      const H = h(x);
      let l = lam;
      const floor = 1e-4 * Math.abs(H);
      while (!(H + l > 0)) l = Math.max(10 * l, floor);
      const d = g / (H + l);
      let next: number;
      let armijo = 0;
      if (p.f([x - d, 0]) < p.f([x, 0])) {
        next = x - d;
        lam = l / 3;
      } else {
        l = Math.max(10 * l, floor);
        let t = 1;
        for (;;) {
          armijo += 1;
          if (p.f([x - t * d, 0]) <= p.f([x, 0]) - 1e-4 * t * g * d) break;
          t *= 0.5;
        }
        next = x - t * d;
        lam = l;
      }
      expect(opt.lastStep.info.armijoTrials, `step ${k} Armijo trials`).toBe(armijo);
      expect(opt.lastStep.info.lmTrials).toBe(1);
      expect(opt.lastStep.backwards).toBe(1 + 2 + 1 + armijo);
      // H = sech^2 is small here: its float32 finite difference is good to ~1e-4 relative, d = g/H is ~10.
      expect(Math.abs(v.dataSync()[0] - next), `step ${k} x`).toBeLessThan(1e-3);
      usedArmijo += armijo > 0 ? 1 : 0;
      x = next;
    }
    // The first step needs the fallback (full Newton step from x - c = 1.9 lands near -11).
    expect(usedArmijo).toBeGreaterThan(0);
    opt.dispose();
    v.dispose();
  });
});
