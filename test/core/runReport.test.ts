/** Every optimizer's report ("did it work?"): the bounded loss trace, the journal's flags, and real runs. */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { LossTrace } from '../../src/core/lossTrace.js';
import { formatReport, RunJournal } from '../../src/core/runReport.js';
import type { StepRecord } from '../../src/core/types.js';
import { adam, sgd } from '../../src/optimizers/baselines.js';
import { sls } from '../../src/optimizers/lineSearch.js';
import { prodigy } from '../../src/optimizers/prodigy.js';
import { reportAfterTraining } from '../helpers/reportRun.js';
import { uniformArray, useBackend } from '../helpers/tf.js';

beforeAll(async () => {
  await useBackend('cpu');
});

/** A step record as the optimizer writes it. */
function rec(loss: number, eta: number | number[] = 0.1, skipped = false): StepRecord {
  return {
    loss,
    eta,
    forwards: 0,
    backwards: 1,
    skipped,
    ...(skipped ? { skipReason: 'gradient' } : {}),
    info: {},
  };
}

const ids = (j: RunJournal) => j.report('test').flags.map((f) => f.id);

describe('LossTrace', () => {
  it('keeps at most its capacity of bins, and a window is the mean of the steps it covers', () => {
    const trace = new LossTrace(8);
    for (let i = 1; i <= 1000; i++) trace.add(i);
    expect(trace.count).toBe(1000);
    expect(trace.binCount).toBeLessThanOrEqual(8);
    expect(trace.binCount).toBeGreaterThanOrEqual(4);
    const w = trace.window(0, 1)!;
    // The losses 1..n: the mean over steps a..b is (a + b) / 2.
    expect(w.mean).toBeCloseTo((w.fromStep + w.toStep) / 2, 9);
    const last = trace.window(0.75, 1)!;
    expect(last.mean).toBeCloseTo((last.fromStep + last.toStep) / 2, 9);
    expect(last.toStep).toBeLessThanOrEqual(1000);
    expect(last.toStep).toBeGreaterThan(1000 - 128); // at most one partly filled bin left out
  });

  it('leaves non-finite losses out, and refuses a capacity it cannot halve', () => {
    const trace = new LossTrace(8);
    trace.add(Number.NaN);
    trace.add(Number.POSITIVE_INFINITY);
    expect(trace.count).toBe(0);
    expect(trace.window(0, 1)).toBeUndefined();
    trace.add(2);
    trace.add(4);
    expect(trace.window(0, 1)).toMatchObject({ mean: 3, fromStep: 1, toStep: 2 });
    expect(() => new LossTrace(7)).toThrow(/even integer of at least 8/);
  });
});

