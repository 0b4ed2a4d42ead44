/**
 * The public `lrfree.steps` namespace (also spread into the root): the step rules of src/steps/ plus Alrao's
 * per-feature random rates, which live in src/alrao/ (a layer above steps, so src/steps/index.ts cannot
 * re-export them).
 */
export { type AlraoRatesOptions, alraoRates } from '../alrao/rates.js';
export * from '../steps/index.js';
