/** The benchmark report: tables per task, loss-vs-cost and loss-vs-time curves, eta traces, the profile. */
import type { Report, ReportSection, Table } from '../report/html.js';
import { formatNumber } from '../report/html.js';
import { type ChartSpec, lineChart } from '../report/vega.js';
import { codeSummary } from './codeVersion.js';
import { type ComparisonRow, compare, profile, type TaskComparison } from './compare.js';
import type { Interval } from './metrics.js';
import { AGREEMENT_NOTE, agreementTable, reportAgreement } from './reportAgreement.js';
import type { RunRecord } from './runner.js';
import { inPlanOrder } from './suites.js';

const sig = (x: number, d = 4) => (Number.isFinite(x) ? formatNumber(Number(x.toPrecision(d))) : String(x));
/** `median [low, high]`, or `median (interval unbounded)` when it is (fewer than 3 seeds, or failures on both sides). */
export const withInterval = (m: Interval, d = 4) =>
  m.high === Number.POSITIVE_INFINITY && (m.low === Number.NEGATIVE_INFINITY || m.low === 0)
    ? `${sig(m.estimate, d)} (interval unbounded)`
    : `${sig(m.estimate, d)} [${sig(m.low, 3)}, ${sig(m.high, 3)}]`;

const KIND_LABEL: Record<ComparisonRow['kind'], string> = {
  scheduled: 'tuned, warm-up + cosine (reference grid)',
  fixed: 'fixed configuration, never tuned',
  default: 'defaults',
  constant: 'tuned, constant rate (secondary)',
};