describe('RunJournal flags', () => {
  it('a loss that falls steadily to the end: stillFalling (information), not notLearning', () => {
    const j = new RunJournal();
    for (let i = 0; i < 200; i++) j.record(rec(2 * 0.99 ** i));
    const r = j.report('sgd');
    expect(r.flags.map((f) => [f.id, f.severity])).toEqual([['stillFalling', 'info']]);
    expect(r.ok).toBe(true);
    expect(r.loss.lastQuarter!.relativeFall).toBeGreaterThan(0.2);
  });

  it('a flat noisy loss: notLearning; a rising end: lossRising', () => {
    const flat = new RunJournal();
    const wobble = uniformArray(200, 5);
    for (let i = 0; i < 200; i++) flat.record(rec(1 + 0.05 * wobble[i]));
    expect(ids(flat)).toEqual(['notLearning']);

    const rising = new RunJournal();
    for (let i = 0; i < 200; i++) rising.record(rec(i < 100 ? 2 - i / 100 : 1 + (i - 100) / 50));
    expect(ids(rising)).toContain('lossRising');
    expect(ids(rising)).not.toContain('stillFalling');
  });

  it('an exact loss that stops changing after falling: converged (info only, ok); one that never fell is not', () => {
    const j = new RunJournal();
    for (let i = 0; i < 100; i++) j.record(rec(i < 40 ? 1 / (i + 1) : 1e-9));
    expect(ids(j)).toEqual(['converged']);
    expect(j.report('x').ok).toBe(true);

    const stuck = new RunJournal();
    for (let i = 0; i < 100; i++) stuck.record(rec(Math.LN2));
    expect(ids(stuck)).toEqual(['notLearning']);
  });

  it('counts skipped steps, keeps the first and last step size, and stays JSON-safe', () => {
    const j = new RunJournal();
    for (let i = 1; i <= 300; i++)
      j.record(i === 7 || i === 8 ? rec(Number.NaN, 0, true) : rec(3 / Math.sqrt(i), [0.1 / i, 0.2 / i]));
    const r = j.report('plasls');
    expect(r.steps).toBe(300);
    expect(r.skipped).toBe(2);
    expect(r.eta.first).toEqual([0.1, 0.2]);
    expect(r.eta.last).toEqual([0.1 / 300, 0.2 / 300]);
    expect(r.flags.find((f) => f.id === 'skippedSteps')!.message).toMatch(
      /2 of 300 steps were skipped because the gradient was not finite \(the first at step 7\)/,
    );
    expect(r.ok).toBe(false);
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
    expect(formatReport(r)).toMatch(
      /^plasls: warnings below; 300 steps \(2 skipped\), step size \[0\.1000, 0\.2000\] at the first move/,
    );
  });

  it('a loss that blows up is flagged however few the steps (a run stopped early for diverging)', () => {
    const j = new RunJournal();
    for (let i = 0; i < 6; i++) j.record(rec(24 * 30 ** i));
    const r = j.report('momentum');
    expect(r.flags.map((f) => [f.id, f.severity])).toEqual([
      ['diverging', 'warning'],
      ['tooFewSteps', 'info'],
    ]);
    expect(r.flags[0].message).toMatch(/rose from 24\.00 \(the first step\) to 5\.832e\+8/);
    expect(r.ok).toBe(false);
    // A loss that doubles is no blow-up; one that falls is not either.
    const mild = new RunJournal();
    for (let i = 0; i < 6; i++) mild.record(rec(1 + i / 5));
    expect(ids(mild)).toEqual(['tooFewSteps']);
    // A fine-tuning run whose first batch was a lucky one is no blow-up: with enough steps the first 5%
    // is the baseline.
    const lucky = new RunJournal();
    for (let i = 0; i < 200; i++) lucky.record(rec(i === 0 ? 0.001 : 0.02 + 0.001 * Math.sin(i)));
    expect(ids(lucky)).not.toContain('diverging');
    const rising = new RunJournal();
    for (let i = 0; i < 200; i++) rising.record(rec(0.02 * 1.03 ** i));
    expect(rising.report('x').flags[0].message).toMatch(
      /rose from .* over steps 1-10 to .* over steps 151-200/,
    );
    const negative = new RunJournal();
    for (let i = 0; i < 6; i++) negative.record(rec(-5 + i));
    expect(ids(negative)).toEqual(['tooFewSteps']);
  });

  it('steps without a loss (applyGradients) are counted, and the report says why it reads no trend', () => {
    const j = new RunJournal();
    for (let i = 0; i < 50; i++) j.record(rec(Number.NaN));
    const r = j.report('adam');
    expect(r.steps).toBe(50);
    expect(r.flags.map((f) => f.id)).toEqual(['tooFewSteps']);
    expect(r.flags[0].message).toMatch(/None of the 50 applied steps reported a loss \(applyGradients\(\)/);
  });

  it('too few steps say so; a one-step stretch reads "step 1"', () => {
    const short = new RunJournal();
    for (let i = 0; i < 5; i++) short.record(rec(1 / (i + 1)));
    const r = short.report('sgd');
    expect(r.flags.map((f) => f.id)).toEqual(['tooFewSteps']);
    expect(formatReport(r)).toContain('training loss: 1.000 (step 1) -> 0.2250 (steps 4-5)');
  });
});

describe('optimizer.report() on real runs, every kind of optimizer', () => {
  const run = <R>(
    make: () => { minimize: tf.Optimizer['minimize']; report(): R; dispose(): void },
    steps: number,
    poison: number[] = [],
  ) => reportAfterTraining(make, steps, { poison });

  it.each([
    ['sgd', () => sgd(0.5)],
    ['adam', () => adam(0.01)],
    ['sls', () => sls()],
    ['prodigy', () => prodigy()],
  ])('%s: the loss fell, its step size is reported, a NaN batch is named', (name, make) => {
    const r = run(make, 80, [30]);
    expect(r.optimizer).toBe(name);
    expect(r.steps).toBe(80);
    expect(r.skipped).toBe(1);
    expect(r.loss.end!.mean).toBeLessThan(0.7 * r.loss.start!.mean);
    expect(r.flags.map((f) => f.id)).not.toContain('notLearning');
    expect(r.flags.find((f) => f.id === 'skippedSteps')!.message).toMatch(/first at step 30/);
    expect(typeof r.eta.last === 'number' ? r.eta.last : Number.NaN).toBeGreaterThan(0);
  });

  it('applyGradients: the steps are counted, and the report says it saw no loss', () => {
    const w = tf.variable(tf.scalar(3));
    const opt = sgd(0.1);
    for (let s = 0; s < 30; s++) {
      const { value, grads } = tf.variableGrads(() => tf.square(w) as tf.Scalar, [w]);
      opt.applyGradients(grads);
      tf.dispose([value, ...Object.values(grads)]);
    }
    expect(w.dataSync()[0]).toBeLessThan(0.01); // it trained
    const r = opt.report();
    expect(r.steps).toBe(30);
    expect(r.flags[0].message).toMatch(/None of the 30 applied steps reported a loss/);
    opt.dispose();
    w.dispose();
  });

  it('an optimizer that cannot move the weights: notLearning', () => {
    const r = run(() => sgd(1e-9), 80);
    expect(r.flags.map((f) => f.id)).toEqual(['notLearning']);
    expect(r.ok).toBe(false);
  });
});
