/** Ruling the optimizer out before a red flag blames the data. */
import type * as tf from '@tensorflow/tfjs';
import type { DiagnosticData, LossSpec } from '../common.js';
import { type ShortRun, shortRun } from '../recommend.js';

/** The runs a recheck makes: Adam at 1e-3 (a setting that learns on most problems) for `steps` steps. */
export async function recheckRuns(
  model: tf.LayersModel,
  data: DiagnosticData,
  steps: number,
  common: { batchSize: number; seed: number; loss?: LossSpec; signal?: AbortSignal },
): Promise<ShortRun[]> {
  return [await shortRun(model, data, { variant: 'adam', lr: 1e-3 }, { steps, ...common })];
}
