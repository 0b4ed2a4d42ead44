/**
 * Builds test/web/lean/ as a library user would: `lrfree` resolves to the root entry (here its source,
 * src/index.ts, as the package's `exports["."]` resolves to dist/index.js). No Node polyfills, no plugins.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  publicDir: false,
  resolve: {
    alias: [
      { find: /^lrfree$/, replacement: fileURLToPath(new URL('../../../src/index.ts', import.meta.url)) },
    ],
  },
  build: { target: 'es2022', sourcemap: false, chunkSizeWarningLimit: 4000 },
  logLevel: 'info',
});
