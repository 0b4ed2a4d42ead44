import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';

const BROWSER_TESTS = 'test/**/*.e2e.test.ts';

const src = (file: string) => fileURLToPath(new URL(`./src/${file}`, import.meta.url));

export default defineConfig({
  // The package's own names, as a user imports them, map to the sources (the documentation examples).
  resolve: {
    alias: [
      { find: /^lrfree$/, replacement: src('index.ts') },
      { find: /^lrfree\/node$/, replacement: src('node.ts') },
    ],
  },
  test: {
    // TF.js keeps global engine state; one process per file keeps backends apart.
    pool: 'forks',
    // Test files already run one per core: a threaded wasm start in each (about 1.4 s of CPU) buys nothing.
    // test/backend/threads.test.ts clears this and asks for 1 and 2 threads itself.
    env: { LRFREE_THREADS: '1' },
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // The browser tests are their own project so that their global setup (find or install Chromium,
    // test/setup/chromium.ts) runs only when one of them is in the run.
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, BROWSER_TESTS],
        },
      },
      {
        extends: true,
        test: { name: 'browser', include: [BROWSER_TESTS], globalSetup: ['test/setup/chromium.ts'] },
      },
    ],
  },
});
