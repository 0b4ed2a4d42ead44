/** auto()'s report ("did it work?"): the bounded loss trace, the journal's flags, and real runs. */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { modelVariables } from '../../src/core/params.js';
import type { StepRecord } from '../../src/core/types.js';
import { LossTrace } from '../../src/optimizers/auto/lossTrace.js';
import { AutoJournal, MAX_CHANGES } from '../../src/optimizers/auto/report.js';
import { AUTO_REASONS, AUTO_REGIMES, auto, formatAutoReport } from '../../src/optimizers/auto.js';
import { tinyMlp, toyClassification, uniformArray, useBackend } from '../helpers/tf.js';

beforeAll(async () => {
  await useBackend('cpu');
});

/** A step record as the optimizer writes it. */
function rec(loss: number, info: Record<string, number> = {}, skipped = false): StepRecord {
  return {
    loss,
    eta: 1,
    forwards: 0,
    backwards: 1,
    skipped,
    ...(skipped ? { skipReason: 'loss' } : {}),
    info,
  };
}

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

describe('AutoJournal flags', () => {
  it('a loss that falls steadily to the end: stillFalling (information), not notLearning', () => {
    const j = new AutoJournal();
    j.record(rec(2, { reason: AUTO_REASONS.calibrated, next: 0.01 }), 0);
    for (let i = 1; i < 200; i++) j.record(rec(2 * 0.99 ** i, { reason: 0, next: 0.01 }), 0.01);
    const r = j.report(AUTO_REGIMES.noisy, 0.01);
    expect(r.scale.calibrated).toBe(0.01);
    expect(r.flags.map((f) => [f.id, f.severity])).toEqual([['stillFalling', 'info']]);
    expect(r.ok).toBe(true);
    expect(r.loss.lastQuarter!.relativeFall).toBeGreaterThan(0.2);
  });

  it('a flat loss: notLearning; a rising end: lossRising', () => {
    const flat = new AutoJournal();
    const wobble = uniformArray(200, 5);
    for (let i = 0; i < 200; i++) flat.record(rec(1 + 0.05 * wobble[i]), 0.01);
    expect(flat.report(AUTO_REGIMES.noisy, 0.01).flags.map((f) => f.id)).toEqual(['notLearning']);

    const rising = new AutoJournal();
    for (let i = 0; i < 200; i++) rising.record(rec(i < 100 ? 2 - i / 100 : 1 + (i - 100) / 50), 0.01);
    const ids = rising.report(AUTO_REGIMES.noisy, 0.01).flags.map((f) => f.id);
    expect(ids).toContain('lossRising');
    expect(ids).not.toContain('stillFalling');
  });

  it('a deterministic loss that stops changing: converged (info only, ok)', () => {
    const j = new AutoJournal();
    for (let i = 0; i < 100; i++) j.record(rec(i < 40 ? 1 / (i + 1) : 1e-9), 0.01);
    const r = j.report(AUTO_REGIMES.deterministic, 0.01);
    expect(r.regime).toBe('deterministic');
    expect(r.flags.map((f) => f.id)).toEqual(['converged']);
    expect(r.ok).toBe(true);
  });

  it('counts skipped steps and scale changes by reason, lists the guard, and stays JSON-safe', () => {
    const j = new AutoJournal();
    j.record(rec(3, { reason: AUTO_REASONS.calibrated, next: 0.1 }), 0);
    let scale = 0.1;
    for (let i = 1; i < 300; i++) {
      if (i === 7 || i === 8) {
        j.record(rec(Number.NaN, {}, true), scale);
        continue;
      }
      const reason = i === 50 ? AUTO_REASONS.lossRose : i % 100 === 0 ? AUTO_REASONS.plateau : 0;
      const next = reason ? scale / 2 : scale;
      j.record(rec(3 / Math.sqrt(i), { reason, next }), scale);
      scale = next;
    }
    const r = j.report(AUTO_REGIMES.noisy, scale);
    expect(r.steps).toBe(300);
    expect(r.skipped).toBe(2);
    expect(r.scale.counts).toEqual({ lossRose: 1, plateau: 2 });
    expect(r.scale.changes.map((c) => [c.step, c.reason])).toEqual([
      [51, 'lossRose'],
      [101, 'plateau'],
      [201, 'plateau'],
    ]);
    expect(r.scale.changes[0]).toMatchObject({ from: 0.1, to: 0.05 });
    expect(r.scale.current).toBeCloseTo(0.0125, 12);
    const skip = r.flags.find((f) => f.id === 'skippedSteps')!;
    expect(skip.message).toMatch(/2 of 300 steps were skipped .* first at step 8/);
    expect(r.flags.find((f) => f.id === 'guardFired')!.message).toMatch(/1 time \(first at step 51\)/);
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
    const text = formatAutoReport(r);
    expect(text).toMatch(/300 steps \(2 skipped\), noisy loss, scale calibrated 0\.1000, now 0\.01250/);
    expect(text).toMatch(/scale changes: lossRose 1, plateau 2/);
  });

  it('lists at most MAX_CHANGES changes but counts them all; too few steps say so', () => {
    const j = new AutoJournal();
    let scale = 1;
    for (let i = 0; i < MAX_CHANGES + 20; i++) {
      j.record(rec(1, { reason: AUTO_REASONS.armijoFailed, next: scale * 0.9 }), scale);
      scale *= 0.9;
    }
    const r = j.report(AUTO_REGIMES.noisy, scale);
    expect(r.scale.changes).toHaveLength(MAX_CHANGES);
    expect(r.scale.counts.armijoFailed).toBe(MAX_CHANGES + 20);

    const short = new AutoJournal();
    for (let i = 0; i < 5; i++) short.record(rec(1 / (i + 1)), 1);
    const shortReport = short.report(AUTO_REGIMES.unknown, 1);
    expect(shortReport.flags.map((f) => f.id)).toEqual(['tooFewSteps']);
    expect(formatAutoReport(shortReport)).toContain('training loss: 1.000 (step 1) -> 0.2250 (steps 4-5)');
  });
});

