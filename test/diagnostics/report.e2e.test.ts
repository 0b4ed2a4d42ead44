/**
 * The procedure's report in a real browser: runs a short procedure, writes the HTML (charts rendered to
 * inline SVG) and opens it from disk in Debian's Chromium with the network blocked; every chart must be
 * drawn and the console must stay clean.
 */
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { procedure } from '../../src/diagnostics/procedure.js';
import { weightSpacePlane } from '../../src/diagnostics/weightSpace.js';
import { planeChart, procedureReport } from '../../src/report/diagnosticsCharts.js';
import { writeReport } from '../../src/report/html.js';
import { launchChromium } from '../helpers/chromium.js';
import { tinyMlp, toyClassification, useBackend } from '../helpers/tf.js';

beforeAll(async () => {
  await useBackend('cpu');
});

describe('procedure report in Chromium', () => {
  it('renders every chart of every step, with no console errors and no network', async () => {
    const all = toyClassification(480, 8, 3, 1);
    const [xt, xv] = tf.split(all.x, [320, 160]);
    const [yt, yv] = tf.split(all.y, [320, 160]);
    const data = { train: { x: xt, y: yt }, validation: { x: xv, y: yv } };
    const model = tinyMlp(8, 16, 3);
    const state = await procedure(model, data, {
      epochs: 2,
      batchSize: 32,
      linePoints: 13,
      rangeTest: { numIt: 60 },
      momentumTest: { numIt: 3 },
    });
    const report = procedureReport(state, 'toy problem');
    const plane = weightSpacePlane(model, data.validation, { steps: 7 });
    report.sections.push({ title: 'Landscape', charts: [planeChart(plane)] });
    const expected = report.sections.reduce((n, s) => n + (s.charts?.length ?? 0), 0);
    expect(expected).toBeGreaterThanOrEqual(10);
    const dir = mkdtempSync(join(tmpdir(), 'lrfree-report-'));
    const { html, json } = await writeReport(dir, report, state);
    expect(JSON.parse(readFileSync(json, 'utf8')).completed.length).toBe(7);
    expect(readFileSync(html, 'utf8')).not.toMatch(/<script|https?:\/\/(?!vega\.github\.io|www\.w3\.org)/);

    const browser = await launchChromium(inject('chromium'));
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const errors: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(e.message));
      await page.route('**/*', (route) => {
        const url = route.request().url();
        if (url.startsWith('file://')) return route.continue();
        requests.push(url);
        return route.abort();
      });
      await page.goto(`file://${html}`);
      const figures = await page.$$eval('figure.chart', (fs) =>
        fs.map((f) => {
          const svg = f.querySelector('svg');
          const box = svg?.getBoundingClientRect();
          return {
            marks: svg ? svg.querySelectorAll('path, rect, line').length : 0,
            w: box?.width ?? 0,
            h: box?.height ?? 0,
          };
        }),
      );
      expect(figures.length).toBe(expected);
      for (const f of figures) {
        expect(f.marks).toBeGreaterThan(5);
        expect(f.w).toBeGreaterThan(100);
        expect(f.h).toBeGreaterThan(100);
      }
      expect(await page.$$eval('table', (t) => t.length)).toBeGreaterThanOrEqual(2);
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
      const out = join(process.cwd(), 'lrfree-out', 'test-artifacts');
      mkdirSync(out, { recursive: true });
      await page.screenshot({ path: join(out, 'procedure-report.png'), fullPage: true });
    } finally {
      await browser.close();
      tf.dispose([all.x, all.y, xt, xv, yt, yv]);
      model.dispose();
    }
  });
});
