/**
 * End to end: builds the playground with Vite, serves it with `servePlayground` (what `lrfree playground`
 * runs), drives Debian's Chromium through playwright-core, and checks that the page loads without console
 * errors, that 200 steps of three optimizers on Rosenbrock draw exactly the trajectory the Node library
 * computes for the same start and seed, that the URL round-trips the state, and that the dataset panel
 * trains. Saves screenshots to lrfree-out/test-artifacts/.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type PlaygroundServer, servePlayground } from '../../src/cli/playground.js';
import { sgd } from '../../src/optimizers/baselines.js';
import type { CatalogEntry } from '../../src/optimizers/catalog.js';
import { missingImport } from '../../web/presets.js';
import type { DrawnTrajectory, PlaygroundWindow } from '../../web/src/handle.js';
import { collectEntries, type ModuleMap } from '../../web/src/optimizers.js';
import { launchChromium } from '../helpers/chromium.js';

const ARTIFACTS = join(process.cwd(), 'lrfree-out', 'test-artifacts');

/** Every catalog entry the page lists: the catalog plus the preset modules' CATALOG exports. */
async function allEntries(): Promise<CatalogEntry[]> {
  const dir = join(process.cwd(), 'src', 'optimizers');
  const modules: ModuleMap = {};
  // The same rule as the page's build (web/presets.ts): presets with an unresolved import are left out.
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts') && !missingImport(join(dir, n)))) {
    modules[f] = (await import(join(dir, f))) as Record<string, unknown>;
  }
  return collectEntries(modules);
}

/**
 * The reference trajectory, computed here with the library alone: Rosenbrock written out again, one
 * variable, `minimize` 200 times.
 */
function nodeTrajectory(make: () => tf.Optimizer, start: [number, number], steps: number): number[][] {
  const w = tf.tidy(() =>
    tf.variable(tf.tensor1d(start), true, `e2e_w_${Math.random().toString(36).slice(2)}`),
  );
  const opt = make();
  const loss = () =>
    tf.tidy(() => {
      const [x, y] = tf.unstack(w);
      return tf.add(tf.square(tf.sub(1, x)), tf.mul(100, tf.square(tf.sub(y, tf.square(x))))) as tf.Scalar;
    });
  const out: number[][] = [Array.from(w.dataSync())];
  for (let i = 0; i < steps; i++) {
    opt.minimize(loss, false, [w]);
    out.push(Array.from(w.dataSync()));
  }
  opt.dispose();
  w.dispose();
  return out;
}

