import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { trainCurve } from '../../src/diagnostics/curves.js';
import {
  majorityShare,
  type ProcedureInterrupted,
  type ProcedureOptions,
  type ProcedureState,
  procedure,
  STEPS,
} from '../../src/diagnostics/procedure.js';
import { barrierFlag, cliffFlag } from '../../src/diagnostics/redFlags.js';
import { loadState, saveState } from '../../src/diagnostics/stateFile.js';
import { permutation } from '../../src/train/classification.js';
import { bitEqual, snapshotWeights, tinyMlp, toyClassification, useBackend } from '../helpers/tf.js';

beforeAll(async () => {
  await useBackend('cpu');
});

const FAST: ProcedureOptions = {
  epochs: 3,
  batchSize: 32,
  linePoints: 11,
  rangeTest: { numIt: 80 },
  momentumTest: { numIt: 4 },
};

/** Training and validation data from the same linear teacher. */
function problem(seed = 1) {
  const all = toyClassification(480, 8, 3, seed);
  const [xt, xv] = tf.split(all.x, [320, 160]);
  const [yt, yv] = tf.split(all.y, [320, 160]);
  tf.dispose([all.x, all.y]);
  return { train: { x: xt, y: yt }, validation: { x: xv, y: yv } };
}

function shuffledLabels(y: tf.Tensor, seed: number): tf.Tensor {
  return tf.tidy(() => tf.gather(y, tf.tensor1d(permutation(y.shape[0], seed), 'int32')));
}

const ids = (s: ProcedureState) => s.redFlags.map((f) => f.id);

