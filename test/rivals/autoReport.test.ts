/** auto()'s report: its scale journal (calibration, changes and reasons, the guard) and real runs. */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { formatReport, type ReportFlag, type TrainingReport } from '../../src/core/runReport.js';
import { AutoScaleJournal } from '../../src/optimizers/auto/report.js';
import { AUTO_REASONS, AUTO_REGIMES, auto, MAX_CHANGES } from '../../src/optimizers/auto.js';
import { reportAfterTraining } from '../helpers/reportRun.js';
import { tinyMlp, toyClassification, useBackend } from '../helpers/tf.js';

beforeAll(async () => {
  await useBackend('cpu');
});

/** The part of a step record the scale journal reads. */
function rec(info: Record<string, number>, skipped = false) {
  return { skipped, info };
}

describe('AutoScaleJournal', () => {
  const base = (flags: ReportFlag[] = []): TrainingReport => ({
    optimizer: 'auto',
    steps: 300,
    skipped: 0,
    eta: { first: 0, last: 0.0125 },
    loss: {},
    flags,
    ok: true,
    details: [],
  });

  it('keeps the calibrated scale, counts and lists the changes by reason, and flags the guard', () => {
    const j = new AutoScaleJournal();
    j.record(rec({ reason: AUTO_REASONS.calibrated, next: 0.1 }), 0);
    let scale = 0.1;
    for (let i = 1; i < 300; i++) {
      if (i === 7) {
        j.record(rec({}, true), scale);
        continue;
      }
      const reason = i === 50 ? AUTO_REASONS.lossRose : i % 100 === 0 ? AUTO_REASONS.plateau : 0;
      const next = reason ? scale / 2 : scale;
      j.record(rec({ reason, next }), scale);
      scale = next;
    }
    const r = j.report(base(), AUTO_REGIMES.noisy, scale);
    expect(r.regime).toBe('noisy');
    expect(r.scale.calibrated).toBe(0.1);
    expect(r.scale.current).toBeCloseTo(0.0125, 12);
    expect(r.scale.counts).toEqual({ lossRose: 1, plateau: 2 });
    expect(r.scale.changes.map((c) => [c.step, c.reason, c.from, c.to])).toEqual([
      [51, 'lossRose', 0.1, 0.05],
      [101, 'plateau', 0.05, 0.025],
      [201, 'plateau', 0.025, 0.0125],
    ]);
    const guard = r.flags.find((f) => f.id === 'guardFired')!;
    expect(guard.severity).toBe('info');
    expect(guard.message).toMatch(/1 time \(first at step 51\)/);
    expect(r.ok).toBe(true);
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
    expect(formatReport(r)).toContain(
      'noisy loss; scale calibrated 0.1000, now 0.01250; changes: lossRose 1, plateau 2',
    );
  });

  it("keeps the base report's warnings, lists at most MAX_CHANGES changes but counts them all", () => {
    const j = new AutoScaleJournal();
    let scale = 1;
    for (let i = 0; i < MAX_CHANGES + 20; i++) {
      j.record(rec({ reason: AUTO_REASONS.armijoFailed, next: scale * 0.9 }), scale);
      scale *= 0.9;
    }
    const warning: ReportFlag = { id: 'notLearning', severity: 'warning', message: 'm', action: 'a' };
    const r = j.report(base([warning]), AUTO_REGIMES.deterministic, scale);
    expect(r.scale.changes).toHaveLength(MAX_CHANGES);
    expect(r.scale.counts.armijoFailed).toBe(MAX_CHANGES + 20);
    expect(r.flags).toEqual([warning]);
    expect(r.ok).toBe(false);
    expect(r.regime).toBe('deterministic');
  });
});

describe('AutoOptimizer.report() on real runs', () => {
  const run = (steps: number, batches: number, opts: { poison?: number[]; zeroInputs?: boolean } = {}) =>
    reportAfterTraining(() => auto(), steps, { batches, ...opts });

  it('mini-batches: noisy, calibrated at step 1, the loss fell, and a short run is still falling', () => {
    const r = run(24, 4);
    expect(r.regime).toBe('noisy');
    expect(r.steps).toBe(24);
    expect(r.skipped).toBe(0);
    expect(r.scale.calibrated).toBeGreaterThan(0);
    // The calibration step moves nothing: the first move's step size is the calibrated scale.
    expect(r.eta.first).toBe(r.scale.calibrated);
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
