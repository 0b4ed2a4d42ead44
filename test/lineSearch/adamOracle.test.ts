/**
 * Adam-SLS, PLASLS and SaLSa with the Adam direction against float64 oracles written from ALGORITHMS.md
 * §2.1, §2.2 and §3.2 (not from src/), over 120 steps of a stochastic least-squares problem with badly
 * scaled features. The batches differ, so the preconditioned direction P*g is far from sign(g) after step 1
 * (asserted), which is where a wrong s = g'Pg, a wrong P or a wrong commit direction shows.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LrfreeOptimizer } from '../../src/core/optimizer.js';
import { optimizer } from '../../src/core/optimizer.js';
import { mulberry32 } from '../../src/core/rng.js';
import { adam } from '../../src/directions/adam.js';
import { adamSls, plasls, salsa } from '../../src/optimizers/lineSearch.js';
import { constant } from '../../src/steps/constant.js';
import { useBackend } from '../helpers/tf.js';

beforeAll(async () => {
  await useBackend('cpu');
});

const STEPS = 120;
const N = 64;
const BATCH = 16;
const NB = N / BATCH;
/** Feature scales: 1000x apart, so the Hessian is badly conditioned and Adam's P matters. */
const SCALES = [1, 10, 0.1, 3];
const TEACHER = [0.5, -0.2, 3, 0.1];
/** Two "layers": features 0-1 and 2-3. */
const GROUPS = [
  [0, 1],
  [2, 3],
];

function data() {
  const r = mulberry32(11);
  const X: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < N; i++) {
    const row = SCALES.map((s) => s * (2 * r() - 1));
    X.push(row);
    y.push(row.reduce((a, x, j) => a + x * TEACHER[j], 0) + 0.3 * (2 * r() - 1));
  }
  // float32-representable inputs, so the oracle and TF.js see the same numbers.
  return { X: X.map((row) => row.map(Math.fround)), y: y.map(Math.fround) };
}
const D = data();
const batchOf = (k: number) => {
  const b = (k - 1) % NB;
  return { X: D.X.slice(b * BATCH, (b + 1) * BATCH), y: D.y.slice(b * BATCH, (b + 1) * BATCH) };
};

/** f_B(w) = mean_i 0.5 (x_i.w - y_i)^2 and its gradient, float64. */
function f64(k: number, w: readonly number[]): number {
  const { X, y } = batchOf(k);
  return X.reduce((a, row, i) => a + 0.5 * (row.reduce((s, x, j) => s + x * w[j], 0) - y[i]) ** 2, 0) / BATCH;
}
function g64(k: number, w: readonly number[]): number[] {
  const { X, y } = batchOf(k);
  const g = [0, 0, 0, 0];
  X.forEach((row, i) => {
    const r = row.reduce((s, x, j) => s + x * w[j], 0) - y[i];
    row.forEach((x, j) => {
      g[j] += (r * x) / BATCH;
    });
  });
  return g;
}

/** Float64 Adam state (§2.1): moments, P, the search direction P*g and the momentum direction P*m-hat. */
function adam64(eps = 1e-8, b1 = 0.9, b2 = 0.999) {
  const m = [0, 0, 0, 0];
  const v = [0, 0, 0, 0];
  return (k: number, g: number[]) => {
    const P: number[] = [];
    const d: number[] = [];
    const u: number[] = [];
    g.forEach((gi, i) => {
      v[i] = b2 * v[i] + (1 - b2) * gi * gi;
      m[i] = b1 * m[i] + (1 - b1) * gi;
      P[i] = 1 / (Math.sqrt(v[i] / (1 - b2 ** k)) + eps);
      d[i] = P[i] * gi;
      u[i] = P[i] * (m[i] / (1 - b1 ** k));
    });
    return { P, d, u };
  };
}

interface OracleStep {
  loss: number;
  eta: number | number[];
  trials: number;
  w: number[];
  /** max_i |P_i g_i - sign(g_i)|: how far the search direction is from sign(g). */
  offSign: number;
  /** Smallest relative margin |L1 - (L0 - c eta s)| / L0 of the trials (decisions are robust to float32). */
  margin: number;
}

