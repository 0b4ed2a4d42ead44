import { describe, expect, it } from 'vitest';
import { checkSpec, optimizerFromSpec } from '../../src/optimizers/catalog.js';
import '../../src/index.js';

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
