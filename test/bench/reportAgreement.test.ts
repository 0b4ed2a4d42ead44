import { describe, expect, it } from 'vitest';
import { compare } from '../../src/bench/compare.js';
import type { OptimizerReportSummary, RunRecord } from '../../src/bench/record.js';
import { benchReport } from '../../src/bench/report.js';
import { agreementTable, reportAgreement, runOutcome } from '../../src/bench/reportAgreement.js';
import { INF, rec } from '../helpers/benchRecords.js';

const seeds = [1, 2, 3];
const warning = (id: string) => ({ id, severity: 'warning' as const, message: id });
const info = (id: string) => ({ id, severity: 'info' as const, message: id });
const withReport = (r: RunRecord, flags: OptimizerReportSummary['flags']): RunRecord => ({
  ...r,
  optimizerReport: { ok: flags.every((f) => f.severity !== 'warning'), flags },
});

// Task 'a': a momentum + cosine grid whose best point (0.1) sets the target (validation loss 0.25).
const grid = [
  ...['0.003', '0.01', '0.03', '0.3'].flatMap((eta) =>
    seeds.map((s) => rec('a', `momentum@${eta}+cosine`, s, { val: 0.5, reachAt: INF })),
  ),
  ...seeds.map((s) => rec('a', 'momentum@0.1+cosine', s, { val: 0.25, best: 0.25, reachAt: 300 })),
];
const free = [
  // reached, no warning; reached with a warning (a false alarm); diverged and warned; missed, no warning.
  withReport(rec('a', 'free', 1, { val: 0.22, best: 0.22, reachAt: 600 }), [info('stillFalling')]),
  withReport(rec('a', 'free', 2, { val: 0.22, best: 0.22, reachAt: 600 }), [warning('lossRising')]),
  withReport(rec('a', 'free', 3, { val: 0, diverged: true }), [
    warning('diverging'),
    warning('skippedSteps'),
  ]),
  withReport(rec('a', 'free', 4, { val: 0.6, reachAt: INF }), []),
  // A task without a reference grid has no target.
  withReport(rec('b', 'free', 1, { val: 0.3 }), [warning('notLearning')]),
];
const silent = seeds.map((s) => rec('a', 'silent', s, { val: 0, diverged: true }));

describe('did the optimizers know?', () => {
  it("classifies each run by the benchmark's outcome, independently of its report", () => {
    const comparisons = compare([...grid, ...free]);
    const target = comparisons.find((c) => c.task === 'a')!.target;
    expect(target?.value).toBe(0.25);
    expect(free.slice(0, 4).map((r) => runOutcome(r, target))).toEqual([
      'reached',
      'reached',
      'failed',
      'missed',
    ]);
    expect(runOutcome(free[4], undefined)).toBe('no target');
    expect(runOutcome({ ...free[0], refused: 'too big' }, target)).toBe('failed');
  });

  it('counts warned runs per outcome and per warning; methods without reports are left out', () => {
    const records = [...grid, ...free, ...silent];
    const rows = reportAgreement(records, compare(records));
    expect(rows.map((r) => r.method)).toEqual(['free']);
    const [a] = rows;
    expect(a.runs).toBe(5);
    // lossRising, diverging + skippedSteps (one run), notLearning
    expect(a.warned).toBe(3);
    expect(a.outcomes).toEqual({
      failed: { runs: 1, warned: 1 },
      missed: { runs: 1, warned: 0 },
      reached: { runs: 2, warned: 1 },
      'no target': { runs: 1, warned: 1 },
    });
    expect(a.warnings).toEqual({ diverging: 1, skippedSteps: 1, lossRising: 1, notLearning: 1 });
    expect(agreementTable(rows).rows[0]).toEqual([
      'free',
      5,
      '1 of 1',
      '0 of 1',
      '1 of 2',
      '1 of 1',
      'diverging 1, lossRising 1, notLearning 1, skippedSteps 1',
    ]);
  });

  it('sums every method in a last row', () => {
    const records = [...grid, ...free, withReport(silent[0], [warning('diverging')])];
    const table = agreementTable(reportAgreement(records, compare(records)));
    expect(table.rows.map((r) => r[0])).toEqual(['free', 'silent', 'all methods']);
    expect(table.rows[2].slice(1)).toEqual([
      6,
      '2 of 2',
      '0 of 1',
      '1 of 2',
      '1 of 1',
      'diverging 2, lossRising 1, notLearning 1, skippedSteps 1',
    ]);
  });

  it("the bench report shows the section only when some run carries its optimizer's report", () => {
    const shown = benchReport([...grid, ...free], { source: 'x' });
    expect(shown.markdown).toContain('### Did the optimizers know?');
    expect(shown.markdown).toContain('| free | 5 | 1 of 1 | 0 of 1 | 1 of 2 | 1 of 1 |');
    expect(shown.report.sections.some((s) => s.title.startsWith('Did the optimizers know?'))).toBe(true);
    const hidden = benchReport([...grid, ...silent], { source: 'x' });
    expect(hidden.markdown).not.toContain('Did the optimizers know?');
    expect(hidden.report.sections.some((s) => s.title.startsWith('Did the optimizers know?'))).toBe(false);
  });
});