/** The table of one task (also used for the markdown in docs/results.md). */
export function taskTable(c: TaskComparison): Table {
  const columns = [
    'method',
    'kind',
    'test loss (median [95% CI])',
    ...(c.metricName ? [`test ${c.metricName}`] : []),
    'loss / reference (paired, 95% CI)',
    'verdict vs reference',
    'cost to target (median)',
    'reached',
    'tuned: 5 trials, fastest / paid',
    'L',
    'cost (fwd-eq)',
    'seconds',
    'failed',
  ];
  const rows = c.rows.map((r: ComparisonRow) =>
    r.refused && r.failures === r.seeds
      ? [
          r.method,
          KIND_LABEL[r.kind],
          `refused: ${r.refused.split(/[;.] /)[0]}`,
          ...columns.slice(3).map(() => '-'),
        ]
      : [
          r.name === c.reference ? `**${r.method}** (reference)` : r.method,
          KIND_LABEL[r.kind],
          withInterval(r.testLoss),
          ...(c.metricName ? [r.testMetric ? withInterval(r.testMetric) : '-'] : []),
          r.vsRef ? withInterval(r.vsRef, 3) : '-',
          r.vsRef ? (r.name === c.reference ? '-' : r.vsRef.verdict) : '-',
          r.costToTarget,
          `${r.reached}/${r.seeds}`,
          r.tunedCostToTarget !== undefined
            ? `${sig(r.tunedCostToTarget)} / ${sig(r.paidCostToTarget ?? Number.NaN)}`
            : '-',
          Number.isFinite(r.L) ? Number(r.L.toPrecision(4)) : r.L,
          r.cost,
          Number(r.wallSeconds.toFixed(2)),
          `${r.failures}/${r.seeds}`,
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

/** Colours per method, the same in every chart (Tableau 20, then greys). */
const PALETTE = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
  '#aec7e8',
  '#ffbb78',
  '#98df8a',
  '#ff9896',
  '#c5b0d5',
  '#c49c94',
  '#f7b6d2',
  '#c7c7c7',
  '#dbdb8d',
  '#9edae5',
];

/** A fixed colour per method name (the methods in rank order get the palette in order). */
export function colourMap(methods: readonly string[]): { domain: string[]; range: string[] } {
  const domain = [...methods];
  return { domain, range: domain.map((_, i) => PALETTE[i % PALETTE.length]) };
}

/** Gives a chart's colour channel the shared method colours. */
function coloured(
  spec: ChartSpec,
  colours: { domain: string[]; range: string[] },
  field = 'method',
): ChartSpec {
  const enc = (spec as { encoding?: Record<string, unknown> }).encoding;
  if (enc) enc.color = { field, type: 'nominal', title: field, scale: colours, legend: { labelLimit: 320 } };
  return spec;
}

function curves(
  c: TaskComparison,
  records: readonly RunRecord[],
  colours: { domain: string[]; range: string[] },
): ChartSpec[] {
  // The reference, the fixed rows and the top defaults by median test loss: at most 8 lines per chart.
  const ranked = [...c.rows]
    .filter((r) => r.kind !== 'constant')
    .sort((a, b) => a.testLoss.estimate - b.testLoss.estimate);
  const shownRows = [
    ...c.rows.filter((r) => r.name === c.reference || r.kind === 'fixed'),
    ...ranked.filter((r) => r.kind === 'default' || r.kind === 'scheduled'),
  ]
    .filter((r, i, a) => a.indexOf(r) === i)
    .slice(0, 8);
  const shown = new Set(shownRows.map((r) => r.spec));
  const label = new Map(shownRows.map((r) => [r.spec, r.name]));
  const pts = records
    .filter(
      (r) =>
        r.task === c.task &&
        shown.has(r.optimizer) &&
        r.seed === Math.min(...records.filter((x) => x.task === c.task).map((x) => x.seed)),
    )
    .flatMap((r) =>
      r.evals
        .filter((p) => Number.isFinite(p.loss) && p.loss > 0)
        .map((p) => ({
          method: label.get(r.optimizer) ?? r.optimizer,
          cost: p.cost,
          loss: p.loss,
          ...(p.metric !== undefined ? { metric: p.metric } : {}),
        })),
    );
  const metric = c.metricName !== undefined;
  return [
    coloured(
      lineChart({
        title: `${c.task}: validation ${metric ? c.metricName : 'loss'} vs cost (reference, fixed rows, best defaults; first seed)`,
        values: pts,
        x: 'cost',
        y: metric ? 'metric' : 'loss',
        series: 'method',
        xTitle: 'cost (forward-equivalents)',
        yTitle: metric ? `validation ${c.metricName} (monitor)` : 'validation loss (monitor)',
        logY: !metric,
      }),
      colours,
    ),
  ];
}

/** The profile curve: fraction of tasks within tau of the best, for tau in [1, 4]. */
function profileChart(
  title: string,
  methods: readonly string[],
  ratios: Record<string, Record<string, number>>,
  colours: { domain: string[]; range: string[] },
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
  return coloured(
    lineChart({
      title,
      values,
      x: 'tau',
      y: 'fraction',
      series: 'method',
      xTitle: 'tau (cost ratio to the fastest)',
    }),
    colours,
  );
}

/** A horizontal bar chart of one number per method. */
function barChart(
  title: string,
  values: { method: string; value: number }[],
  xTitle: string,
  colours: { domain: string[]; range: string[] },
): ChartSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: 420,
    height: { step: 16 },
    data: { values },
    mark: 'bar',
    encoding: {
      y: { field: 'method', type: 'nominal', sort: null, title: null },
      x: { field: 'value', type: 'quantitative', title: xTitle },
      color: { field: 'method', type: 'nominal', scale: colours, legend: null },
    },
  } as ChartSpec;
}

/** One line of the ranked summary. */
export interface SummaryRow {
  method: string;
  kind: ComparisonRow['kind'];
  /** Tasks where the median seed reached the target, of tasks run. */
  reached: number;
  tasks: number;
  /** Score B with tuned rows as AlgoPerf external tuning (fastest of 5 trials) and with tuning paid. */
  score: number;
  scorePaid: number;
  /** Verdicts of the paired test-loss ratio against each task's reference. */
  better: number;
  worse: number;
  inconclusive: number;
  /** Tasks the method failed on (any seed diverged or refused). */
  failedTasks: number;
}

