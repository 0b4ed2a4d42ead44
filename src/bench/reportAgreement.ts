/**
 * Did the optimizers know? Each run's own report (`opt.report()`, judged from its training losses alone)
 * beside the benchmark's outcome (held-out data, the tuned reference's target): a warning on a run that
 * reached the target is a false alarm, a failure without one a miss.
 */

import type { Table } from '../report/html.js';
import { costToTarget, failed, type TaskComparison } from './compare.js';
import type { RunRecord } from './record.js';

/** What the benchmark made of a run, independently of what its optimizer said. */
export type RunOutcome = 'failed' | 'missed' | 'reached' | 'no target';

/** One method's reports against its runs' outcomes (runs without a report are not counted). */
export interface ReportAgreement {
  method: string;
  /** Runs with an optimizer report. */
  runs: number;
  /** Of them, runs whose report has a warning. */
  warned: number;
  /** Runs per outcome, and how many of each were warned. */
  outcomes: Record<RunOutcome, { runs: number; warned: number }>;
  /** Warning ids, with the number of runs that raised each. */
  warnings: Record<string, number>;
}

/** The benchmark's outcome of one run: failed (diverged, refused), missed or reached the task's target. */
export function runOutcome(r: RunRecord, target?: TaskComparison['target']): RunOutcome {
  if (failed(r)) return 'failed';
  if (!target) return 'no target';
  return Number.isFinite(costToTarget(r, target)) ? 'reached' : 'missed';
}

const emptyOutcomes = (): ReportAgreement['outcomes'] => ({
  failed: { runs: 0, warned: 0 },
  missed: { runs: 0, warned: 0 },
  reached: { runs: 0, warned: 0 },
  'no target': { runs: 0, warned: 0 },
});

/**
 * Per method (the record's optimizer spec), its runs' reports against their outcomes; methods without any
 * report are left out. Sorted by method name.
 */
export function reportAgreement(
  records: readonly RunRecord[],
  comparisons: readonly TaskComparison[],
): ReportAgreement[] {
  const targets = new Map(comparisons.map((c) => [c.task, c.target]));
  const byMethod = new Map<string, ReportAgreement>();
  for (const r of records) {
    const report = r.optimizerReport;
    if (!report) continue;
    const a = byMethod.get(r.optimizer) ?? {
      method: r.optimizer,
      runs: 0,
      warned: 0,
      outcomes: emptyOutcomes(),
      warnings: {},
    };
    const warnings = report.flags.filter((f) => f.severity === 'warning').map((f) => f.id);
    const warned = warnings.length > 0;
    const outcome = a.outcomes[runOutcome(r, targets.get(r.task))];
    a.runs += 1;
    outcome.runs += 1;
    if (warned) {
      a.warned += 1;
      outcome.warned += 1;
    }
    for (const id of new Set(warnings)) a.warnings[id] = (a.warnings[id] ?? 0) + 1;
    byMethod.set(r.optimizer, a);
  }
  return [...byMethod.values()].sort((x, y) => x.method.localeCompare(y.method));
}

/** Every method's runs together (the table's last row). */
export function allMethods(rows: readonly ReportAgreement[]): ReportAgreement {
  const all: ReportAgreement = {
    method: 'all methods',
    runs: 0,
    warned: 0,
    outcomes: emptyOutcomes(),
    warnings: {},
  };
  for (const a of rows) {
    all.runs += a.runs;
    all.warned += a.warned;
    for (const [k, o] of Object.entries(a.outcomes) as [RunOutcome, { runs: number; warned: number }][]) {
      all.outcomes[k].runs += o.runs;
      all.outcomes[k].warned += o.warned;
    }
    for (const [id, n] of Object.entries(a.warnings)) all.warnings[id] = (all.warnings[id] ?? 0) + n;
  }
  return all;
}

const warnedOf = (o: { runs: number; warned: number }) => (o.runs === 0 ? '-' : `${o.warned} of ${o.runs}`);

/** The agreement as a table: per outcome, how many runs the optimizer warned about; all methods last. */
export function agreementTable(methods: readonly ReportAgreement[]): Table {
  const rows = methods.length > 1 ? [...methods, allMethods(methods)] : methods;
  return {
    columns: [
      'method',
      'runs with a report',
      'failed (diverged): warned',
      'missed the target: warned',
      'reached the target: warned (false alarms)',
      'no target: warned',
      'warnings raised',
    ],
    rows: rows.map((a) => [
      a.method,
      a.runs,
      warnedOf(a.outcomes.failed),
      warnedOf(a.outcomes.missed),
      warnedOf(a.outcomes.reached),
      warnedOf(a.outcomes['no target']),
      Object.entries(a.warnings)
        .sort(([x], [y]) => x.localeCompare(y))
        .map(([id, n]) => `${id} ${n}`)
        .join(', ') || 'none',
    ]),
  };
}

/** How to read the agreement table (shown under it). */
export const AGREEMENT_NOTE =
  "Each run's optimizer judges the run from its training losses alone (`opt.report()`: a warning when the " +
  'loss diverged, did not fall, rose, or steps were skipped; docs/auto.md "Did it work?"). The outcome is ' +
  "the benchmark's: failed (diverged or refused), missed or reached the task's target on held-out data. A " +
  'warning on a run that reached the target is a false alarm; a failed run without one was missed. A run ' +
  'can miss the target and still be fine by its own losses (a slower method): the report cannot know the ' +
  "target. Runs stored without a report (older code, Alrao's wrapped model) are not counted.";
