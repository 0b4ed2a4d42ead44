import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/core/rng.js';
import { HALF_DECADE } from '../../src/diagnostics/bracket.js';
import { type ProcedureState, procedure } from '../../src/diagnostics/procedure.js';
import type { RangeTestResult } from '../../src/diagnostics/rangeTest.js';
import {
  compareLrFree,
  confirmLearningRate,
  fallRegion,
  pairedDifference,
  proposals,
  shortRun,
} from '../../src/diagnostics/recommend.js';
import { chanceFlag } from '../../src/diagnostics/redFlags.js';
import { smoothDebiased, suggestAll } from '../../src/diagnostics/suggest.js';
import { sgd } from '../../src/optimizers/baselines.js';
import { registerOptimizer } from '../../src/optimizers/catalog.js';
import { permutation } from '../../src/train/classification.js';
import { tinyMlp, toyClassification, useBackend } from '../helpers/tf.js';

beforeAll(async () => {
  await useBackend('cpu');
});

/** 400 training and 200 held-out rows from a linear teacher. */
function problem(seed: number) {
  const all = toyClassification(600, 8, 3, seed);
  const [xt, xv] = tf.split(all.x, [400, 200]);
  const [yt, yv] = tf.split(all.y, [400, 200]);
  tf.dispose([all.x, all.y]);
  return { train: { x: xt, y: yt }, validation: { x: xv, y: yv } };
}

/** A synthetic fastai-style range test over 1e-7..10 with the given raw losses. */
function fakeRangeTest(raw: number[]): RangeTestResult {
  const n = raw.length;
  const lrs = raw.map((_, i) => 1e-7 * 1e8 ** (i / n));
  const smoothed = smoothDebiased(raw);
  return {
    style: 'fastai',
    increase: 'batch',
    variant: 'sgd',
    lrs,
    losses: raw,
    smoothed,
    initialLoss: raw[0],
    suggestions: suggestAll(lrs, smoothed, n),
    suggestion: Number.NaN,
    rule: 'valley',
    stopped: 'end',
    numIt: n,
    batches: n,
  };
}

const ids = (s: ProcedureState) => s.redFlags.map((f) => f.id);

describe('the fallen region and the proposals', () => {
  it('a flat noisy curve has no fallen region and no proposal, whatever the rules say', () => {
    const r = mulberry32(3);
    const rt = fakeRangeTest(Array.from({ length: 100 }, () => 1.1 + 0.3 * (r() - 0.5)));
    // the rules still point somewhere (steep always does): that is the old failure
    expect(rt.suggestions.steep).toBeDefined();
    const region = fallRegion(rt);
    expect(region.noise).toBeGreaterThan(0.05);
    expect(region.from).toBeUndefined();
    expect(proposals(rt, region)).toEqual([]);
  });
  it('a curve that falls from 1e-3 on: proposals only from the fallen region, at most 3', () => {
    const r = mulberry32(4);
    const raw = Array.from({ length: 100 }, (_, i) => {
      const lr = 1e-7 * 1e8 ** (i / 100);
      const fall = lr < 1e-3 ? 0 : Math.min(1.5, 0.5 * Math.log10(lr / 1e-3));
      return 2 - fall + (lr > 3 ? 10 * (lr - 3) : 0) + 0.2 * (r() - 0.5);
    });
    const rt = fakeRangeTest(raw);
    const region = fallRegion(rt);
    expect(region.from).toBeGreaterThan(1e-3);
    const ps = proposals(rt, region);
    expect(ps.length).toBeGreaterThan(0);
    expect(ps.length).toBeLessThanOrEqual(3);
    for (const p of ps) {
      expect(p.lr).toBeGreaterThanOrEqual(region.from! * 0.999);
      expect(p.lr).toBeLessThanOrEqual(region.lowest! * 1.001);
    }
  });
  it('paired differences: the standard error of chunk-by-chunk differences', () => {
    const d = pairedDifference([1, 2, 3, 4], [0.5, 1.5, 2.5, 3.5]);
    expect(d.mean).toBeCloseTo(0.5, 12);
    expect(d.se).toBeCloseTo(0, 12);
    const e = pairedDifference([1, 2], [0, 0]);
    expect(e.se).toBeCloseTo(0.5, 12);
  });
});