/** The ranked summary: methods by score B (external tuning), ties by tasks reached. */
export function rankedSummary(comparisons: readonly TaskComparison[]): SummaryRow[] {
  const external = profile(comparisons, { tuning: 'external' });
  const paid = profile(comparisons, { tuning: 'paid' });
  const rows = new Map<string, SummaryRow>();
  for (const c of comparisons) {
    for (const r of c.rows) {
      const s =
        rows.get(r.name) ??
        ({
          method: r.name,
          kind: r.kind,
          reached: 0,
          tasks: 0,
          score: 0,
          scorePaid: 0,
          better: 0,
          worse: 0,
          inconclusive: 0,
          failedTasks: 0,
        } as SummaryRow);
      s.tasks += 1;
      if (Number.isFinite(r.costToTarget)) s.reached += 1;
      if (r.failures > 0) s.failedTasks += 1;
      if (r.vsRef && r.name !== c.reference) s[r.vsRef.verdict] += 1;
      rows.set(r.name, s);
    }
  }
  for (const s of rows.values()) {
    s.score = external.scores[s.method] ?? 0;
    s.scorePaid = paid.scores[s.method] ?? 0;
  }
  return [...rows.values()].sort(
    (a, b) => b.score - a.score || b.reached - a.reached || a.method.localeCompare(b.method),
  );
}

/** The summary as a table. */
export function summaryTable(summary: readonly SummaryRow[]): Table {
  return {
    columns: [
      'rank',
      'method',
      'kind',
      'tasks reaching the target',
      'score B (AlgoPerf external tuning)',
      'score B (tuning paid)',
      'test loss vs reference: better / inconclusive / worse',
      'tasks with a failed seed',
    ],
    rows: summary.map((s, i) => [
      i + 1,
      s.method,
      KIND_LABEL[s.kind],
      `${s.reached}/${s.tasks}`,
      Number(s.score.toFixed(3)),
      Number(s.scorePaid.toFixed(3)),
      `${s.better} / ${s.inconclusive} / ${s.worse}`,
      s.failedTasks,
    ]),
  };
}

const HOW_TO_READ = [
  'Reference rows: SGD with momentum 0.9 and AdamW (weight decay 0.01), each over a 5-point learning-rate grid with linear warm-up over 2% of the budget and cosine decay to 0, scored at the last iterate; the grid point with the lowest median final validation loss over seeds is "tuned". The best of them is the task\'s reference. A best point at the edge of the rates tried is marked ("top edge"): the sweep extends such grids by one point per phase, up to 2 beyond the grid.',
  "Fixed rows are never tuned: adamw-algoperf (AdamW at AlgoPerf's calibrated NAdamW defaults), sfAdamW-algoperf (Schedule-Free AdamW at its AlgoPerf settings), keepStepping-post (the post's winning run). Constant-rate grids are secondary rows.",
  'Failures count: a diverged or refused seed is +Infinity in every median (test loss, L, cost to target) and ranks worst; no mean is taken over survivors. Intervals are 95% percentile bootstraps over seeds (2000 resamples, fixed seed); with fewer than 3 seeds there is no interval (it is unbounded) and every verdict is inconclusive. "loss / reference" is the median over seeds of the paired ratio of test losses; the verdict is inconclusive when its interval covers 1.',
  "Target: the reference's worst seed's best monitored validation accuracy (loss on tasks without one), so the reference reaches it on every seed. Cost to target: forward-equivalents (a gradient step 3, a probe 1) until a monitored evaluation first reached it; a miss or failure is Infinity; median over seeds.",
  'Tuning as AlgoPerf external tuning: a tuned row is a study of 5 trials (the 5 grid points around the chosen one). "fastest": per seed the fastest trial\'s cost to target (what AlgoPerf scores); "paid": per seed the sum of the 5 trials\' real costs, each until it reached the target or ended; medians over seeds. A method at its defaults is one trial; line searches pay for every probe.',
];