const offSign = (d: number[], g: number[]) => Math.max(...d.map((di, i) => Math.abs(di - Math.sign(g[i]))));
const add = (w: number[], eta: number, d: number[], mask?: number[]) =>
  w.map((x, i) => (mask && !mask.includes(i) ? x : x - eta * d[i]));

/** AdamSLS (§2.1 with reset option 1 of §1.3 applied at step 1, as the reference; c 0.2, betaB 0.9). */
function adamSlsOracle(n: number): OracleStep[] {
  const adam = adam64();
  let w = [0, 0, 0, 0];
  let stepSize = 0.1;
  const out: OracleStep[] = [];
  for (let k = 1; k <= STEPS; k++) {
    const L0 = f64(k, w);
    const g = g64(k, w);
    const { d, u } = adam(k, g);
    const s = g.reduce((a, gi, i) => a + gi * d[i], 0);
    let eta = stepSize * 2 ** (1 / n);
    let trials = 0;
    let margin = Number.POSITIVE_INFINITY;
    for (;;) {
      trials += 1;
      const L1 = f64(k, add(w, eta, d));
      margin = Math.min(margin, Math.abs(L1 - (L0 - 0.2 * eta * s)) / L0);
      if (L1 <= L0 - 0.2 * eta * s) break;
      eta *= 0.9;
      if (trials === 100) throw new Error('oracle: search failed');
    }
    w = add(w, eta, u);
    stepSize = eta;
    out.push({ loss: L0, eta, trials, w, offSign: offSign(d, g), margin });
  }
  return out;
}

/** PLASLS (§2.2 recommended implementation): joint warm-up, then one group per step round robin. */
function plaslsOracle(n: number, jointSteps: number): OracleStep[] {
  const adam = adam64();
  let w = [0, 0, 0, 0];
  let etas = [0.1, 0.1];
  const out: OracleStep[] = [];
  for (let k = 1; k <= STEPS; k++) {
    const L0 = f64(k, w);
    const g = g64(k, w);
    const { d, u } = adam(k, g);
    const sl = GROUPS.map((grp) => grp.reduce((a, i) => a + g[i] * d[i], 0));
    etas = etas.map((e) => e * 2 ** (1 / n));
    let trials = 0;
    let margin = Number.POSITIVE_INFINITY;
    const search = (eta0: number, s: number, mask?: number[]) => {
      let eta = eta0;
      for (;;) {
        trials += 1;
        const L1 = f64(k, add(w, eta, d, mask));
        margin = Math.min(margin, Math.abs(L1 - (L0 - 0.2 * eta * s)) / L0);
        if (L1 <= L0 - 0.2 * eta * s) return eta;
        eta *= 0.9;
        if (trials === 100) throw new Error('oracle: search failed');
      }
    };
    if (k <= jointSteps) {
      const eta = search(etas[0], sl[0] + sl[1]);
      etas = [eta, eta];
    } else {
      const j = (k - jointSteps - 1) % GROUPS.length;
      etas[j] = search(etas[j], sl[j], GROUPS[j]);
    }
    w = w.map((x, i) => x - etas[GROUPS.findIndex((grp) => grp.includes(i))] * u[i]);
    out.push({ loss: L0, eta: [...etas], trials, w, offSign: offSign(d, g), margin });
  }
  return out;
}

