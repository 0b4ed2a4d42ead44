/**
 * Regenerates the screenshots of docs/playground.md from the built page (build first:
 * `npx vite build --config web/vite.config.ts`), then: `npx tsx web/scripts/screenshots.ts`.
 * Uses whichever of the showcased optimizers have landed in the catalog.
 */
import { join } from 'node:path';
import { servePlayground } from '../../src/cli/playground.js';
import { launchChromium } from '../../test/helpers/chromium.js';
import type { PlaygroundWindow } from '../src/handle.js';

const OUT = join(process.cwd(), 'docs', 'img');

const server = await servePlayground({ port: 0 });
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
  await page.goto(server.url);
  await page.waitForSelector('body[data-ready="true"]');
  const known: string[] = await page.evaluate(() =>
    (window as unknown as PlaygroundWindow).lrfreePlayground.optimizers(),
  );
  const pick = (want: string[]) => want.filter((k) => k.startsWith('sgd@') || known.includes(k)).join(',');

  const shots: { file: string; query: string; panel: string; train?: boolean }[] = [
    {
      file: 'playground-rosenbrock.png',
      query: `?surface=rosenbrock&x=-1.2&y=1&steps=200&seed=1&opts=${pick(['sgd@0.001', 'adam', 'sls', 'walk', 'prodigy'])}`,
      panel: '#surface-panel',
    },
    {
      file: 'playground-cliff.png',
      query: `?surface=cliff&x=-2.5&y=1.5&steps=150&seed=1&opts=${pick(['sgd@0.3', 'sls', 'keepStepping', 'walk', 'salsa'])}`,
      panel: '#surface-panel',
    },
    {
      file: 'playground-quadratic.png',
      query: `?surface=quadratic&kappa=50&x=-1.6&y=1.2&steps=100&seed=1&opts=${pick(['sgd@0.035', 'momentum', 'sls', 'sps', 'keepVaulting'])}`,
      panel: '#surface-panel',
    },
    {
      file: 'playground-spirals.png',
      query: `?steps=5&nnSteps=400&hidden=16&seed=1&nnOpts=${pick(['sgd@0.1', 'adam', 'sls', 'salsa', 'prodigy'])}`,
      panel: '#nn-panel',
      train: true,
    },
  ];
  for (const s of shots) {
    await page.goto(server.url + s.query);
    await page.waitForSelector('body[data-ready="true"]');
    await page.waitForSelector('#surface-panel[data-state="done"]', { timeout: 300_000 });
    if (s.train) {
      await page.click('#train');
      await page.waitForSelector('#nn-panel[data-state="done"]', { timeout: 600_000 });
    }
    await page.locator(s.panel).screenshot({ path: join(OUT, s.file) });
    console.log(`wrote docs/img/${s.file} (${s.query})`);
  }
} finally {
  await browser.close();
  await server.close();
}
