/**
 * Charts and report sections of the diagnostics (range tests, weight-space lines and planes, schedule
 * checks, the procedure). Vega-Lite specs with inline data; `html.ts` renders them to inline SVG.
 */
import type { Curve } from '../diagnostics/curves.js';
import { type ProcedureState, STEP_TITLES, STEPS } from '../diagnostics/procedure.js';
import type { RangeTestResult } from '../diagnostics/rangeTest.js';
import { bugsAndWarnings } from '../diagnostics/redFlags.js';
import type { LineResult, PlaneResult } from '../diagnostics/weightSpace.js';
import type { Report, ReportSection } from './html.js';
import { formatNumber } from './html.js';
import { type ChartSpec, lineChart } from './vega.js';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';
const finite = (v: unknown) => typeof v === 'number' && Number.isFinite(v);

/**
 * The range-test curve (raw and smoothed loss against the learning rate, log x) with every suggestion
 * marked.
 */
export function rangeTestChart(rt: RangeTestResult, title = 'Learning-rate range test'): ChartSpec {
  const values = rt.lrs
    .flatMap((lr, i) => [
      { lr, loss: rt.losses[i], series: 'loss (raw)' },
      { lr, loss: rt.smoothed[i], series: 'loss (smoothed)' },
    ])
    .filter((v) => finite(v.loss));
  // Raw losses spike by orders of magnitude at the end; keep the axis on the part worth reading.
  const ys = values.map((v) => v.loss);
  const low = Math.min(...ys);
  const start = rt.smoothed.find((v) => finite(v)) ?? low;
  const high = Math.min(Math.max(...ys), start + 1.5 * Math.abs(start - low) + 0.25 * Math.abs(start));
  const marks = Object.entries(rt.suggestions)
    .filter(([, s]) => s && finite(s.lr) && finite(s.loss))
    .map(([rule, s]) => ({ lr: s!.lr, loss: s!.loss, rule: `${rule} ${formatNumber(s!.lr)}` }));
  return {
    $schema: SCHEMA,
    title,
    width: 520,
    height: 260,
    layer: [
      {
        data: { values },
        mark: { type: 'line', clip: true },
        encoding: {
          x: {
            field: 'lr',
            type: 'quantitative',
            scale: { type: 'log' },
            title: `learning rate (${rt.variant})`,
          },
          y: {
            field: 'loss',
            type: 'quantitative',
            scale: { zero: false, domain: [low, high] },
            title: 'loss',
          },
          color: { field: 'series', type: 'nominal', title: 'curve' },
          opacity: { condition: { test: "datum.series === 'loss (raw)'", value: 0.35 }, value: 1 },
        },
      },
      {
        data: { values: marks },
        mark: { type: 'point', filled: true, size: 80, clip: true },
        encoding: {
          x: { field: 'lr', type: 'quantitative', scale: { type: 'log' } },
          y: { field: 'loss', type: 'quantitative' },
          shape: { field: 'rule', type: 'nominal', title: 'suggestion' },
        },
      },
    ],
    resolve: { scale: { color: 'independent' } },
  } as ChartSpec;
}

/** Loss (and accuracy, second chart) along a weight-space line. */
export function lineCharts(line: LineResult, title: string): ChartSpec[] {
  const out: ChartSpec[] = [
    lineChart({
      title: `${title}: loss`,
      values: line.alphas.map((a, i) => ({ alpha: a, loss: line.losses[i] })).filter((v) => finite(v.loss)),
      x: 'alpha',
      y: 'loss',
      xTitle:
        line.kind === 'interpolate'
          ? 'alpha (0 = initial, 1 = final weights)'
          : 'alpha (step along the direction)',
    }),
  ];
  if (line.accuracies) {
    out.push(
      lineChart({
        title: `${title}: accuracy`,
        values: line.alphas.map((a, i) => ({ alpha: a, accuracy: line.accuracies![i] })),
        x: 'alpha',
        y: 'accuracy',
        height: 180,
      }),
    );
  }
  return out;
}

/** True when positive values span more than a factor 20 (a log axis then reads better). */
function wideRange(xs: number[]): boolean {
  const v = xs.filter((x) => finite(x));
  return v.length > 0 && v.every((x) => x > 0) && Math.max(...v) / Math.min(...v) > 20;
}

