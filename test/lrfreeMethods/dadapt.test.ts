import { describe, expect, it } from 'vitest';
import { paramGroups } from '../../src/core/params.js';
import { type DadaptAdamOptions, dadaptAdam } from '../../src/optimizers/dadaptAdam.js';
import { type DadaptSgdOptions, dadaptSgd } from '../../src/optimizers/dadaptSgd.js';
import { methodState } from '../../src/optimizers/lrfreeMethods.js';
import { maxAbsDiff, useBackend } from '../helpers/tf.js';
import { DadaptAdamOracle, type DadaptAdamOracleOptions, DadaptSgdOracle } from './oracle/dadapt.js';
import { PROBLEMS } from './oracle/problems.js';

const STEPS = 40;

/**
 * Runs TF.js and the float64 oracle side by side. The oracle steps from the float32 weights TF.js holds
 * (so the tiny early moves are the same numbers on both sides) and carries its own state.
 */
function compare(
  problem: 'logistic' | 'mlp',
  opt: ReturnType<typeof dadaptAdam>,
  oracle: { step(x: Float64Array[], g: Float64Array[]): void; d: number; dlr: number },
  extra: (s: Record<string, number | number[]>) => void,
): void {
  const { p64, tf: build } = PROBLEMS[problem]();
  const p = build();
  for (let k = 0; k < STEPS; k++) {
    const x = p.vars.map((v) => Float64Array.from(v.dataSync()));
    const before = x.map((a) => Float64Array.from(a));
    oracle.step(x, p64.lossGrad(x).grads);
    opt.minimize(() => p.loss(), false, p.vars);
    const s = methodState(opt);
    expect(Math.abs((opt.lastStep.eta as number) / oracle.dlr - 1)).toBeLessThan(1e-4);
    expect(Math.abs((s.d as number) / oracle.d - 1)).toBeLessThan(1e-4);
    extra(s);
    const w = p.vars.map((v) => v.dataSync());
    expect(maxAbsDiff(w, x)).toBeLessThan(1e-3 * maxAbsDiff(x, before) + 1e-7);
  }
  p.dispose();
  opt.dispose();
}

describe('dadaptAdam layerScale (the reference per-group layer_scale, §9.2)', () => {
  // Catches a scale applied to the step only (not to the numerator and sum|s|), or to the wrong group.
  it('mlp with one scale per group: d, numWeighted and weights match the float64 oracle step by step', async () => {
    await useBackend('cpu');
    const { tf: build } = PROBLEMS.mlp();
    const probe = build();
    const groups = paramGroups(probe.vars);
    probe.dispose();
    const perGroup = groups.map((_, gi) => [0.5, 2, 1.5, 0.25][gi % 4]);
    const perVar = new Array<number>(groups.reduce((a, g) => a + g.indices.length, 0)).fill(1);
    groups.forEach((g, gi) => {
      for (const i of g.indices) perVar[i] = perGroup[gi];
    });
    expect(new Set(perVar).size).toBeGreaterThan(1);
    const opt = dadaptAdam({ layerScale: perGroup });
    const oracle = new DadaptAdamOracle({ layerScale: perVar });
    compare('mlp', opt, oracle, (s) => {
      expect(Math.abs((s.numWeighted as number) - oracle.numWeighted)).toBeLessThan(
        1e-4 * Math.abs(oracle.numWeighted) + 1e-18,
      );
    });
    // The scales matter: the same problem at layerScale 1 ends with another d (so the comparison can fail).
    const { p64 } = PROBLEMS.mlp();
    const dAfter = (o: DadaptAdamOracle) => {
      const x = p64.init.map((a) => Float64Array.from(a));
      for (let k = 0; k < STEPS; k++) o.step(x, p64.lossGrad(x).grads);
      return o.d;
    };
    const ratio = dAfter(new DadaptAdamOracle({ layerScale: perVar })) / dAfter(new DadaptAdamOracle({}));
    expect(Math.abs(ratio - 1)).toBeGreaterThan(0.01);
    expect(() => dadaptAdam({ layerScale: -1 })).toThrow(/layerScale = -1/);
  });
});

describe('dadaptAdam against a float64 oracle', () => {
  const cases: [string, DadaptAdamOptions & DadaptAdamOracleOptions][] = [
    ['defaults', {}],
    ['coupled decay + bias correction + eps 1e-3', { weightDecay: 0.02, useBiasCorrection: true, eps: 1e-3 }],
    ['decoupled decay + growthRate 1.3', { weightDecay: 0.05, decouple: true, growthRate: 1.3 }],
  ];
  for (const problem of ['logistic', 'mlp'] as const) {
    it.each(cases)(`${problem}: %s — d, numWeighted, weights step by step`, async (_, o) => {
      await useBackend('cpu');
      const { eps, weightDecay, useBiasCorrection, decouple, growthRate } = o;
      const opt = dadaptAdam({ eps, weightDecay, useBiasCorrection, decouple, growthRate });
      const oracle = new DadaptAdamOracle(o);
      compare(problem, opt, oracle, (s) => {
        expect(Math.abs((s.numWeighted as number) - oracle.numWeighted)).toBeLessThan(
          1e-4 * Math.abs(oracle.numWeighted) + 1e-18,
        );
      });
      expect(oracle.d).toBeGreaterThan(10 * 1e-6);
    });
  }
});

describe('dadaptSgd against a float64 oracle', () => {
  const cases: [string, DadaptSgdOptions][] = [
    ['defaults (dual averaging)', {}],
    ['momentum 0.9 + weight decay', { momentum: 0.9, weightDecay: 0.01 }],
    ['growthRate 1.1', { growthRate: 1.1 }],
  ];
  for (const problem of ['logistic', 'mlp'] as const) {
    it.each(cases)(`${problem}: %s — d, num, g0Norm, weights step by step`, async (_, o) => {
      await useBackend('cpu');
      const opt = dadaptSgd(o);
      const oracle = new DadaptSgdOracle(o);
      compare(problem, opt as ReturnType<typeof dadaptAdam>, oracle, (s) => {
        expect(Math.abs((s.g0Norm as number) / oracle.g0Norm - 1)).toBeLessThan(1e-5);
        expect(Math.abs((s.num as number) - oracle.num)).toBeLessThan(1e-4 * Math.abs(oracle.num) + 1e-18);
      });
      expect(oracle.d).toBeGreaterThan(10 * 1e-6);
    });
  }
});
