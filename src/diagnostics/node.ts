/**
 * Diagnostics with their Node-only parts (`lrfree/node`'s `diagnostics`): everything of ./index.ts, plus
 * the procedure's state files and the data sources (built-in data sets, CSV/IDX files, a saved user model).
 */
export * from './index.js';
export { builtinSource, loadUserModel, type Source, userSource } from './sources.js';
export { loadState, saveState } from './stateFile.js';
