import { describe, expect, it } from 'vitest';
import { checkSpec, optimizerFromSpec } from '../../src/optimizers/catalog.js';
import '../../src/index.js';
import { benchOptimizer, checkBenchSpec, parseBenchSpec } from '../../src/bench/specs.js';

const ctx = { stepsPerEpoch: 10, totalSteps: 100, seed: 1 };

describe('optimizer specs', () => {
  it('a baseline takes its learning rate after @', () => {
    const opt = optimizerFromSpec('sgd@0.03', ctx);
    expect(opt.getConfig().name).toBe('sgd');
    expect(JSON.stringify(opt.getConfig())).toContain('0.03');
    opt.dispose();
  });

  it('walk@eta and sls@eta set the starting step size; the bare name keeps the default', () => {
    const walked = optimizerFromSpec('walk@0.25', ctx);
    const eta0 = (o: typeof walked) => (o.getConfig().step as { config: { eta0: number } }).config.eta0;
    expect(eta0(walked)).toBe(0.25);
    const plain = optimizerFromSpec('walk', ctx);
    expect(eta0(plain)).toBe(0.01);
    const sls = optimizerFromSpec('sls@0.5', ctx);
    expect(JSON.stringify(sls.getConfig())).toContain('"initStepSize":0.5');
    for (const o of [walked, plain, sls]) o.dispose();
  });

  it('refuses @ on an entry without a starting step size, and bad numbers, naming the takers', () => {
    expect(() => checkSpec('prodigy@0.1')).toThrow(/only sgd, momentum, adam, .*walk.* take a learning rate/);
    expect(() => checkSpec('walk@-1')).toThrow(/positive number/);
    expect(() => checkSpec('nosuch')).toThrow(/unknown optimizer 'nosuch'/);
    expect(() => optimizerFromSpec('walk@1e9', ctx)).toThrow(/eta0 = 1000000000 is not allowed/);
  });
});

describe('benchmark specs: schedules and fixed rows', () => {
  it('momentum/nesterov/adamw@eta+cosine warm up over 2% of the budget, then decay to 0', () => {
    const opt = benchOptimizer('adamw@0.001+cosine', { stepsPerEpoch: 10, totalSteps: 500, seed: 1 });
    const cfg = JSON.stringify(opt.getConfig());
    expect(cfg).toContain('"kind":"warmup"');
    expect(cfg).toContain('"steps":10');
    expect(cfg).toContain('"totalSteps":490');
    // AdamW's decay is the one decoupled-decay transform (every variable, as PyTorch's AdamW).
    expect(cfg).toContain('"transforms":{"kind":"decoupledWeightDecay","config":{"rate":0.01,"mask":"all"}}');
    const s = opt.schedule!;
    expect(s.multiplier(5)).toBeCloseTo(0.5, 12);
    expect(s.multiplier(10)).toBe(1);
    expect(s.multiplier(500)).toBeLessThan(1e-4);
    opt.dispose();
    const nest = benchOptimizer('nesterov@0.1+cosine', { stepsPerEpoch: 10, totalSteps: 100, seed: 1 });
    expect(JSON.stringify(nest.getConfig())).toContain('"nesterov":true');
    nest.dispose();
  });

  it('builds the fixed rows with their published numbers', () => {
    const sf = benchOptimizer('sfAdamW-algoperf', { stepsPerEpoch: 10, totalSteps: 1000, seed: 1 });
    const cfg = JSON.stringify(sf.getConfig());
    expect(cfg).toContain('"lr":0.0025');
    expect(cfg).toContain('"warmupSteps":20');
    expect(cfg).toContain('0.9955159689799007');
    sf.dispose();
    const nadam = benchOptimizer('adamw-algoperf', { stepsPerEpoch: 10, totalSteps: 1000, seed: 1 });
    expect(JSON.stringify(nadam.getConfig())).toContain('0.08121616522670176');
    nadam.dispose();
    const ks = benchOptimizer('keepStepping-post', { stepsPerEpoch: 10, totalSteps: 100, seed: 1 });
    expect(JSON.stringify(ks.getConfig())).toMatch(/"maxSteps":50.*"scaleI":2|"scaleI":2.*"maxSteps":50/);
    ks.dispose();
  });

  it('names the valid choices for an unknown schedule, optimizer or misplaced schedule', () => {
    expect(() => checkBenchSpec('adamw@1e-3+linear')).toThrow(/unknown schedule 'linear'; known: cosine/);
    expect(() => checkBenchSpec('sls+cosine')).toThrow(
      /a schedule follows a learning rate of sgd, momentum, nesterov, adam, adamw/,
    );
    expect(() => checkBenchSpec('nosuch')).toThrow(
      /unknown optimizer 'nosuch'; known: sgd, .*fixed rows adamw-algoperf, sfAdamW-algoperf, keepStepping-post/,
    );
    expect(() => checkBenchSpec('adamw@-1+cosine')).toThrow(/positive number/);
    expect(() => checkBenchSpec('adamw@1e-3+cosine')).not.toThrow();
    expect(parseBenchSpec('sgd@0.1')).toEqual({ kind: 'catalog', spec: 'sgd@0.1' });
  });
});