/** SaLSa reference class (§3.2): c 0.5, beta3 0.9, growth 1.1, shrink 0.8, speedUp, no momentum in search. */
function salsaOracle(): (OracleStep & { searched: number; sHat: number; hHat: number })[] {
  const adam = adam64();
  let w = [0, 0, 0, 0];
  let eta = 1;
  let sHat = 0;
  let hHat = 0;
  let tslls = 100;
  let slow = 1e-8;
  let fast = 1e-8;
  const out: (OracleStep & { searched: number; sHat: number; hHat: number })[] = [];
  for (let k = 1; k <= STEPS; k++) {
    const L0 = f64(k, w);
    const g = g64(k, w);
    let r = fast / slow;
    if (r < 1) r = 1 / r;
    const Lk = Math.min(10, 1 / (r - 1 + 1e-8));
    tslls += 1;
    const { d, u } = adam(k, g);
    let etaTry = 1.1 * eta;
    let trials = 0;
    let searched = 0;
    let margin = Number.POSITIVE_INFINITY;
    if (k < 10 || tslls >= Lk) {
      searched = 1;
      tslls = 0;
      const s = g.reduce((a, gi, i) => a + gi * d[i], 0);
      sHat = 0.9 * sHat + 0.1 * s;
      if (L0 >= 1e-8 && sHat >= 1e-8) {
        for (;;) {
          trials += 1;
          const h = L0 - f64(k, add(w, etaTry, d));
          const cand = 0.9 * hHat + 0.1 * h;
          margin = Math.min(margin, Math.abs(cand - 0.5 * etaTry * sHat) / L0);
          if (h === 0) break;
          if (cand >= 0.5 * etaTry * sHat) {
            hHat = cand;
            break;
          }
          etaTry *= 0.8;
          if (trials === 100) throw new Error('oracle: search failed');
        }
        w = add(w, etaTry, d);
      } else {
        w = add(w, etaTry, u);
      }
      eta = etaTry;
      slow = 0.99 * slow + 0.01 * eta;
      fast = 0.9 * fast + 0.1 * eta;
      out.push({ loss: L0, eta: etaTry, trials, w, offSign: offSign(d, g), margin, searched, sHat, hHat });
    } else {
      w = add(w, 1.1 * eta, u);
      out.push({ loss: L0, eta: 1.1 * eta, trials, w, offSign: offSign(d, g), margin, searched, sHat, hHat });
    }
  }
  return out;
}

/** Trains lrfree on the same batches (float32, cpu) and records loss, eta, forwards, info and weights. */
function train(opt: LrfreeOptimizer) {
  const a = tf.variable(tf.zeros([2]), true, `la${Math.random()}/kernel`);
  const b = tf.variable(tf.zeros([2]), true, `lb${Math.random()}/kernel`);
  const recs: {
    loss: number;
    eta: number | number[];
    forwards: number;
    info: Record<string, number>;
    w: number[];
  }[] = [];
  for (let k = 1; k <= STEPS; k++) {
    const { X, y } = batchOf(k);
    const x = tf.tensor2d(X);
    const yt = tf.tensor1d(y);
    const f = () =>
      tf.tidy(() => {
        const w = tf.concat([a, b]);
        const r = tf.sub(tf.sum(tf.mul(x, w), 1), yt);
        return tf.mean(tf.mul(0.5, tf.square(r))) as tf.Scalar;
      });
    opt.minimize(f, false, [a, b]);
    const st = opt.lastStep;
    recs.push({
      loss: st.loss,
      eta: st.eta,
      forwards: st.forwards,
      info: st.info,
      w: [...a.dataSync(), ...b.dataSync()],
    });
    tf.dispose([x, yt]);
  }
  opt.dispose();
  tf.dispose([a, b]);
  return recs;
}

const rel = (x: number, y: number) => Math.abs(x - y) / Math.max(Math.abs(y), 1e-12);
const arr = (e: number | number[]) => (Array.isArray(e) ? e : [e]);

function compare(
  recs: ReturnType<typeof train>,
  ref: OracleStep[],
  tol: { eta: number; loss: number; w: number },
): void {
  // The problem exercises what it should: P*g far from sign(g), and backtracking on some steps.
  expect(Math.max(...ref.slice(1).map((o) => o.offSign))).toBeGreaterThan(0.5);
  expect(ref.filter((o) => o.trials > 1).length).toBeGreaterThan(5);
  // Every decision of the oracle is far from its threshold compared with float32 noise (1e-7).
  expect(Math.min(...ref.map((o) => o.margin))).toBeGreaterThan(1e-5);
  ref.forEach((o, i) => {
    const r = recs[i];
    expect(r.forwards, `step ${i + 1} trials`).toBe(o.trials);
    arr(o.eta).forEach((e, l) => {
      expect(rel(arr(r.eta)[l], e), `step ${i + 1} eta[${l}]`).toBeLessThan(tol.eta);
    });
    expect(rel(r.loss, o.loss), `step ${i + 1} loss`).toBeLessThan(tol.loss);
    o.w.forEach((x, j) => {
      expect(Math.abs(r.w[j] - x), `step ${i + 1} w[${j}]`).toBeLessThan(tol.w * Math.max(1, Math.abs(x)));
    });
  });
  // Training made progress (so the comparison is not of a stalled run).
  expect(ref[ref.length - 1].loss).toBeLessThan(0.5 * ref[0].loss);
}

