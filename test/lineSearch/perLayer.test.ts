import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { optimizer } from '../../src/core/optimizer.js';
import { adam } from '../../src/directions/adam.js';
import { sgd } from '../../src/directions/sgd.js';
import { armijo } from '../../src/steps/armijo.js';
import { constant } from '../../src/steps/constant.js';
import { perLayer } from '../../src/steps/perLayer.js';
import { useBackend } from '../helpers/tf.js';
import { run } from './helpers.js';

beforeAll(async () => {
  await useBackend('cpu');
});

let id = 0;
/**
 * Two groups (layers `la`, `lb`), f = 0.5 a1 (x - 1)^2 + 0.5 a2 (y + 1)^2 with a1 = 3, a2 = 0.5, from
 * x = 2, y = 1. Moving group 0 alone passes the Armijo test iff eta <= 2(1-c)/a1, group 1 alone iff
 * eta <= 2(1-c)/a2. Records every evaluated point.
 */
function twoLayers() {
  id += 1;
  const x = tf.variable(tf.tensor1d([2]), true, `la${id}/kernel`);
  const y = tf.variable(tf.tensor1d([1]), true, `lb${id}/kernel`);
  const at: number[][] = [];
  return {
    vars: [x, y],
    at,
    loss: () =>
      tf.tidy(() => {
        at.push([x.dataSync()[0], y.dataSync()[0]]);
        return tf.add(tf.mul(1.5, tf.square(tf.sub(x, 1))), tf.mul(0.25, tf.square(tf.add(y, 1)))).sum();
      }) as tf.Scalar,
    values: () => [x.dataSync()[0], y.dataSync()[0]],
    dispose: () => tf.dispose([x, y]),
  };
}

/** Largest 4 * 0.9^k (k >= 0) at most `bound`. */
function grid(bound: number): { eta: number; k: number } {
  let k = 0;
  while (4 * 0.9 ** k > bound) k += 1;
  return { eta: 4 * 0.9 ** k, k };
}

const rule = () => armijo({ c: 0.2, initStepSize: 4, resetOption: 2 });