describe('the confirmed learning rate on noise (issue #21)', () => {
  it("Dense+BatchNorm+Dropout: the old 'steep' rule picks ~1e-5, the confirmed rate is near the grid's best", async () => {
    // Seeded: a grid of half-decades 1e-3..3.2, 4 epochs each (batch 16, seed 1), measured once with
    // trainCurve: best held-out loss 0.938, 0.777, 0.598, 0.451, 0.336, 0.291, 0.240 (lr 1), 1.05 (3.2).
    const data = problem(1);
    const model = tinyMlp(8, 32, 3, { bn: true, dropout: 0.3 });
    const s = await procedure(model, data, {
      batchSize: 16,
      seed: 1,
      confirm: { steps: 40 },
      skip: ['line', 'momentum', 'decay', 'cyclical', 'variants', 'final'],
    });
    // the old default, recomputed on this very curve
    expect(s.lr!.suggestions.steep!.lr).toBeLessThan(1e-4);
    const lr = s.recommendations.learningRate!;
    expect(lr.method).toBe('confirmed');
    // within 10x of the grid's best (1.0), and never from the flat region
    expect(lr.value).toBeGreaterThan(0.1);
    expect(lr.value).toBeLessThan(10);
    const { from, lowest } = s.lrChoice!.region;
    for (const c of lr.candidates.filter((x) => !x.source.includes('bracket'))) {
      expect(c.lr).toBeGreaterThanOrEqual(from! * 0.999);
      expect(c.lr).toBeLessThanOrEqual(lowest! * 1.001);
    }
    // the evidence: candidates with their held-out losses, the cost
    expect(lr.candidates.length).toBeGreaterThanOrEqual(2);
    for (const c of lr.candidates) expect(Number.isFinite(c.heldOutLoss)).toBe(true);
    expect(lr.cost.backwards).toBeGreaterThan(s.lr!.batches);
    expect(lr.cost.seconds).toBeGreaterThan(0);
    expect(lr.why.length).toBeGreaterThan(0);
    // the answer is a rate that was run; when sure, worse runs close it in at most a half-decade away
    const rates = lr.candidates.map((c) => c.lr);
    expect(rates).toContain(lr.value);
    expect(lr.ties).toContain(lr.value);
    expect(Number.isFinite(lr.trainingNoise)).toBe(true);
    expect(s.lrChoice!.repeat).toBeDefined();
    if (lr.sure) {
      const below = rates.filter((r) => r < Math.min(...lr.ties));
      const above = rates.filter((r) => r > Math.max(...lr.ties));
      expect(Math.max(...below)).toBeGreaterThanOrEqual(Math.min(...lr.ties) / HALF_DECADE / 1.05);
      expect(Math.min(...above)).toBeLessThanOrEqual(Math.max(...lr.ties) * HALF_DECADE * 1.05);
      expect(lr.trainingNoise).toBeLessThanOrEqual(
        0.1 * s.lrChoice!.candidates.find((c) => c.lr === lr.value)!.run.best,
      );
    } else expect(lr.why.join(' ')).toMatch(/flat|edge|training noise|never fell|no confirmation run/);
    model.dispose();
  });

  it('one proposal and no room to bracket it: not sure, and it says why; with room, half-decades close it in', async () => {
    const data = problem(3);
    const model = tinyMlp(8, 16, 3);
    const n0 = tf.memory().numTensors;
    // a range test that falls from 1e-3 on, whose only rule points at 0.01
    const r = mulberry32(5);
    const raw = Array.from({ length: 100 }, (_, i) => {
      const lr = 1e-7 * 1e8 ** (i / 100);
      return 1.1 - (lr < 1e-3 ? 0 : Math.min(0.8, 0.3 * Math.log10(lr / 1e-3))) + 0.05 * (r() - 0.5);
    });
    const rt = { ...fakeRangeTest(raw), suggestions: { valley: { lr: 0.01, loss: 0.8, index: 0 } } };
    const options = { batchSize: 32, seed: 1, steps: 40 };
    const cornered = await confirmLearningRate(model, data, rt, { ...options, extensions: 0 });
    expect(cornered.candidates.map((c) => c.lr)).toEqual([0.01]);
    expect(cornered.sure).toBe(false);
    expect(cornered.why.join(' ')).toMatch(/edge of the rates tried/);
    const room = await confirmLearningRate(model, data, rt, { ...options, extensions: 5 });
    const rates = room.candidates.map((c) => c.lr);
    expect(rates.length).toBeGreaterThan(1);
    // every added rate is a half-decade step from the proposal
    for (const lr of rates)
      expect(Math.abs(Math.round(2 * Math.log10(lr / 0.01)) - 2 * Math.log10(lr / 0.01))).toBeLessThan(1e-9);
    expect(rates).toContain(room.lr);
    // a tiny MLP on a linear teacher learns faster at larger rates: the bracket walked up from 0.01
    expect(room.lr).toBeGreaterThan(0.01);
    expect(tf.memory().numTensors).toBe(n0);
    model.dispose();
  });
});