/** Builds the whole report from the records of a store. */
export function benchReport(
  stored: readonly RunRecord[],
  meta: { source: string },
): { report: Report; comparisons: TaskComparison[]; markdown: string; summary: SummaryRow[] } {
  const records = inPlanOrder(stored);
  const comparisons = compare(records);
  const summary = rankedSummary(comparisons);
  const colours = colourMap(summary.map((s) => s.method));
  const external = profile(comparisons, { tuning: 'external' });
  const paid = profile(comparisons, { tuning: 'paid' });
  // The top group: the 8 best by score, plus every reference and fixed row.
  const top = summary
    .filter((s, i) => i < 8 || s.kind === 'scheduled' || s.kind === 'fixed')
    .map((s) => s.method);
  const sumTable = summaryTable(summary);
  const agreement = reportAgreement(records, comparisons);
  const agreementTab = agreementTable(agreement);
  const sections: ReportSection[] = [
    {
      title: 'Ranked summary',
      text: [
        'Methods ranked by score B (AlgoPerf performance-profile area on cost to target, tau in [1, 4]), tuned rows scored as AlgoPerf external tuning.',
      ],
      table: sumTable,
    },
    {
      title: 'Who reaches the target?',
      charts: [
        barChart(
          'Tasks on which the median seed reached the target (all methods, ranked)',
          summary.map((s) => ({ method: s.method, value: s.reached })),
          'tasks reached',
          colours,
        ),
      ],
    },
    {
      title: 'How fast? (cost to target, top group)',
      charts: [
        profileChart(
          'Performance profile, tuned rows as AlgoPerf external tuning (fastest of 5 trials)',
          top,
          external.ratios,
          colours,
        ),
      ],
    },
    {
      title: 'At what tuning cost? (top group)',
      charts: [
        profileChart(
          'Performance profile, tuning paid (a tuned row pays its 5 trials)',
          top,
          paid.ratios,
          colours,
        ),
      ],
    },
    ...(agreement.length > 0
      ? [
          {
            title: 'Did the optimizers know? (their own reports)',
            text: [AGREEMENT_NOTE],
            table: agreementTab,
          },
        ]
      : []),
    { title: 'How to read this', text: HOW_TO_READ },
    ...comparisons.map((c) => ({
      title: `Task: ${c.task}`,
      text: [taskHeader(c)],
      table: taskTable(c),
      charts: curves(c, records, colours),
    })),
  ];
  const markdown = [
    `Code: ${codeSummary(records)}.\n`,
    `### Ranked summary\n\n${markdownTable(sumTable)}\n`,
    ...(agreement.length > 0
      ? [
          `### Did the optimizers know? (their own reports)\n\n${AGREEMENT_NOTE}\n\n${markdownTable(agreementTab)}\n`,
        ]
      : []),
    `### How to read the tables\n\n${HOW_TO_READ.map((t) => `- ${t}`).join('\n')}\n`,
    ...comparisons.map((c) => `### ${c.task}\n\n${taskHeader(c)}\n\n${markdownTable(taskTable(c))}\n`),
  ].join('\n');
  return {
    report: {
      title: 'lrfree benchmark',
      subtitle: `${records.length} runs from ${meta.source}; code ${codeSummary(records)}`,
      sections,
    },
    comparisons,
    markdown,
    summary,
  };
}

/** One line above a task's table: the reference, the target and its rule, remaining edges. */
export function taskHeader(c: TaskComparison): string {
  const edges = c.rows.filter((r) => r.edge).map((r) => r.method);
  return [
    c.reference ? `Reference: ${c.reference}.` : 'No tuned scheduled row: no reference.',
    c.target
      ? `Target: validation ${c.target.on} ${sig(c.target.value, 4)} (${c.target.rule}).`
      : 'No target.',
    edges.length
      ? `Best point on an edge of the rates tried: ${edges.join('; ')}.`
      : 'No tuned best point on an edge.',
  ].join(' ');
}