describe('perLayer (PLASLS)', () => {
  it('cycle: one group searched per step with the others held at w0; each group gets its own eta', () => {
    const p = twoLayers();
    const opt = optimizer({ direction: sgd(), step: perLayer(rule(), { jointSteps: 0 }) });
    const [r1, r2, r3] = run(opt, p.loss, p.vars, 3);
    const g0 = grid((2 * 0.8) / 3);
    const g1 = grid((2 * 0.8) / 0.5);
    expect(g0.k).toBe(20);
    expect(g1.k).toBe(3);
    // Step 1 searches group 0 (group 1 takes its reset eta, 4, unchecked); step 2 group 1; step 3 group 0.
    expect(r1.eta as number[]).toEqual([expect.closeTo(g0.eta, 12), 4]);
    expect(r1.forwards).toBe(g0.k + 1);
    expect(r1.info.searchedGroup).toBe(0);
    expect(r2.eta as number[]).toEqual([4, expect.closeTo(g1.eta, 12)]);
    expect(r2.forwards).toBe(g1.k + 1);
    expect(r3.info.searchedGroup).toBe(0);
    // While group 0 was searched, y stayed at its w0 value 1.
    const step1Trials = p.at.slice(1, 1 + r1.forwards);
    expect(step1Trials.every(([, y]) => y === 1)).toBe(true);
    expect(new Set(step1Trials.map(([x]) => x)).size).toBe(r1.forwards);
    // Committed: x = 2 - eta0 * 3 * (2 - 1), y = 1 - 4 * 0.5 * (1 + 1).
    expect(p.at[1 + r1.forwards][0]).toBeCloseTo(2 - g0.eta * 3, 5);
    expect(p.at[1 + r1.forwards][1]).toBeCloseTo(1 - 4, 5);
    opt.dispose();
    p.dispose();
  });

  it('all: every group searched at every step', () => {
    const p = twoLayers();
    const opt = optimizer({ direction: sgd(), step: perLayer(rule(), { strategy: 'all', jointSteps: 0 }) });
    const [r1] = run(opt, p.loss, p.vars, 1);
    const g0 = grid((2 * 0.8) / 3);
    const g1 = grid((2 * 0.8) / 0.5);
    expect(r1.forwards).toBe(g0.k + 1 + g1.k + 1);
    expect(r1.eta as number[]).toEqual([expect.closeTo(g0.eta, 12), expect.closeTo(g1.eta, 12)]);
    expect(p.values()[0]).toBeCloseTo(2 - g0.eta * 3, 5);
    expect(p.values()[1]).toBeCloseTo(1 - g1.eta, 5);
    opt.dispose();
    p.dispose();
  });

  it('joint warm-up: one eta for all groups from the full-vector test', () => {
    const p = twoLayers();
    const opt = optimizer({ direction: sgd(), step: perLayer(rule(), { jointSteps: 1 }) });
    const [r1, r2] = run(opt, p.loss, p.vars, 2);
    // Brute force the joint test in float64: g = (3, 1), ||g||^2 = 10, f0 = 1.5 + 1 = 2.5.
    const f = (e: number) => 1.5 * (1 - 3 * e) ** 2 + 0.25 * (2 - e) ** 2;
    let k = 0;
    while (!(f(4 * 0.9 ** k) <= 2.5 - 0.2 * 4 * 0.9 ** k * 10)) k += 1;
    expect(r1.eta as number[]).toEqual([expect.closeTo(4 * 0.9 ** k, 12), expect.closeTo(4 * 0.9 ** k, 12)]);
    expect(r1.forwards).toBe(k + 1);
    // Step 2 is the first per-group step: group 0.
    expect(r2.info.searchedGroup).toBe(0);
    opt.dispose();
    p.dispose();
  });

  it('with Adam, commits each group along its momentum update at its own eta', () => {
    // Step 1 of Adam: update = search = P*g, so the commit equals the accepted trial point per group.
    const p = twoLayers();
    const ls = armijo({ c: 0.2, initStepSize: 0.5, resetOption: 2 });
    const opt = optimizer({
      direction: adam({ epsilon: 1e-8 }),
      step: perLayer(ls, { strategy: 'all', jointSteps: 0 }),
    });
    const [r1] = run(opt, p.loss, p.vars, 1);
    const [e0, e1] = r1.eta as number[];
    // P*g = sign(g) at step 1: x moves by -e0, y by -e1.
    expect(p.values()[0]).toBeCloseTo(2 - e0, 5);
    expect(p.values()[1]).toBeCloseTo(1 - e1, 5);
    expect(e0).toBeGreaterThan(0);
    opt.dispose();
    p.dispose();
  });

  it("plaslsVariant 'paper', all: group 1 is searched with group 0 at its accepted point, test with the total s (catches groups before j held at w, or s_j)", () => {
    const p = twoLayers();
    const opt = optimizer({
      direction: sgd(),
      step: perLayer(rule(), { strategy: 'all', jointSteps: 0, plaslsVariant: 'paper' }),
    });
    const [r1] = run(opt, p.loss, p.vars, 1);
    // Float64 brute force: g = (3, 1), total s = 10, f0 = 2.5; group 1 searched from x = 2 - 3*e0.
    const f = (x: number, y: number) => 1.5 * (x - 1) ** 2 + 0.25 * (y + 1) ** 2;
    const first = (pass: (e: number) => boolean) => {
      let k = 0;
      while (k < 100 && !pass(4 * 0.9 ** k)) k += 1;
      return { eta: 4 * 0.9 ** k, k };
    };
    const s0 = first((e) => f(2 - 3 * e, 1) <= 2.5 - 0.2 * e * 10);
    const x0 = 2 - 3 * s0.eta;
    const s1 = first((e) => f(x0, 1 - e) <= 2.5 - 0.2 * e * 10);
    // The variants differ here: with s_1 = 1 alone group 1 would accept a larger eta; with group 0
    // held at x = 2 no trial would pass (the reference's failure mode: moving y alone cannot reach c*eta*10).
    expect(s1.k).toBeLessThan(100);
    expect(first((e) => f(x0, 1 - e) <= 2.5 - 0.2 * e * 1).k).toBeLessThan(s1.k);
    expect(first((e) => f(2, 1 - e) <= 2.5 - 0.2 * e * 10).k).toBe(100);
    expect(r1.eta as number[]).toEqual([expect.closeTo(s0.eta, 12), expect.closeTo(s1.eta, 12)]);
    expect(r1.forwards).toBe(s0.k + 1 + s1.k + 1);
    const group1Trials = p.at.slice(2 + s0.k, 1 + r1.forwards);
    expect(group1Trials.length).toBe(s1.k + 1);
    expect(group1Trials.every(([x]) => Math.abs(x - x0) < 1e-6)).toBe(true);
    expect(p.values()[0]).toBeCloseTo(x0, 5);
    expect(p.values()[1]).toBeCloseTo(1 - s1.eta, 5);
    opt.dispose();
    p.dispose();
  });

  it("plaslsVariant 'paper' defaults to one joint step, 'newer' to six; unknown variants are rejected", () => {
    expect(perLayer(rule(), { plaslsVariant: 'paper' }).config.jointSteps).toBe(1);
    expect(perLayer(rule()).config.jointSteps).toBe(6);
    expect(perLayer(rule()).config.plaslsVariant).toBe('newer');
    expect(() => perLayer(rule(), { plaslsVariant: 'old' as 'paper' })).toThrow(/plaslsVariant/);
  });

  it('needs an Armijo-type rule', () => {
    expect(() => perLayer(constant(0.1) as never)).toThrow(/armijo\(\) or goldstein\(\)/);
    expect(() => perLayer(rule(), { strategy: 'random' as 'all' })).toThrow(/strategy/);
  });
});