describe('red flags that the procedure does not cause', () => {
  it('a range test that never reaches a useful rate: no flag blames the labels or the gradient', async () => {
    const data = problem(2);
    const model = tinyMlp(8, 16, 3);
    const s = await procedure(model, data, {
      batchSize: 32,
      seed: 0,
      epochs: 2,
      linePoints: 5,
      rangeTest: { startLr: 1e-7, endLr: 1e-5, numIt: 60 },
      confirm: { steps: 30 },
      skip: ['line', 'momentum', 'decay', 'cyclical', 'variants'],
    });
    // the final run was at a tiny rate and stayed at chance...
    expect(s.recommendations.learningRate!.sure).toBe(false);
    expect(s.final!.curve.lr).toBeLessThan(1e-4);
    // ...but the recheck with Adam learned, so the labels and the gradient are not blamed
    expect(s.recheck?.length).toBeGreaterThan(0);
    expect(ids(s)).not.toContain('chanceAccuracy');
    expect(ids(s)).not.toContain('noDecrease');
    const sgdFlag = s.redFlags.find((f) => f.id === 'sgdDidNotLearn');
    expect(sgdFlag?.severity).toBe('warning');
    expect(sgdFlag?.action).toMatch(/endLr/);
    for (const f of s.redFlags) expect(f.severity).not.toBe('bug');
    model.dispose();
  });

  it('chanceFlag: another run above chance turns the label flag into a warning about the setting', () => {
    const curve = { variant: 'sgd', lr: 1e-6, accuracy: [0.33, 0.34] } as Parameters<typeof chanceFlag>[0];
    const blamed = chanceFlag(curve, 0.34, 200, [{ what: 'sgd at 1e-6', accuracy: 0.35, lossFell: false }]);
    expect(blamed?.id).toBe('chanceAccuracy');
    expect(blamed?.severity).toBe('bug');
    const cleared = chanceFlag(curve, 0.34, 200, [
      { what: 'adam at 0.001 (recheck)', accuracy: 0.8, lossFell: true },
    ]);
    expect(cleared?.id).toBe('chosenRateDidNotLearn');
    expect(cleared?.severity).toBe('warning');
    expect(cleared?.action).toMatch(/adam at 0.001/);
  });

  it('imbalanced classes: majority-class accuracy with a held-out loss below the class-share cross-entropy is not flagged', () => {
    const curve = { variant: 'sgd', lr: 0.01, accuracy: [0.5, 0.9], best: 0.25 } as Parameters<
      typeof chanceFlag
    >[0];
    const prior = -(0.9 * Math.log(0.9) + 0.1 * Math.log(0.1)); // 0.325
    expect(chanceFlag(curve, 0.9, 750, [], prior)).toBeUndefined();
    // the same accuracy with a loss no better than the class shares: flagged
    expect(chanceFlag({ ...curve, best: 0.33 }, 0.9, 750, [], prior)?.id).toBe('chanceAccuracy');
  });

  it('shuffled labels are still flagged, with high confidence and what to do, after ruling out the optimizer', async () => {
    const data = problem(3);
    const shuffle = (y: tf.Tensor, seed: number) =>
      tf.tidy(() => tf.gather(y, tf.tensor1d(permutation(y.shape[0], seed), 'int32')));
    const bad = {
      train: { x: data.train.x, y: shuffle(data.train.y, 5) },
      validation: { x: data.validation.x, y: shuffle(data.validation.y, 6) },
    };
    const model = tinyMlp(8, 16, 3);
    const s = await procedure(model, bad, {
      batchSize: 32,
      epochs: 3,
      linePoints: 5,
      rangeTest: { numIt: 60 },
      confirm: { steps: 30 },
      skip: ['line', 'momentum', 'decay', 'cyclical', 'variants'],
    });
    const flag = s.redFlags.find((f) => f.id === 'chanceAccuracy');
    expect(flag?.severity).toBe('bug');
    expect(flag?.confidence).toBe('high');
    expect(flag?.action).toMatch(/label/);
    // the optimizer was ruled out: several runs, none above chance
    expect(flag?.message).toMatch(/no other run did better/);
    model.dispose();
  });
});

