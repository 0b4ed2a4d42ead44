import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

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
    include: ['test/**/*.test.ts'],
    // TF.js keeps global engine state; one process per file keeps backends apart.
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
