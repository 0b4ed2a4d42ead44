import { configDefaults, defineConfig } from 'vitest/config';

const BROWSER_TESTS = 'test/**/*.e2e.test.ts';

export default defineConfig({
  test: {
    // TF.js keeps global engine state; one process per file keeps backends apart.
    pool: 'forks',
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