describe('playground in Chromium', () => {
  let out: string;
  let server: PlaygroundServer;
  let browser: Browser;
  const errors: string[] = [];

  beforeAll(async () => {
    // First, so that a missing Chromium fails at once with what to run (test/setup/chromium.ts).
    browser = await launchChromium(inject('chromium'));
    out = mkdtempSync(join(tmpdir(), 'lrfree-web-'));
    const build = spawnSync(
      process.execPath,
      [
        join('node_modules', 'vite', 'bin', 'vite.js'),
        'build',
        '--config',
        'web/vite.config.ts',
        '--outDir',
        out,
        '--emptyOutDir',
        '--logLevel',
        'error',
      ],
      { encoding: 'utf8' },
    );
    if (build.status !== 0) throw new Error(`vite build failed:\n${build.stdout}\n${build.stderr}`);
    server = await servePlayground({ dir: out, port: 0 });
    mkdirSync(ARTIFACTS, { recursive: true });
    await tf.setBackend('cpu');
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (out) rmSync(out, { recursive: true, force: true });
  });

  async function open(query: string): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    await page.goto(server.url + query);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
    return page;
  }

  it('runs three optimizers 200 steps on Rosenbrock along the Node library trajectory', async () => {
    const entries = await allEntries();
    // Plain SGD at a user-set rate, Adam, and the first learning-rate-free optimizer the catalog offers
    // (momentum while none has landed).
    const lrFree = entries.find((e) => e.family !== 'baseline' && e.family !== 'composed');
    const keys = ['sgd@0.001', 'adam', lrFree?.name ?? 'momentum'];
    const seed = 7;
    const start: [number, number] = [-1.2, 1];
    const page = await open(
      `?surface=rosenbrock&x=${start[0]}&y=${start[1]}&opts=${keys.join(',')}&steps=200&seed=${seed}`,
    );
    await page.waitForSelector('#surface-panel[data-state="done"]', { timeout: 60_000 });
    const backend = await page.evaluate(() =>
      (window as unknown as PlaygroundWindow).lrfreePlayground.backend(),
    );
    const drawn: DrawnTrajectory[] = await page.evaluate(() =>
      (window as unknown as PlaygroundWindow).lrfreePlayground.trajectories(),
    );
    await page.screenshot({ path: join(ARTIFACTS, 'playground-rosenbrock.png'), fullPage: true });
    console.log(`playground e2e: backend ${backend}, optimizers ${drawn.map((d) => d.key).join(', ')}`);

    expect(drawn.map((d) => d.key)).toEqual(keys);
    const byName = new Map(entries.map((e) => [e.name, e]));
    for (const d of drawn) {
      const make = d.key.startsWith('sgd@')
        ? () => sgd(Number(d.key.slice(4)), { seed })
        : () => byName.get(d.key)!.make({ stepsPerEpoch: 1, totalSteps: 200, seed });
      const ref = nodeTrajectory(make, start, 200);
      expect(d.points).toHaveLength(201);
      let worst = 0;
      d.points.forEach((p, i) => {
        for (let j = 0; j < 2; j++) {
          worst = Math.max(worst, Math.abs(p[j] - ref[i][j]) / Math.max(1, Math.abs(ref[i][j])));
        }
      });
      console.log(`  ${d.key}: max relative deviation from Node ${worst.toExponential(2)}`);
      // float32 tolerance: a few ulps at |w| <= 2, amplified over 200 steps at most mildly.
      expect(worst, `${d.key} max relative deviation from Node`).toBeLessThan(1e-4);
      expect(d.backwards).toBeGreaterThanOrEqual(200);
      // The run made progress from f(-1.2, 1) = 24.2 (all three do at these settings).
      const [x, y] = d.points[200];
      expect((1 - x) ** 2 + 100 * (y - x * x) ** 2).toBeLessThan(24.2);
    }
    // Plain SGD reports exactly its learning rate.
    expect(drawn[0].eta.every((e) => Math.abs(e - 0.001) < 1e-12)).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('round-trips its state through the URL and keeps the tensor count flat across reruns', async () => {
    const page = await open('?surface=rosenbrock&steps=30&seed=3&opts=sgd@0.01,adam');
    await page.waitForSelector('#surface-panel[data-state="done"]');
    // Keyboard only: choose the quadratic, set its conditioning, move the start with the arrow keys.
    await page.focus('#surface');
    await page.selectOption('#surface', 'quadratic');
    await page.waitForSelector('#surface-panel[data-state="done"]');
    await page.fill('#kappa', '50');
    await page.press('#kappa', 'Tab');
    await page.waitForSelector('#surface-panel[data-state="done"]');
    const before: number = await page.evaluate(() =>
      (window as unknown as PlaygroundWindow).lrfreePlayground.tensors(),
    );
    await page.focus('#map');
    await page.keyboard.press('ArrowRight');
    await page.waitForSelector('#surface-panel[data-state="done"]');
    await page.keyboard.press('ArrowUp');
    await page.waitForSelector('#surface-panel[data-state="done"]');
    const after: number = await page.evaluate(() =>
      (window as unknown as PlaygroundWindow).lrfreePlayground.tensors(),
    );
    expect(after).toBe(before);
    const state = await page.evaluate(() => (window as unknown as PlaygroundWindow).lrfreePlayground.state());
    expect(state.surface).toBe('quadratic');
    expect(state.kappa).toBe(50);
    // Default quadratic start (-1.6, 1.2) moved right and up by 2% of the 4-wide view.
    expect(state.x).toBeCloseTo(-1.52, 9);
    expect(state.y).toBeCloseTo(1.28, 9);
    const url = page.url();
    expect(url).toContain('surface=quadratic');

    const again = await open(url.slice(server.url.length));
    await again.waitForSelector('#surface-panel[data-state="done"]');
    expect(
      await again.evaluate(() => (window as unknown as PlaygroundWindow).lrfreePlayground.state()),
    ).toEqual(state);
    expect(await again.inputValue('#kappa')).toBe('50');
    expect(await again.inputValue('#surface')).toBe('quadratic');
    expect(again.url()).toBe(url);
    expect(errors).toEqual([]);
    await page.close();
    await again.close();
  });

  it('trains the MLP on two spirals with several optimizers and draws the init-to-final line', async () => {
    const page = await open('?nnOpts=sgd@0.1,adam&nnSteps=80&steps=20');
    await page.waitForSelector('#surface-panel[data-state="done"]');
    await page.focus('#train');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#nn-panel[data-state="done"]', { timeout: 60_000 });
    const rows = await page.$$eval('#nn-table tbody tr', (trs) =>
      trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent ?? '')),
    );
    expect(rows.map((r) => r[0].trim())).toEqual(['SGD η=0.1', 'adam']);
    for (const r of rows) {
      expect(r[1]).toBe('80');
      expect(Number(r[2])).toBeGreaterThan(0);
      expect(Number(r[2])).toBeLessThan(Math.log(2) + 0.05); // below chance-level cross-entropy (ish)
    }
    await page.screenshot({ path: join(ARTIFACTS, 'playground-spirals.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });
});