describe('procedure', () => {
  it('a healthy problem: all seven steps, recommendations with evidence, no bug flags, model untouched', async () => {
    const data = problem();
    const model = tinyMlp(8, 16, 3);
    const before = snapshotWeights(model);
    const n0 = tf.memory().numTensors;
    const seen: string[] = [];
    const s = await procedure(model, data, { ...FAST, onStep: (step) => void seen.push(step) });
    expect(seen).toEqual([...STEPS]);
    expect(s.completed).toEqual([...STEPS]);
    const r = s.recommendations;
    // the confirmed rate lies within the rates its short runs tried, and the evidence names the rules
    const tried = r.learningRate!.candidates.map((c) => c.lr);
    expect(r.learningRate!.method).toBe('confirmed');
    expect(r.learningRate!.value).toBeGreaterThanOrEqual(Math.min(...tried));
    expect(r.learningRate!.value).toBeLessThanOrEqual(Math.max(...tried));
    expect(r.learningRate!.evidence).toMatch(/valley/);
    // Each recommendation follows from its own evidence by the documented rule (catches a recommendation
    // wired to the wrong run, an inverted comparison, or the test's suggestion used unrounded/unchecked).
    const m = s.momentum!;
    const mu = Math.round(m.test.suggestion * 100) / 100;
    expect(m.test.momenta).toContain(m.test.suggestion);
    expect(m.helps).toBe(mu > 0 && m.with.best < 0.99 * m.without.best);
    expect(r.momentum!.value).toBe(m.helps ? mu : 0);
    const d = s.decay!;
    expect(d.improvement).toBeCloseTo((d.constant.best - d.scheduled.best) / Math.abs(d.constant.best), 12);
    expect(r.decay!.value).toBe(d.improvement > 0.01);
    expect(r.decay!.plateauEpochs).toBe(d.plateauEpochs);
    expect(r.decay!.alpha).toBeCloseTo((2 / 3) ** (1 / r.decay!.plateauEpochs), 12);
    const c = s.cyclical!;
    expect(c.constant).toBe(d.constant); // the constant run is shared, not retrained
    expect(r.cyclical!.value).toBe((c.constant.best - c.scheduled.best) / Math.abs(c.constant.best) > 0.01);
    expect(['sgd', 'momentum', 'adam']).toContain(r.variant!.value);
    expect(s.final!.curve.accuracy!.at(-1)!).toBeGreaterThan(0.6);
    expect(s.redFlags.filter((f) => f.severity === 'bug')).toEqual([]);
    // the final line's endpoints are the initial and trained losses
    const line = s.final!.line;
    expect(line.losses[line.alphas.indexOf(0)]).toBe(s.final!.curve.loss[0]);
    expect(line.losses[line.alphas.indexOf(1)]).toBe(s.final!.curve.loss.at(-1));
    // step 7's configuration is step 3's chosen run: reused (weights kept in memory), not trained again
    expect(s.final!.curve).toBe(m.helps ? m.with : m.without);
    expect(tf.memory().numTensors).toBe(n0);
    expect(bitEqual(snapshotWeights(model), before)).toBe(true);
    model.dispose();
  });

  it("step 1 along a short training run's move: alpha = 0 is the initial loss, alpha = 1 where the run ended", async () => {
    const data = problem(6);
    const model = tinyMlp(8, 16, 3);
    const s = await procedure(model, data, {
      ...FAST,
      lineDirection: 'short',
      skip: ['momentum', 'decay', 'cyclical', 'variants', 'final'],
    });
    const line = s.line!;
    expect(line.kind).toBe('given');
    expect(line.alphas[0]).toBe(0);
    expect(line.alphas.at(-1)).toBe(1.5);
    const run = await trainCurve(model, data, {
      variant: 'adam',
      lr: 1e-3,
      epochs: 1,
      batchSize: 32,
      seed: 0,
    });
    expect(line.losses[0]).toBe(run.loss[0]);
    const one = line.alphas.findIndex((a) => Math.abs(a - 1) < 1e-9);
    expect(line.losses[one]).toBeCloseTo(run.loss[1], 5);
    model.dispose();
  });

  it('Curve.best is the best trained point: a run that only made the model worse does not report its start', async () => {
    const data = problem(7);
    const model = tinyMlp(8, 16, 3);
    const good = await trainCurve(model, data, {
      variant: 'sgd',
      lr: 0.3,
      epochs: 3,
      batchSize: 32,
      seed: 0,
    });
    expect(good.best).toBe(Math.min(...good.loss.slice(1)));
    expect(good.best).toBeLessThan(good.loss[0]);
    // far too large a rate: the loss ends above the start (or not finite); the start is not its "best"
    const bad = await trainCurve(model, data, { variant: 'sgd', lr: 300, epochs: 2, batchSize: 32, seed: 0 });
    expect(bad.best <= bad.loss[0]).toBe(false);
    model.dispose();
  });

  it('shuffled labels: accuracy at chance after training is flagged', async () => {
    const data = problem(2);
    const bad = {
      train: { x: data.train.x, y: shuffledLabels(data.train.y, 5) },
      validation: { x: data.validation.x, y: shuffledLabels(data.validation.y, 6) },
    };
    const model = tinyMlp(8, 16, 3);
    const s = await procedure(model, bad, {
      ...FAST,
      skip: ['line', 'momentum', 'decay', 'cyclical', 'variants'],
    });
    expect(ids(s)).toContain('chanceAccuracy');
    expect(s.final!.curve.accuracy!.at(-1)!).toBeLessThan(majorityShare(bad.validation.y) + 0.12);
    model.dispose();
  });

  it('a loss with a sign bug: the loss falls while accuracy falls, flagged', async () => {
    const data = problem(3);
    const model = tinyMlp(8, 16, 3);
    const wrong = (y: tf.Tensor, p: tf.Tensor) => tf.neg(tf.metrics.categoricalCrossentropy(y, p));
    const s = await procedure(model, data, {
      ...FAST,
      loss: wrong,
      skip: ['line', 'momentum', 'decay', 'cyclical', 'variants'],
    });
    expect(ids(s)).toContain('lossAccuracyMismatch');
    // the healthy run of the same problem does not raise it
    const ok = await procedure(model, data, {
      ...FAST,
      skip: ['line', 'momentum', 'decay', 'cyclical', 'variants'],
    });
    expect(ids(ok)).not.toContain('lossAccuracyMismatch');
    expect(ids(ok)).not.toContain('chanceAccuracy');
    model.dispose();
  });

  it('a model that cannot learn (zero gradient): no learning rate lowers the loss', async () => {
    const data = problem(4);
    const model = tinyMlp(8, 16, 3);
    for (const l of model.layers) l.trainable = false;
    model.layers[1].trainable = true;
    // the last layer's output is overwritten by a constant: its gradient is zero
    const constantLoss = (y: tf.Tensor, p: tf.Tensor) => tf.add(tf.mul(p, 0), tf.mean(y));
    const s = await procedure(model, data, { ...FAST, loss: constantLoss, skip: ['line'] });
    expect(ids(s)).toContain('noDecrease');
    expect(s.skipped.momentum).toMatch(/no learning rate/);
    expect(s.completed).toEqual(['lr', 'final']);
    expect(s.recommendations.learningRate!.evidence).toMatch(/NOT RELIABLE/);
    model.dispose();
  });

  it('interrupted after step 2 and resumed from the saved file: the same results, the rest run once', async () => {
    const data = problem(5);
    const model = tinyMlp(8, 16, 3);
    const before = snapshotWeights(model);
    const controller = new AbortController();
    const dir = mkdtempSync(join(tmpdir(), 'lrfree-proc-'));
    const file = join(dir, 'state.json');
    const opts = { ...FAST, skip: ['variants'] as ProcedureOptions['skip'] };
    let err: ProcedureInterrupted | undefined;
    try {
      await procedure(model, data, {
        ...opts,
        signal: controller.signal,
        onStep: (step, st) => {
          saveState(file, st);
          if (step === 'lr') controller.abort();
        },
      });
    } catch (e) {
      err = e as ProcedureInterrupted;
    }
    expect(err?.name).toBe('ProcedureInterrupted');
    expect(err!.state.completed).toEqual(['line', 'lr']);
    expect(bitEqual(snapshotWeights(model), before)).toBe(true);
    const saved = loadState(file);
    expect(saved.lr!.losses).toEqual(err!.state.lr!.losses);
    const ran: string[] = [];
    const done = await procedure(model, data, { ...opts, resume: saved, onStep: (s) => void ran.push(s) });
    expect(ran).toEqual(['momentum', 'decay', 'cyclical', 'final']);
    expect(done.lr!.suggestion).toBe(err!.state.lr!.suggestion);
    const fresh = await procedure(model, data, { ...opts, skip: ['line', 'variants'] });
    expect(fresh.recommendations.momentum!.value).toBe(done.recommendations.momentum!.value);
    expect(fresh.final!.curve.loss).toEqual(done.final!.curve.loss);
    await expect(procedure(model, data, { ...opts, epochs: 4, resume: saved })).rejects.toThrow(
      /saved state/,
    );
    model.dispose();
  });

  it('an unknown lrFree or variant name is refused before step 1 runs, naming the known ones', async () => {
    const data = problem();
    const model = tinyMlp(8, 16, 3);
    const n0 = tf.memory().numTensors;
    const seen: string[] = [];
    const onStep = (step: string) => void seen.push(step);
    await expect(procedure(model, data, { ...FAST, lrFree: ['auto', 'prodigyy'], onStep })).rejects.toThrow(
      /lrFree = 'prodigyy' is not a catalog optimizer; known: .*\bprodigy\b/,
    );
    await expect(
      procedure(model, data, { ...FAST, lrFree: 'auto' as unknown as string[], onStep }),
    ).rejects.toThrow(/lrFree must be an array/);
    await expect(procedure(model, data, { ...FAST, variants: ['adamw' as 'adam'], onStep })).rejects.toThrow(
      /variants/,
    );
    expect(seen).toEqual([]);
    expect(tf.memory().numTensors).toBe(n0);
    model.dispose();
  });
});

describe('red flags on synthetic evidence', () => {
  it('barrier: a bump between the endpoints; a monotone line is clean', () => {
    const alphas = [-0.5, 0, 0.25, 0.5, 0.75, 1, 1.5];
    const line = {
      kind: 'interpolate' as const,
      normalization: 'n/a' as const,
      batchNorm: 'kept' as const,
      alphas,
    };
    expect(barrierFlag({ ...line, losses: [3, 2.3, 1.8, 1.2, 0.7, 0.4, 0.9] })).toBeUndefined();
    expect(barrierFlag({ ...line, losses: [3, 2.3, 2.6, 1.2, 0.7, 0.4, 0.9] })?.id).toBe('barrier');
  });
  it('cliff: divergence within 4x of the chosen rate', () => {
    const rt = { stopped: 'diverged', lrs: [0.01, 0.1, 0.3] } as Parameters<typeof cliffFlag>[0];
    expect(cliffFlag(rt, 0.1)?.id).toBe('cliff');
    expect(cliffFlag(rt, 0.05)).toBeUndefined();
  });
});