/** Held-out loss per epoch of several runs, one line each. */
export function curvesChart(curves: { name: string; curve: Curve }[], title: string): ChartSpec {
  return lineChart({
    title,
    values: curves.flatMap(({ name, curve }) =>
      curve.loss.map((loss, epoch) => ({ epoch, loss, run: name })).filter((v) => finite(v.loss)),
    ),
    x: 'epoch',
    y: 'loss',
    series: 'run',
    yTitle: 'held-out loss',
    logY: wideRange(curves.flatMap(({ curve }) => curve.loss)),
  });
}

/** A heat map of the loss over a weight-space plane (log colour scale). */
export function planeChart(plane: PlaneResult, title = 'Loss over a random plane'): ChartSpec {
  const values = plane.xs
    .flatMap((x, i) => plane.ys.map((y, j) => ({ x, y, loss: plane.losses[i][j] })))
    .filter((v) => finite(v.loss));
  const positive = values.every((v) => v.loss > 0);
  return {
    $schema: SCHEMA,
    title,
    width: 360,
    height: 360,
    data: { values },
    mark: 'rect',
    encoding: {
      x: {
        field: 'x',
        type: 'ordinal',
        title: 'alpha (direction 1)',
        axis: { format: '.2f', labelOverlap: true },
      },
      y: {
        field: 'y',
        type: 'ordinal',
        title: 'beta (direction 2)',
        sort: 'descending',
        axis: { format: '.2f', labelOverlap: true },
      },
      color: {
        field: 'loss',
        type: 'quantitative',
        scale: { type: positive ? 'log' : 'linear', scheme: 'viridis' },
      },
    },
  } as ChartSpec;
}

const yesNo = (v: boolean | undefined) => (v === undefined ? '-' : v ? 'yes' : 'no');

/** The report of a procedure: recommendations, red flags, then one section per step with its charts. */
export function procedureReport(state: ProcedureState, subtitle?: string): Report {
  const r = state.recommendations;
  const sections: ReportSection[] = [];
  const rows: (string | number)[][] = [];
  if (r.learningRate)
    rows.push([
      'learning rate',
      `${formatNumber(r.learningRate.value)}${r.learningRate.sure ? '' : ' (not sure)'}`,
      `${r.learningRate.evidence}${r.learningRate.why.length ? `. Why: ${r.learningRate.why.join('; ')}` : ''}. Cost: ${r.learningRate.cost.backwards} backwards, ${r.learningRate.cost.forwards} extra forwards, ${r.learningRate.cost.seconds.toFixed(1)} s`,
    ]);
  if (r.momentum) rows.push(['momentum', formatNumber(r.momentum.value), r.momentum.evidence]);
  if (r.decay)
    rows.push(['power decay', `${yesNo(r.decay.value)} (M = ${r.decay.plateauEpochs})`, r.decay.evidence]);
  if (r.cyclical) rows.push(['cyclical rate', yesNo(r.cyclical.value), r.cyclical.evidence]);
  if (r.variant)
    rows.push([
      'best variant',
      `${r.variant.value} @ ${formatNumber(r.variant.learningRate)}`,
      r.variant.evidence,
    ]);
  if (r.lrFree)
    rows.push([
      'learning-rate-free',
      r.lrFree.value.length ? `${r.lrFree.value.join(', ')} as good as the tuned rate` : 'none as good',
      r.lrFree.evidence,
    ]);
  sections.push({
    title: 'Recommendations',
    table: { columns: ['setting', 'value', 'evidence'], rows },
    text: rows.length === 0 ? ['No recommendation: see the red flags.'] : undefined,
  });
  // Red flags say "probably a bug in the code or the data"; warnings are about the setting (scaling, the
  // rate range, the budget) and never blame the data, so they are listed apart.
  const flagLine = (f: (typeof state.redFlags)[number]) =>
    `[${f.confidence ?? 'medium'} confidence] ${f.id}: ${f.message} What to do: ${f.action ?? '-'}`;
  const { bugs, warnings } = bugsAndWarnings(state.redFlags);
  sections.push({
    title: 'Red flags',
    warnings: bugs.map(flagLine),
    text: bugs.length === 0 ? ['None: nothing in the numbers suggests a bug.'] : undefined,
  });
  if (warnings.length > 0) {
    sections.push({ title: 'Warnings about the setting', warnings: warnings.map(flagLine) });
  }
  for (const step of STEPS) {
    const title = STEP_TITLES[step];
    const skipped = state.skipped[step];
    const ms = state.ms[step];
    const timing = ms === undefined ? [] : [`Took ${(ms / 1000).toFixed(1)} s.`];
    if (skipped) {
      sections.push({ title, text: [`Skipped: ${skipped}.`] });
      continue;
    }
    if (!state.completed.includes(step)) {
      sections.push({ title, text: ['Not run yet (interrupted; resume to finish).'] });
      continue;
    }
    sections.push({
      title,
      ...stepBody(state, step),
      text: [...(stepBody(state, step).text ?? []), ...timing],
    });
  }
  return { title: 'lrfree procedure: hyperparameters step by step', subtitle, sections };
}

