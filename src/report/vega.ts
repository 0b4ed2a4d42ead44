/**
 * Charts: Vega-Lite specs compiled and rendered to SVG in Node (no canvas, no browser, no network), so a
 * report is one self-contained file.
 */
import type { TopLevelSpec } from 'vega-lite';
import { LrfreeConfigError } from '../core/validate.js';

/** A Vega-Lite spec (the data inline under `data.values`). */
export type ChartSpec = TopLevelSpec;

/** Versions the charts are made with; `vega` and `vega-lite` are optional peer dependencies. */
export const CHART_PACKAGES = 'vega@6.4.0 vega-lite@6.4.3';

/**
 * Loads `vega` and `vega-lite` at first use: they are optional peer dependencies (only reports and the
 * benchmark draw charts), so a library user who draws none does not install them.
 */
async function chartLibraries(): Promise<{
  vega: typeof import('vega');
  compile: typeof import('vega-lite').compile;
}> {
  try {
    const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')]);
    return { vega, compile: vl.compile };
  } catch (e) {
    throw new LrfreeConfigError(
      `charts need the optional packages vega and vega-lite (${(e as Error).message}). Fix: npm i ${CHART_PACKAGES}`,
    );
  }
}

/** Renders a Vega-Lite spec to an SVG string. */
export async function renderSvg(spec: ChartSpec): Promise<string> {
  const { vega, compile } = await chartLibraries();
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** A line chart of `y` against `x`, one line per `series`, with optional log scales. */
export function lineChart(options: {
  title: string;
  values: Record<string, unknown>[];
  x: string;
  y: string;
  series?: string;
  xTitle?: string;
  yTitle?: string;
  logX?: boolean;
  logY?: boolean;
  width?: number;
  height?: number;
}): ChartSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: options.title,
    width: options.width ?? 520,
    height: options.height ?? 260,
    data: { values: options.values },
    mark: { type: 'line', clip: true },
    encoding: {
      x: {
        field: options.x,
        type: 'quantitative',
        title: options.xTitle ?? options.x,
        scale: options.logX ? { type: 'log' } : { zero: false },
      },
      y: {
        field: options.y,
        type: 'quantitative',
        title: options.yTitle ?? options.y,
        scale: options.logY ? { type: 'log' } : { zero: false },
      },
      ...(options.series
        ? {
            color: {
              field: options.series,
              type: 'nominal',
              title: options.series,
              legend: { labelLimit: 320 },
            },
          }
        : {}),
    },
  } as ChartSpec;
}