describe('AutoOptimizer.report() on real runs', () => {
  /** Trains a tiny MLP on `batches` mini-batches in turn; `poison` steps see a NaN batch. */
  function run(steps: number, batches: number, opts: { poison?: number[]; zeroInputs?: boolean } = {}) {
    const model = tinyMlp(5, 12, 3, { logits: true });
    const data = toyClassification(64, 5, 3, 11);
    const y = data.y;
    const opt = auto();
    const vars = modelVariables(model);
    const rows = 64 / batches;
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    for (let s = 0; s < steps; s++) {
      const b = s % batches;
      const poisoned = opts.poison?.includes(s + 1) ?? false;
      opt.minimize(
        () =>
          tf.tidy(() => {
            const xb = opts.zeroInputs ? tf.zeros([rows, 5]) : data.x.slice(b * rows, rows);
            const logitsIn = poisoned ? tf.mul(xb, Number.NaN) : xb;
            return tf.losses.softmaxCrossEntropy(
              y.slice(b * rows, rows),
              model.apply(logitsIn, { training: true }) as tf.Tensor,
            ) as tf.Scalar;
          }),
        false,
        vars,
      );
    }
    warn.mockRestore();
    const before = tf.memory().numTensors;
    const report = opt.report();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([data.x, data.y]);
    model.dispose();
    opt.dispose();
    return report;
  }

  it('mini-batches: noisy, calibrated at step 1, the loss fell, and a short run is still falling', () => {
    const r = run(24, 4);
    expect(r.regime).toBe('noisy');
    expect(r.steps).toBe(24);
    expect(r.skipped).toBe(0);
    expect(r.scale.calibrated).toBeGreaterThan(0);
    expect(r.loss.end!.mean).toBeLessThan(0.9 * r.loss.start!.mean);
    const ids = r.flags.map((f) => f.id);
    expect(ids).not.toContain('notLearning');
    expect(ids).toContain('stillFalling');
  });

  it('the same run trained longer: no warning (separable data: the training loss still falls)', () => {
    const r = run(200, 4);
    expect(r.flags.filter((f) => f.severity === 'warning')).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.loss.end!.mean).toBeLessThan(0.05 * r.loss.start!.mean);
  });

  it('a full batch: deterministic', () => {
    const r = run(40, 1);
    expect(r.regime).toBe('deterministic');
    expect(r.flags.map((f) => f.id)).not.toContain('notLearning');
  });

  it('NaN batches are skipped and named; inputs that carry nothing do not learn', () => {
    const poisoned = run(60, 4, { poison: [10, 30] });
    expect(poisoned.skipped).toBe(2);
    expect(poisoned.flags.find((f) => f.id === 'skippedSteps')!.message).toMatch(/first at step 10/);
    expect(poisoned.ok).toBe(false);

    // Zero inputs: the model can only learn the class shares, about log 3 from the start.
    const noise = run(200, 4, { zeroInputs: true });
    expect(noise.flags.map((f) => f.id)).toContain('notLearning');
  });

  it('model.fit: the steps are the batches fitted', async () => {
    const model = tinyMlp(5, 12, 3);
    const { x, y } = toyClassification(64, 5, 3, 11);
    const opt = auto();
    model.compile({ optimizer: opt, loss: 'categoricalCrossentropy' });
    await model.fit(x, y, { epochs: 3, batchSize: 16, verbose: 0, shuffle: false });
    const r = opt.report();
    expect(r.steps).toBe(12);
    expect(r.flags.map((f) => f.id)).toContain('tooFewSteps');
    tf.dispose([x, y]);
    model.dispose();
  });
});