describe('the learning-rate-free path', () => {
  it('says which learning-rate-free methods do as well as the tuned rate, and which do not', async () => {
    // a "method" that cannot learn (SGD at 1e-9) must be judged worse; a real one is compared by the rule
    registerOptimizer({
      name: 'test-frozen',
      description: 'test only: SGD at 1e-9',
      family: 'lr-free',
      make: ({ seed }) => sgd(1e-9, { seed }),
    });
    const data = problem(4);
    const model = tinyMlp(8, 16, 3);
    const s = await procedure(model, data, {
      batchSize: 32,
      rangeTest: { numIt: 60 },
      confirm: { steps: 40 },
      variants: [],
      lrFree: ['prodigy', 'test-frozen'],
      skip: ['line', 'momentum', 'decay', 'cyclical', 'final'],
    });
    const verdicts = s.variants!.lrFree!;
    expect(verdicts.map((v) => v.name)).toEqual(['prodigy', 'test-frozen']);
    for (const v of verdicts) {
      expect(v.asGood).toBe(v.difference <= v.tolerance);
      expect(v.tolerance).toBeGreaterThan(0);
    }
    expect(verdicts[1].asGood).toBe(false);
    expect(s.recommendations.lrFree!.value).not.toContain('test-frozen');
    expect(s.recommendations.lrFree!.value).toEqual(verdicts.filter((v) => v.asGood).map((v) => v.name));
    expect(s.recommendations.lrFree!.evidence).toMatch(/2 standard errors/);
    // a method that never matches the tuned rate runs all the steps
    expect(verdicts[1].run.steps).toBe(40);
    model.dispose();
  });

  it('a method that already matches the tuned run stops there: "as good" is decided, fewer steps', async () => {
    const data = problem(5);
    const model = tinyMlp(8, 16, 3);
    const opts = { steps: 40, batchSize: 32, seed: 1 };
    // the tuned run: SGD at a rate too small to learn in 40 steps
    const tuned = await shortRun(model, data, { variant: 'sgd', lr: 1e-6 }, opts);
    const before = tf.memory().numTensors;
    const [v] = await compareLrFree(model, data, tuned, ['prodigy'], opts);
    expect(v.asGood).toBe(true);
    expect(v.difference).toBeLessThanOrEqual(0);
    // decided at its first held-out measurement (after 10 of 40 steps)
    expect(v.run.steps).toBe(10);
    expect(v.run.at).toEqual([0, 10]);
    expect(v.run.backwards).toBe(10);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});
