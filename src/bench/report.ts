/** The benchmark report: tables per task, loss-vs-cost and loss-vs-time curves, eta traces, the profile. */
import type { Report, ReportSection, Table } from '../report/html.js';
import { formatNumber } from '../report/html.js';
import { type ChartSpec, lineChart } from '../report/vega.js';
import { codeSummary } from './codeVersion.js';
import { type ComparisonRow, compare, profile, type TaskComparison } from './compare.js';
import type { RunRecord } from './runner.js';
import { inPlanOrder } from './suites.js';

const pm = (m: { mean: number; std: number }, digits = 4) =>
  `${formatNumber(Number(m.mean.toPrecision(digits)))} ± ${formatNumber(Number(m.std.toPrecision(2)))}`;

/** The table of one task (also used for the markdown in docs/results.md). */
export function taskTable(c: TaskComparison): Table {
  const columns = [
    'method',
    'test loss',
    ...(c.metricName ? [`test ${c.metricName}`] : []),
    'L',
    'cost (fwd-eq)',
    'seconds',
    'loss / tuned SGD',
    'loss / tuned Adam',
    'cost to target',
    'grid cost (x one run)',
    'diverged',
  ];
  const rows = c.rows.map((r: ComparisonRow) =>
    r.refused
      ? [r.method, `refused: ${r.refused.split(/[;.] /)[0]}`, ...columns.slice(2).map(() => '-')]
      : [
          r.method,
          pm(r.testLoss),
          ...(c.metricName ? [r.testMetric ? pm(r.testMetric) : '-'] : []),
          r.L,
          r.cost,
          Number(r.wallSeconds.toFixed(2)),
          r.lossVsSgd ?? Number.NaN,
          r.lossVsAdam ?? Number.NaN,
          r.costToTarget,
          r.gridCost !== undefined
            ? `${formatNumber(r.gridCost)} (x${(r.gridCostRatio ?? 0).toFixed(1)})`
            : '-',
          `${r.diverged}/${r.seeds}`,
        ],
  );
  return { columns, rows };
}

/** Markdown for a table. */
export function markdownTable(t: Table): string {
  const cell = (v: string | number) =>
    (typeof v === 'number' ? formatNumber(v) : v).toString().replace(/\|/g, '\\|');
  return [
    `| ${t.columns.join(' | ')} |`,
    `| ${t.columns.map(() => '---').join(' | ')} |`,
    ...t.rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ].join('\n');
}

function curves(c: TaskComparison, records: readonly RunRecord[]): ChartSpec[] {
  const shown = new Set(c.rows.map((r) => r.spec));
  const label = new Map(c.rows.map((r) => [r.spec, r.method]));
  const pts = records
    .filter(
      (r) =>
        r.task === c.task &&
        shown.has(r.optimizer) &&
        r.seed === Math.min(...records.filter((x) => x.task === c.task).map((x) => x.seed)),
    )
    .flatMap((r) =>
      r.trace
        .filter((p) => Number.isFinite(p.loss) && p.loss > 0)
        .map((p) => ({
          method: label.get(r.optimizer) ?? r.optimizer,
          step: p.step,
          cost: p.cost,
          seconds: p.ms / 1000,
          loss: p.loss,
          eta: typeof p.eta === 'number' ? p.eta : Number.NaN,
        })),
    );
  const etas = pts.filter((p) => Number.isFinite(p.eta) && p.eta > 0);
  return [
    lineChart({
      title: `${c.task}: training loss vs cost`,
      values: pts,
      x: 'cost',
      y: 'loss',
      series: 'method',
      xTitle: 'cost (forward-equivalents)',
      logY: true,
    }),
    lineChart({
      title: `${c.task}: training loss vs time`,
      values: pts,
      x: 'seconds',
      y: 'loss',
      series: 'method',
      logY: true,
    }),
    lineChart({
      title: `${c.task}: step size per step`,
      values: etas,
      x: 'step',
      y: 'eta',
      series: 'method',
      logY: true,
    }),
  ];
}

/** The profile curve: fraction of tasks within tau of the best, for tau in [1, 4]. */
function profileChart(
  title: string,
  methods: readonly string[],
  ratios: Record<string, Record<string, number>>,
): ChartSpec {
  const taus = Array.from({ length: 61 }, (_, i) => 1 + (3 * i) / 60);
  const values = methods.flatMap((m) =>
    taus.map((tau) => ({
      method: m,
      tau,
      fraction:
        Object.values(ratios[m]).filter((r) => r <= tau).length /
        Math.max(1, Object.values(ratios[m]).length),
    })),
  );
  return lineChart({
    title,
    values,
    x: 'tau',
    y: 'fraction',
    series: 'method',
    xTitle: 'tau (cost ratio to best)',
  });
}

/** Builds the whole report from the records of a store. */
export function benchReport(
  stored: readonly RunRecord[],
  meta: { source: string },
): { report: Report; comparisons: TaskComparison[]; markdown: string } {
  const records = inPlanOrder(stored);
  const comparisons = compare(records);
  const plain = profile(comparisons);
  const paid = profile(comparisons, { tuningInclusive: true });
  const methods = Object.keys(plain.scores).sort((a, b) => plain.scores[b] - plain.scores[a]);
  const sections: ReportSection[] = [
    {
      title: 'How to read this',
      text: [
        'Baselines (SGD, SGD+momentum 0.9, Adam) are grid-searched; the grid point with the best mean final validation loss is shown as "tuned", and its "grid cost" is what the whole grid cost (the price of tuning). Every other method runs once at its defaults.',
        'Cost counts forward-equivalents: a gradient step 3 (forward + backward), a loss-only probe 1. L is the mean log training loss over all steps (the log of the geometric-mean loss; lower is better). Cost to target: forward-equivalents until the validation metric reached the task target (Infinity: never).',
      ],
    },
    {
      title: 'Performance profile (cost to target, AlgoPerf style)',
      text: [
        'Fraction of tasks on which a method reached the target within tau times the cost of the best method; the score B is the area under the profile for tau in [1, 4], scaled to [0, 1]. "Tuning paid" adds to a tuned baseline the cost of every other run of its grid: what finding its learning rate cost.',
      ],
      table: {
        columns: ['method', 'score B', 'score B, tuning paid'],
        rows: methods.map((m) => [m, Number(plain.scores[m].toFixed(3)), Number(paid.scores[m].toFixed(3))]),
      },
      charts: [
        profileChart('Performance profile (tuned baselines at the cost of one run)', methods, plain.ratios),
        profileChart(
          'Performance profile, tuning paid (a tuned baseline also pays its grid)',
          methods,
          paid.ratios,
        ),
      ],
    },
    ...comparisons.map((c) => ({
      title: `Task: ${c.task}`,
      table: taskTable(c),
      charts: curves(c, records),
    })),
  ];
  const profileTable = sections[1].table!;
  const markdown = [
    `Code: ${codeSummary(records)}.\n`,
    `### Performance profile (cost to target; score B in [0, 1], higher is better; "tuning paid": a tuned baseline also pays the rest of its grid)\n\n${markdownTable(profileTable)}\n`,
    ...comparisons.map((c) => `### ${c.task}\n\n${markdownTable(taskTable(c))}\n`),
  ].join('\n');
  return {
    report: {
      title: 'lrfree benchmark',
      subtitle: `${records.length} runs from ${meta.source}; code ${codeSummary(records)}`,
      sections,
    },
    comparisons,
    markdown,
  };
}
