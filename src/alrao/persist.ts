/**
 * Alrao's saved form (`dir/alrao.json` beside the pre-classifier's TF.js files in `dir/preclassifier`):
 * the configuration, the heads, both optimizers' state (the per-feature rates included) and the switch.
 * Node only (loaded through core/platform at call time).
 */
import * as tf from '@tensorflow/tfjs';
import type { NamedTensor } from '../core/optimizer.js';
import { nodeFiles } from '../core/platform.js';
import { LrfreeConfigError } from '../core/validate.js';
import { fileSystem } from '../io/fileSystem.js';
import type { ResolvedWrapOptions } from './options.js';
import type { SwitchState } from './switch.js';

/** One tensor in the JSON file. */
export interface SavedTensor {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  values: number[];
}

/** The content of `alrao.json`. */
export interface SavedAlrao {
  format: 'lrfree-alrao';
  version: 1;
  config: ResolvedWrapOptions & { direction: { kind: string; config: unknown } };
  steps: number;
  skipped: number;
  switchState: SwitchState;
  heads: { W: SavedTensor; b: SavedTensor };
  preOptimizer: SavedTensor[];
  headOptimizer: SavedTensor[];
}

/** Writes the pre-classifier and `saved` into `dir`. */
export async function writeAlrao(
  dir: string,
  preClassifier: tf.LayersModel,
  saved: SavedAlrao,
): Promise<void> {
  const { fs, path } = await nodeFiles('AlraoModel.save');
  fs.mkdirSync(dir, { recursive: true });
  await preClassifier.save(fileSystem(path.join(dir, 'preclassifier')));
  fs.writeFileSync(path.join(dir, 'alrao.json'), JSON.stringify(saved, replacer));
}

/** Reads what {@link writeAlrao} wrote. */
export async function readAlrao(dir: string): Promise<{ pre: tf.LayersModel; saved: SavedAlrao }> {
  const { fs, path } = await nodeFiles('AlraoModel.load');
  const file = path.join(dir, 'alrao.json');
  const saved = JSON.parse(fs.readFileSync(file, 'utf8'), reviver) as SavedAlrao;
  if (saved.format !== 'lrfree-alrao') {
    throw new LrfreeConfigError(`AlraoModel.load: ${file} is not an Alrao model.`);
  }
  const pre = await tf.loadLayersModel(fileSystem(path.join(dir, 'preclassifier')));
  return { pre, saved };
}

export function toSaved(name: string, t: tf.Tensor): SavedTensor {
  return {
    name,
    shape: [...t.shape],
    dtype: t.dtype === 'int32' ? 'int32' : 'float32',
    values: Array.from(t.dataSync()),
  };
}

export function fromSaved(s: SavedTensor): tf.Tensor {
  return tf.tensor(s.values, s.shape, s.dtype);
}

export function named(s: SavedTensor): NamedTensor {
  return { name: s.name, tensor: fromSaved(s) };
}

// JSON keeps NaN/Infinity (a diverged head, theta = 1) as tagged strings.
function replacer(_k: string, v: unknown): unknown {
  return typeof v === 'number' && !Number.isFinite(v) ? `$nf:${v}` : v;
}
function reviver(_k: string, v: unknown): unknown {
  return typeof v === 'string' && v.startsWith('$nf:') ? Number(v.slice(4)) : v;
}