function stepBody(state: ProcedureState, step: (typeof STEPS)[number]): Omit<ReportSection, 'title'> {
  switch (step) {
    case 'line': {
      const l = state.line!;
      return {
        text: [
          l.kind === 'random'
            ? `Loss on the held-out data along a random direction through the initial weights (${l.normalization}-normalised, biases and batch-norm parameters not moved). A smooth bowl means a forgiving landscape; ridges and cliffs mean a large rate can fall off.`
            : 'Loss on the held-out data along the move of one short training epoch (alpha = 1: where it ended; beyond: the same move, longer). A long steady fall means large steps are safe; a cliff past alpha = 1 means they are not.',
        ],
        charts: lineCharts(l, 'Initial line'),
      };
    }
    case 'lr': {
      const rt = state.lr!;
      const s = rt.suggestions;
      const c = state.lrChoice;
      const rules = (['valley', 'slide', 'steep', 'minimum', 'steepest'] as const)
        .filter((k) => s[k])
        .map((k) => `${k === 'minimum' ? 'minimum / 10' : k} ${formatNumber(s[k]!.lr)}`)
        .join(', ');
      if (c)
        return {
          text: [
            `${rt.style} range test, ${rt.increase === 'batch' ? 'one rate per mini-batch' : 'one rate per epoch'}, ${rt.lrs.length} rates; stopped: ${rt.stopped}. Rules: ${rules}.`,
            `The smoothed loss fell beyond its noise (threshold ${formatNumber(c.region.threshold)} below the starting level ${formatNumber(c.region.baseline)}, batch noise ${formatNumber(c.region.noise)}) from ${c.region.from === undefined ? '(never)' : formatNumber(c.region.from)} to its lowest point at ${c.region.lowest === undefined ? '-' : formatNumber(c.region.lowest)}; only rules inside that region propose candidates. Each candidate was trained ${c.steps} steps; the lowest held-out loss wins.`,
            `Recommendation ${formatNumber(c.lr)}: ${c.sure ? 'sure' : 'NOT SURE'} (${c.why.join('; ')}). Cost: ${c.cost.backwards} backwards, ${c.cost.forwards} extra forwards, ${c.cost.seconds.toFixed(1)} s.`,
          ],
          table: {
            columns: [
              'learning rate',
              'proposed by',
              'best held-out loss',
              'accuracy',
              'loss fell beyond noise',
            ],
            rows: c.candidates.map((x) => [
              x.lr,
              x.source.join(', '),
              x.run.best,
              x.run.bestAccuracy === undefined ? '-' : `${(100 * x.run.bestAccuracy).toFixed(1)}%`,
              x.fell ? 'yes' : 'no',
            ]),
          },
          charts: [rangeTestChart(rt)],
        };
      return {
        text: [
          `${rt.style} range test, ${rt.increase === 'batch' ? 'one rate per mini-batch' : 'one rate per epoch'}, ${rt.lrs.length} rates; stopped: ${rt.stopped}.`,
        ],
        table: {
          columns: ['rule', 'learning rate'],
          rows: (['valley', 'slide', 'steep', 'minimum', 'steepest'] as const)
            .filter((k) => s[k])
            .map((k) => [k === 'minimum' ? 'minimum / 10' : k, s[k]!.lr]),
        },
        charts: [rangeTestChart(rt)],
      };
    }
    case 'momentum': {
      const m = state.momentum!;
      return {
        text: [
          `Momentum raised from ${formatNumber(m.test.momenta[0])} to ${formatNumber(m.test.momenta[m.test.momenta.length - 1])} at learning rate ${formatNumber(m.test.lr)}; suggestion ${formatNumber(m.test.suggestion)}. Confirmation run: momentum ${m.helps ? 'helps' : 'does not help'}.`,
        ],
        charts: [
          lineChart({
            title: 'Momentum range test',
            values: m.test.momenta
              .map((mu, i) => ({ momentum: mu, loss: m.test.smoothed[i] }))
              .filter((v) => finite(v.loss)),
            x: 'momentum',
            y: 'loss',
          }),
          curvesChart(
            [
              { name: 'no momentum', curve: m.without },
              { name: `momentum ${formatNumber(m.with.momentum ?? 0)}`, curve: m.with },
            ],
            'With vs without momentum',
          ),
        ],
      };
    }
    case 'decay':
    case 'cyclical': {
      const c = state[step]!;
      return {
        text: [
          step === 'decay'
            ? `Plateau epoch M = ${c.plateauEpochs}; power decay alpha = ${formatNumber(c.alpha!)} per epoch. Best held-out loss ${formatNumber(c.scheduled.best)} vs ${formatNumber(c.constant.best)} at a constant rate.`
            : `Sawtooth between 2x and 0.5x the rate, period ${c.plateauEpochs} epochs. Best held-out loss ${formatNumber(c.scheduled.best)} vs ${formatNumber(c.constant.best)} at a constant rate.`,
        ],
        charts: [
          curvesChart(
            [
              { name: 'constant', curve: c.constant },
              { name: step === 'decay' ? 'power decay' : 'cyclical', curve: c.scheduled },
            ],
            step === 'decay' ? 'Constant vs power decay' : 'Constant vs cyclical',
          ),
        ],
      };
    }
    case 'variants': {
      const v = state.variants!;
      const free = v.lrFree ?? [];
      return {
        text: [
          'Each optimizer at the rate of its own range test (Adam does not use the SGD rate), for N epochs.',
          ...(free.length
            ? [
                `Learning-rate-free methods, each for the confirmation budget (${free[0].run.steps} steps), against SGD at the tuned rate for the same budget: "as good" when the held-out loss is worse by at most max(2 standard errors of the paired differences over 10 chunks of the held-out data, 2%).`,
              ]
            : []),
        ],
        table: {
          columns: ['optimizer', 'learning rate', 'best held-out loss', 'vs tuned rate'],
          rows: [
            ...v.results.map((x) => [x.variant, x.lr, x.curve.best, '-']),
            ...free.map((x) => [
              x.name,
              'none',
              x.run.best,
              `${x.difference >= 0 ? '+' : ''}${formatNumber(x.difference)} +- ${formatNumber(x.se)}: ${x.asGood ? 'as good' : 'worse'}`,
            ]),
          ],
        },
        charts: v.results.length
          ? [
              curvesChart(
                v.results.map((x) => ({ name: `${x.variant} @ ${formatNumber(x.lr)}`, curve: x.curve })),
                'Optimizers compared',
              ),
            ]
          : [],
      };
    }
    case 'final': {
      const f = state.final!;
      const acc = f.curve.accuracy?.[f.curve.accuracy.length - 1];
      return {
        text: [
          `The chosen configuration trained for ${f.curve.epochs.length - 1} epochs (held-out loss ${formatNumber(f.curve.loss[f.curve.loss.length - 1])}${acc === undefined ? '' : `, accuracy ${(100 * acc).toFixed(1)}%`}), then the loss along the straight line from the initial (alpha = 0) to the final (alpha = 1) weights, batch-norm statistics ${f.line.batchNorm}.`,
        ],
        charts: lineCharts(f.line, 'Init -> final'),
      };
    }
  }
}
