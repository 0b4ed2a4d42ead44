import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { optimizer } from '../../src/core/optimizer.js';
import { adam } from '../../src/directions/adam.js';
import { sgd } from '../../src/directions/sgd.js';
import { smoothedArmijo } from '../../src/steps/smoothedArmijo.js';
import { useBackend } from '../helpers/tf.js';
import { type Rec, run } from './helpers.js';

beforeAll(async () => {
  await useBackend('cpu');
});

/**
 * A stochastic 2-D problem: batch k has f_k(w) = 0.5 sum_i a_i (w_i - b_ki)^2 with b_k moving with k, so the
 * loss never reaches 0 and the step sizes settle.
 */
const A = [1, 0.3];
const target = (k: number) => [Math.sin(0.7 * k), 0.5 * Math.cos(0.3 * k)];

function problem() {
  const w = tf.variable(tf.tensor1d([3, -2]), true, `salsa${Math.random()}/w`);
  let k = 0;
  const a = tf.tensor1d(A);
  let b = tf.tensor1d(target(0));
  return {
    w,
    next: () => {
      k += 1;
      b.dispose();
      b = tf.tensor1d(target(k));
    },
    loss: () => tf.tidy(() => tf.mul(0.5, tf.sum(tf.mul(a, tf.square(tf.sub(w, b)))))) as tf.Scalar,
    dispose: () => tf.dispose([w, a, b]),
  };
}

/** SaLSa with the SGD direction in float64, as ALGORITHMS.md §3.2 / §3.4 write it. */
function oracle(steps: number, o: { mode: 'backtrack' | 'noBacktrack'; speedUp: boolean }) {
  const c = 0.5;
  const beta = 0.9;
  let w = [3, -2];
  let eta = 1;
  let sHat = 0;
  let hHat = 0;
  let since = 100;
  let slow = 1e-8;
  let fast = 1e-8;
  const out: { searched: number; trials: number; eta: number; sHat: number; hHat: number; w: number[] }[] =
    [];
  for (let k = 1; k <= steps; k++) {
    const b = target(k);
    const f = (x: number[]) => 0.5 * A.reduce((s, ai, i) => s + ai * (x[i] - b[i]) ** 2, 0);
    const g = A.map((ai, i) => ai * (w[i] - b[i]));
    const l0 = f(w);
    const s = g[0] ** 2 + g[1] ** 2;
    let r = fast / slow;
    if (r < 1) r = 1 / r;
    const interval = Math.min(10, 1 / (r - 1 + 1e-8));
    since += 1;
    let searched = 0;
    let trials = 0;
    if (!o.speedUp || k < 10 || since >= interval) {
      searched = 1;
      since = 0;
      sHat = beta * sHat + (1 - beta) * s;
      if (o.mode === 'noBacktrack') {
        const l1 = f(w.map((x, i) => x - eta * g[i]));
        trials = 1;
        hHat = beta * hHat + (1 - beta) * (l0 - l1);
        w = w.map((x, i) => x - eta * g[i]);
        eta = hHat >= c * eta * sHat ? 1.1 * eta : 0.8 * eta;
      } else {
        let e = 1.1 * eta;
        for (;;) {
          trials += 1;
          const h = l0 - f(w.map((x, i) => x - e * g[i]));
          const cand = beta * hHat + (1 - beta) * h;
          if (h === 0) break;
          if (cand >= c * e * sHat) {
            hHat = cand;
            break;
          }
          e *= 0.8;
        }
        w = w.map((x, i) => x - e * g[i]);
        eta = e;
      }
      slow = 0.99 * slow + 0.01 * eta;
      fast = 0.9 * fast + 0.1 * eta;
    } else {
      const e = o.mode === 'noBacktrack' ? eta : 1.1 * eta;
      w = w.map((x, i) => x - e * g[i]);
    }
    out.push({ searched, trials, eta, sHat, hHat, w });
  }
  return out;
}

