import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import * as lrfree from '../src/node.js';
import {
  BACKENDS,
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

const MAKERS: Record<string, () => lrfree.LrfreeOptimizer> = {
  momentum: () => lrfree.momentum(0.05, 0.9, { nesterov: true }),
  adam: () => lrfree.adam(0.01),
  'adam+warmup+cosine': () =>
    lrfree.optimizer({
      direction: lrfree.directions.adam({ weightDecay: 1e-3 }),
      step: lrfree.scheduled(0.01, lrfree.cosine({ totalSteps: 40, minFactor: 0.1 })),
      schedule: lrfree.warmup({ steps: 5 }),
      seed: 42,
    }),
};

describe.each(BACKENDS)('save/restore with includeOptimizer on %s', (backend) => {
  it.each(Object.keys(MAKERS))('%s: 20 steps + save + load + 20 steps == 40 steps straight', async (name) => {
    await useBackend(backend);
    const { x, y } = toyClassification(20 * 8, 5, 3, 9);
    const fitOpts = { batchSize: 8, shuffle: false, verbose: 0 as const };

    const straight = tinyMlp(5, 7, 3);
    straight.compile({ optimizer: MAKERS[name](), loss: 'categoricalCrossentropy' });
    await straight.fit(x, y, { ...fitOpts, epochs: 2 });

    const first = tinyMlp(5, 7, 3);
    first.compile({ optimizer: MAKERS[name](), loss: 'categoricalCrossentropy' });
    await first.fit(x, y, { ...fitOpts, epochs: 1 });
    const dir = mkdtempSync(join(tmpdir(), 'lrfree-ckpt-'));
    dirs.push(dir);
    await first.save(lrfree.io.fileSystem(dir), { includeOptimizer: true });
    const resumed = await tf.loadLayersModel(lrfree.io.fileSystem(dir));
    const opt = resumed.optimizer as lrfree.LrfreeOptimizer;
    expect(opt).toBeInstanceOf(lrfree.LrfreeOptimizer);
    expect(opt.counters.steps).toBe(20);
    expect(opt.getConfig()).toEqual((first.optimizer as lrfree.LrfreeOptimizer).getConfig());
    await resumed.fit(x, y, { ...fitOpts, epochs: 1 });
    expect(opt.counters.steps).toBe(40);

    const a = snapshotWeights(straight);
    const b = snapshotWeights(resumed);
    if (backend === 'cpu') expect(bitEqual(a, b)).toBe(true);
    else expect(maxAbsDiff(a, b)).toBeLessThan(1e-5);
    // Without the optimizer state the trajectory differs: the test can fail.
    const fresh = await tf.loadLayersModel(lrfree.io.fileSystem(dir));
    fresh.compile({ optimizer: MAKERS[name](), loss: 'categoricalCrossentropy' });
    await fresh.fit(x, y, { ...fitOpts, epochs: 1 });
    expect(maxAbsDiff(a, snapshotWeights(fresh))).toBeGreaterThan(1e-4);
    tf.dispose([x, y]);
    for (const m of [straight, first, resumed, fresh]) m.dispose();
  });
});

describe('optimizer config round trip', () => {
  it('fromConfig(getConfig()) rebuilds the same composition', async () => {
    await useBackend('cpu');
    const opt = MAKERS['adam+warmup+cosine']();
    const again = lrfree.LrfreeOptimizer.fromConfig(
      lrfree.LrfreeOptimizer,
      opt.getConfig(),
    ) as lrfree.LrfreeOptimizer;
    expect(again).toBeInstanceOf(lrfree.LrfreeOptimizer);
    expect(again.getConfig()).toEqual(opt.getConfig());
    expect(again.direction.kind).toBe('adam');
    expect(again.schedule?.multiplier(3)).toBeCloseTo(0.6, 12);
  });

  it('setWeights refuses state from a different composition, saying why', async () => {
    await useBackend('cpu');
    const w = tf.variable(tf.ones([3]));
    const a = lrfree.adam(0.1);
    a.minimize(() => tf.sum(tf.square(w)) as tf.Scalar, false, [w]);
    const saved = await a.getWeights();
    const m = lrfree.momentum(0.1);
    await expect(m.setWeights(saved)).rejects.toThrow(/saved state does not fit this optimizer/);
    w.dispose();
  });
});
