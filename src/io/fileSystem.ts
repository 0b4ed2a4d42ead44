/**
 * A file-system IO handler for `model.save` / `tf.loadLayersModel` in Node, since tfjs-node's `file://`
 * scheme is not available without tfjs-node. `node:fs` is loaded when the handler saves or loads, so
 * browser-safe modules (Alrao's save/load) may import this file. Writes the standard TF.js layout: `model.json` plus
 * `weights.bin`, loadable by any TF.js (including tfjs-node and the browser).
 */
import type * as tf from '@tensorflow/tfjs';
import { nodeFiles } from '../core/platform.js';
import { LrfreeConfigError } from '../core/validate.js';

type IOHandler = tf.io.IOHandler;
type ModelArtifacts = tf.io.ModelArtifacts;

/**
 * An IO handler that saves to / loads from the directory `dir`.
 *
 * @example
 * ```ts
 * await model.save(lrfree.io.fileSystem('./checkpoint'), { includeOptimizer: true });
 * const again = await tf.loadLayersModel(lrfree.io.fileSystem('./checkpoint'));
 * ```
 */
export function fileSystem(dir: string): IOHandler {
  return {
    async save(artifacts: ModelArtifacts) {
      const { fs, path } = await nodeFiles('io.fileSystem');
      const { mkdirSync, writeFileSync } = fs;
      const modelPath = path.join(dir, 'model.json');
      const weightsPath = path.join(dir, 'weights.bin');
      if (artifacts.modelTopology instanceof ArrayBuffer) {
        throw new LrfreeConfigError(
          'io.fileSystem: binary model topologies are not supported; save a LayersModel.',
        );
      }
      mkdirSync(dir, { recursive: true });
      const data = concatWeightData(artifacts.weightData);
      writeFileSync(weightsPath, data);
      const json = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        trainingConfig: artifacts.trainingConfig,
        userDefinedMetadata: artifacts.userDefinedMetadata,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
      };
      writeFileSync(modelPath, JSON.stringify(json));
      return {
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: 'JSON',
          modelTopologyBytes: JSON.stringify(artifacts.modelTopology).length,
          weightSpecsBytes: JSON.stringify(artifacts.weightSpecs ?? []).length,
          weightDataBytes: data.byteLength,
        },
      };
    },
    async load() {
      const { fs, path } = await nodeFiles('io.fileSystem');
      const { readFileSync } = fs;
      const { join } = path;
      const modelPath = join(dir, 'model.json');
      let json: {
        modelTopology?: object;
        weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
        [k: string]: unknown;
      };
      try {
        json = JSON.parse(readFileSync(modelPath, 'utf8'));
      } catch (e) {
        throw new LrfreeConfigError(
          `io.fileSystem: cannot read ${modelPath}: ${(e as Error).message}. ` +
            'Point it at a folder written by model.save(lrfree.io.fileSystem(dir)).',
        );
      }
      if (!json.modelTopology || !Array.isArray(json.weightsManifest)) {
        throw new LrfreeConfigError(
          `io.fileSystem: ${modelPath} is not a TF.js model.json (needs 'modelTopology' and 'weightsManifest').`,
        );
      }
      const weightSpecs: tf.io.WeightsManifestEntry[] = [];
      const buffers: Uint8Array[] = [];
      for (const group of json.weightsManifest) {
        weightSpecs.push(...group.weights);
        for (const p of group.paths) buffers.push(new Uint8Array(readFileSync(join(dir, p))));
      }
      const total = buffers.reduce((a, b) => a + b.byteLength, 0);
      const weightData = new Uint8Array(total);
      let offset = 0;
      for (const b of buffers) {
        weightData.set(b, offset);
        offset += b.byteLength;
      }
      return {
        modelTopology: json.modelTopology,
        weightSpecs,
        weightData: weightData.buffer,
        format: json.format as string | undefined,
        generatedBy: json.generatedBy as string | undefined,
        convertedBy: json.convertedBy as string | null | undefined,
        trainingConfig: json.trainingConfig as tf.io.TrainingConfig | undefined,
        userDefinedMetadata: json.userDefinedMetadata as ModelArtifacts['userDefinedMetadata'],
      };
    },
  };
}

function concatWeightData(data: ModelArtifacts['weightData']): Uint8Array {
  if (!data) return new Uint8Array(0);
  const parts = Array.isArray(data) ? data : [data];
  const total = parts.reduce((a, b) => a + b.byteLength, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(new Uint8Array(p), offset);
    offset += p.byteLength;
  }
  return out;
}