describe('Adam-direction line searches vs float64 oracles (120 steps, badly scaled features)', () => {
  it('adamSls: trials, accepted eta, losses and weights (catches s = ||g||^2 instead of g.Pg, or a search along P*m-hat)', () => {
    const recs = train(adamSls({ nBatchesPerEpoch: NB }));
    compare(recs, adamSlsOracle(NB), { eta: 1e-5, loss: 1e-5, w: 1e-5 });
  });

  it('plasls: per-group eta, the searched group alone moves in its trials, s_j of that group (catches s = sum_l s_l)', () => {
    const recs = train(plasls({ nBatchesPerEpoch: NB, jointSteps: 3 }));
    const ref = plaslsOracle(NB, 3);
    compare(recs, ref, { eta: 1e-5, loss: 1e-5, w: 1e-5 });
    // Both groups' step sizes diverge from each other once searched separately.
    const last = ref[ref.length - 1].eta as number[];
    expect(rel(last[0], last[1])).toBeGreaterThan(0.1);
  });

  it('salsa (Adam): cadence, s-hat, h-hat, eta, losses, weights (catches searched steps ending along P*m-hat)', () => {
    const recs = train(salsa());
    const ref = salsaOracle();
    compare(recs, ref, { eta: 1e-5, loss: 1e-5, w: 1e-5 });
    ref.forEach((o, i) => {
      expect(recs[i].info.searched, `step ${i + 1} searched`).toBe(o.searched);
      expect(rel(recs[i].info.sHat, o.sHat), `step ${i + 1} sHat`).toBeLessThan(1e-5);
      expect(Math.abs(recs[i].info.hHat - o.hHat), `step ${i + 1} hHat`).toBeLessThan(
        1e-5 * Math.max(1e-3, Math.abs(o.hHat)),
      );
    });
    // Some cheap (unsearched) steps happen, so both branches are compared.
    expect(ref.filter((o) => o.searched === 0).length).toBeGreaterThan(10);
  });

  // Mutation survivor: beta1 = 1 freezes m at 0 and divides by 1 - 1^k = 0; the range must exclude it.
  it('adam rejects beta1 = 1, beta2 = 1 and a negative epsilon', () => {
    expect(() => adam({ beta1: 1 })).toThrow(/beta1 = 1/);
    expect(() => adam({ beta2: 1 })).toThrow(/beta2 = 1/);
    expect(() => adam({ epsilon: 0 })).toThrow(/epsilon = 0/);
    expect(adam({ beta1: 0.99, beta2: 0.5 }).config).toMatchObject({ beta1: 0.99, beta2: 0.5 });
  });

  // Mutation survivor: the AdamW term weightDecay*w must be in the update (catches it dropped or inverted).
  it('adam weightDecay: w <- w - eta*(P*m-hat + weightDecay*w), 5 steps against float64', () => {
    const w = tf.variable(tf.tensor1d([2, -1]));
    const f = () => tf.sum(tf.mul(tf.tensor1d([1.5, 0.25]), tf.square(w))) as tf.Scalar;
    const opt = optimizer({ direction: adam({ weightDecay: 0.3, epsilon: 1e-8 }), step: constant(0.05) });
    let x = [2, -1];
    const m = [0, 0];
    const v = [0, 0];
    for (let k = 1; k <= 5; k++) {
      opt.minimize(f, false, [w]);
      const g = [3 * x[0], 0.5 * x[1]];
      x = x.map((xi, i) => {
        m[i] = 0.9 * m[i] + 0.1 * g[i];
        v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i];
        const d = m[i] / (1 - 0.9 ** k) / (Math.sqrt(v[i] / (1 - 0.999 ** k)) + 1e-8);
        return xi - 0.05 * (d + 0.3 * xi);
      });
      const got = Array.from(w.dataSync());
      expect(Math.abs(got[0] - x[0]) + Math.abs(got[1] - x[1])).toBeLessThan(1e-5);
    }
    opt.dispose();
    w.dispose();
  });
});
