/** Alrao (All Learning Rates At Once): per-feature random rates, classifier copies, switch averaging. */
export {
  type AlraoHeadRatesOptions,
  type AlraoTask,
  alraoHeadRates,
} from './heads.js';
export {
  type AlraoCallbacks,
  type AlraoFitArgs,
  type AlraoHistory,
  type AlraoLogs,
  AlraoModel,
  type WrapOptions,
  wrap,
} from './model.js';
export { type AlraoPresetOptions, type AlraoSgdOptions, alraoAdam, alraoSgd, CATALOG } from './presets.js';
export {
  type AlraoMomentumOptions,
  type AlraoRatesOptions,
  alraoMomentum,
  alraoRates,
  headRates,
  logUniform,
  type RateLayout,
  rateLayout,
} from './rates.js';
export { withoutLastLayer } from './split.js';
export {
  logSumExp,
  NON_FINITE_LOG_LIKELIHOOD,
  SwitchAveraging,
  type SwitchOptions,
  type SwitchState,
} from './switch.js';