function trainSalsa(
  steps: number,
  mode: 'backtrack' | 'noBacktrack',
  speedUp: boolean,
): { recs: Rec[]; w: number[] } {
  const p = problem();
  const opt = optimizer({ direction: sgd(), step: smoothedArmijo({ mode, speedUp }) });
  const recs: Rec[] = [];
  for (let k = 0; k < steps; k++) {
    p.next();
    recs.push(...run(opt, p.loss, [p.w], 1));
  }
  const w = Array.from(p.w.dataSync());
  opt.dispose();
  p.dispose();
  return { recs, w };
}

const rel = (x: number, y: number) => Math.abs(x - y) / Math.max(Math.abs(y), 1e-12);

describe('smoothedArmijo (SaLSa)', () => {
  it('s-hat, h-hat, eta, the search cadence and the iterates follow the recurrences (float64 oracle, 400 steps)', () => {
    const steps = 400;
    const { recs, w } = trainSalsa(steps, 'backtrack', true);
    const ref = oracle(steps, { mode: 'backtrack', speedUp: true });
    ref.forEach((o, k) => {
      expect(recs[k].info.searched).toBe(o.searched);
      expect(recs[k].forwards).toBe(o.trials);
      expect(rel(recs[k].info.storedEta, o.eta)).toBeLessThan(1e-4);
      expect(rel(recs[k].info.sHat, o.sHat)).toBeLessThan(1e-4);
      expect(Math.abs(recs[k].info.hHat - o.hHat)).toBeLessThan(1e-4 * Math.max(1e-3, Math.abs(o.hHat)));
    });
    // Searches on every one of the first 9 steps, then amortised: far fewer than one per step.
    expect(recs.slice(0, 9).every((r) => r.info.searched === 1)).toBe(true);
    const searched = recs.filter((r) => r.info.searched === 1).length;
    expect(searched).toBeLessThan(steps * 0.6);
    // Cheap steps report growth*eta and spend no forward.
    const cheap = recs.find((r) => r.info.searched === 0)!;
    expect(cheap.forwards).toBe(0);
    expect(rel(cheap.eta as number, 1.1 * cheap.info.storedEta)).toBeLessThan(1e-12);
    expect(rel(w[0], ref[steps - 1].w[0]) + rel(w[1], ref[steps - 1].w[1])).toBeLessThan(1e-3);
  });

  it('without speedUp every step searches', () => {
    const { recs } = trainSalsa(30, 'backtrack', false);
    const ref = oracle(30, { mode: 'backtrack', speedUp: false });
    expect(recs.every((r) => r.info.searched === 1 && r.forwards >= 1)).toBe(true);
    ref.forEach((o, k) => {
      expect(recs[k].forwards).toBe(o.trials);
      expect(rel(recs[k].info.storedEta, o.eta)).toBeLessThan(1e-4);
    });
  });

  it('noBacktrack: exactly one trial per searched step, eta raised or lowered for the next step', () => {
    const { recs } = trainSalsa(60, 'noBacktrack', true);
    const ref = oracle(60, { mode: 'noBacktrack', speedUp: true });
    ref.forEach((o, k) => {
      expect(recs[k].forwards).toBe(o.trials);
      expect(rel(recs[k].info.storedEta, o.eta)).toBeLessThan(1e-4);
      expect(rel(recs[k].info.sHat, o.sHat)).toBeLessThan(1e-4);
    });
    expect(recs.every((r) => r.forwards <= 1)).toBe(true);
  });

  it('a search that cannot pass does not move the weights and keeps a bounded eta', () => {
    const w = tf.variable(tf.tensor1d([1, 1]));
    let calls = 0;
    // The gradient call is finite, every trial is NaN.
    const f = () => (calls++ === 0 ? (tf.sum(tf.square(w)) as tf.Scalar) : tf.scalar(Number.NaN));
    const opt = optimizer({ direction: sgd(), step: smoothedArmijo({ maxBacktracks: 5 }) });
    const [rec] = run(opt, f, [w], 1);
    expect(rec.forwards).toBe(5);
    expect(rec.info.failed).toBe(1);
    expect(rec.eta).toBe(0);
    expect(Array.from(w.dataSync())).toEqual([1, 1]);
    expect(rec.info.storedEta).toBeCloseTo(1.1 * 0.8 ** 5, 12);
    opt.dispose();
    w.dispose();
  });

  it('useMomentumInSearch: s = <g, P*m-hat> and the step ends along the momentum direction', () => {
    const w = tf.variable(tf.tensor1d([2, -1]));
    const f = () => tf.sum(tf.mul(tf.tensor1d([1.5, 0.25]), tf.square(w))) as tf.Scalar;
    const opt = optimizer({
      direction: adam({ epsilon: 1e-8 }),
      step: smoothedArmijo({ useMomentumInSearch: true, speedUp: false }),
    });
    let x = [2, -1];
    const m = [0, 0];
    const v = [0, 0];
    let sHat = 0;
    for (let k = 1; k <= 3; k++) {
      opt.minimize(f, false, [w]);
      const g = [3 * x[0], 0.5 * x[1]];
      let s = 0;
      const d = g.map((gi, i) => {
        m[i] = 0.9 * m[i] + 0.1 * gi;
        v[i] = 0.999 * v[i] + 0.001 * gi * gi;
        const di = m[i] / (1 - 0.9 ** k) / (Math.sqrt(v[i] / (1 - 0.999 ** k)) + 1e-8);
        s += gi * di;
        return di;
      });
      sHat = 0.9 * sHat + 0.1 * s;
      expect(rel(opt.lastStep.info.sHat, sHat)).toBeLessThan(1e-4);
      const eta = opt.lastStep.eta as number;
      x = x.map((xi, i) => xi - eta * d[i]);
      expect(Math.abs(w.dataSync()[0] - x[0]) + Math.abs(w.dataSync()[1] - x[1])).toBeLessThan(1e-4);
    }
    opt.dispose();
    w.dispose();
  });

  it('speedUp: once the step size settles, a search every 10 steps at most (catches another cap than min(10, 1/|r-1|))', () => {
    // f(w) = 3w from w = 1e5 with growth 1: every search accepts eta = 1 at its first trial (h = 9 = s),
    // so the fast and slow averages of eta converge and 1/|r - 1| passes 10 after about 800 steps.
    const w = tf.variable(tf.scalar(1e5), true, `salsaCap${Math.random()}/w`);
    const opt = optimizer({ direction: sgd(), step: smoothedArmijo({ growth: 1 }) });
    const got: number[] = [];
    for (let k = 1; k <= 1100; k++) {
      opt.minimize(() => tf.tidy(() => tf.mul(3, w).sum() as tf.Scalar), false, [w]);
      if (opt.lastStep.info.searched === 1) got.push(k);
      expect(opt.lastStep.info.trials).toBe(opt.lastStep.info.searched);
    }
    // The cadence in float64, as the rule's documentation writes it.
    const want: number[] = [];
    let slow = 1e-8;
    let fast = 1e-8;
    let since = 100;
    for (let k = 1; k <= 1100; k++) {
      let r = fast / slow;
      if (r < 1) r = 1 / r;
      since += 1;
      if (k < 10 || since >= Math.min(10, 1 / (r - 1 + 1e-8))) {
        since = 0;
        slow = 0.99 * slow + 0.01;
        fast = 0.9 * fast + 0.1;
        want.push(k);
      }
    }
    expect(got).toEqual(want);
    // The cap is what decides the end of the run: gaps of exactly 10 there.
    expect(want.slice(-10).every((k, i, a) => i === 0 || k - a[i - 1] === 10)).toBe(true);
    expect(w.dataSync()[0]).toBe(1e5 - 3 * 1100);
    opt.dispose();
    w.dispose();
  });

  it('rejects bad hyperparameters', () => {
    expect(() => smoothedArmijo({ beta: 1 })).toThrow(/beta = 1/);
    expect(() => smoothedArmijo({ shrink: 1.2 })).toThrow(/shrink = 1.2/);
    expect(() => smoothedArmijo({ mode: 'fast' as 'backtrack' })).toThrow(/mode/);
  });
});
