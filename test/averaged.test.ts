/** DoG's iterate averaging as the optimizer's evaluation point (AveragedOptimizer). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasEvalPoint, withEvalPoint } from '../src/core/evalPoint.js';
import * as lrfree from '../src/node.js';
import {
  bitEqual,
  maxAbsDiff,
  snapshotWeights,
  tinyMlp,
  toyClassification,
  useBackend,
} from './helpers/tf.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const FIT = { batchSize: 8, shuffle: false, verbose: 0 as const, epochs: 1 };

describe('dog({ average })', () => {
  beforeAll(() => useBackend('cpu'));

  it('trains exactly as dog(); its evaluation point is the averager of the same iterates', async () => {
    const { x, y } = toyClassification(48, 5, 3, 8);
    const plain = tinyMlp(5, 7, 3);
    plain.compile({ optimizer: lrfree.dog({ repsRel: 1e-4 }), loss: 'categoricalCrossentropy' });
    const external = lrfree.averager(
      plain.trainableWeights.map((w) => w.read() as tf.Variable),
      { gamma: 8 },
    );
    await plain.fit(x, y, { ...FIT, callbacks: [external.callback()] });

    const model = tinyMlp(5, 7, 3);
    const opt = lrfree.dog({ repsRel: 1e-4, average: true }) as lrfree.AveragedOptimizer;
    expect(opt).toBeInstanceOf(lrfree.AveragedOptimizer);
    expect(hasEvalPoint(opt)).toBe(true);
    expect(hasEvalPoint(lrfree.dog())).toBe(false);
    model.compile({ optimizer: opt, loss: 'categoricalCrossentropy' });
    await model.fit(x, y, FIT);
    expect(bitEqual(snapshotWeights(model), snapshotWeights(plain))).toBe(true); // training unchanged
    const atAvg = withEvalPoint(opt, { model }, () => snapshotWeights(model));
    const expected = external.averaged().map((t) => t.dataSync() as Float32Array);
    expect(bitEqual(atAvg, expected)).toBe(true);
    expect(bitEqual(snapshotWeights(model), snapshotWeights(plain))).toBe(true); // left exactly

    // Stepping at the evaluation point is refused.
    const leave = opt.enterEvalPoint({ model });
    await expect(model.fit(x, y, FIT)).rejects.toThrow(/averaged weights are in the model/);
    leave();

    // Save + load + train == train straight, average included.
    const dir = mkdtempSync(join(tmpdir(), 'lrfree-avg-'));
    dirs.push(dir);
    await model.save(lrfree.io.fileSystem(dir), { includeOptimizer: true });
    const loaded = await tf.loadLayersModel(lrfree.io.fileSystem(dir));
    const ropt = loaded.optimizer as lrfree.AveragedOptimizer;
    expect(ropt).toBeInstanceOf(lrfree.AveragedOptimizer);
    expect(ropt.getConfig()).toEqual(opt.getConfig());
    await loaded.fit(x, y, FIT);
    await model.fit(x, y, FIT);
    expect(maxAbsDiff(snapshotWeights(loaded), snapshotWeights(model))).toBeLessThan(1e-6);
    const a1 = withEvalPoint(opt, { model }, () => snapshotWeights(model));
    const a2 = withEvalPoint(ropt, { model: loaded }, () => snapshotWeights(loaded));
    expect(maxAbsDiff(a1, a2)).toBeLessThan(1e-6);
    expect(ropt.averager?.steps).toBe(12);
    tf.dispose([x, y]);
    external.dispose();
    for (const m of [plain, model, loaded]) m.dispose();
  });
});
