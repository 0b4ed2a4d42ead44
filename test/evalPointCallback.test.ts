/**
 * The evaluation point through model.fit: after fit the model holds x (Schedule-Free) or the average
 * (averager), BN statistics recomputed; evaluate/predict/save use it; the next fit resumes exactly.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withEvalPoint } from '../src/core/evalPoint.js';
import * as lrfree from '../src/node.js';
import { bitEqual, snapshotWeights, tinyMlp, toyClassification, useBackend } from './helpers/tf.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const FIT = { batchSize: 8, shuffle: false, verbose: 0 as const, epochs: 1 };

describe('evalPointCallback', () => {
  beforeAll(() => useBackend('cpu'));

  it('Schedule-Free + batch norm: after fit the model holds x with recomputed statistics; the next fit resumes exactly', async () => {
    const { x, y } = toyClassification(48, 5, 3, 4);
    // Twin trained without the callback: its x (via the contract) is what the callback model must hold.
    const twin = tinyMlp(5, 7, 3, { bn: true });
    const twinOpt = lrfree.scheduleFreeSgd({ lr: 0.5 });
    twin.compile({ optimizer: twinOpt, loss: 'categoricalCrossentropy' });
    await twin.fit(x, y, FIT);
    const twinAtX = withEvalPoint(twinOpt, { model: twin, trainX: x }, () => snapshotWeights(twin));

    const model = tinyMlp(5, 7, 3, { bn: true });
    const opt = lrfree.scheduleFreeSgd({ lr: 0.5 });
    model.compile({ optimizer: opt, loss: 'categoricalCrossentropy' });
    const cb = lrfree.evalPointCallback(opt, { trainX: x });
    await model.fit(x, y, { ...FIT, callbacks: [cb] });
    expect(cb.atEvalPoint).toBe(true);
    expect(opt.trainMode).toBe(false);
    expect(bitEqual(snapshotWeights(model), twinAtX)).toBe(true); // weights and BN statistics at x
    // evaluate and predict see x: the same numbers as the twin evaluated at x.
    const evalModel = (model.evaluate(x, y) as tf.Scalar).dataSync()[0];
    const evalTwin = withEvalPoint(
      twinOpt,
      { model: twin, trainX: x },
      () => (twin.evaluate(x, y) as tf.Scalar).dataSync()[0],
    );
    expect(evalModel).toBe(evalTwin);
    // save works (Schedule-Free refuses to save at y) and holds x.
    const dir = mkdtempSync(join(tmpdir(), 'lrfree-cb-'));
    dirs.push(dir);
    await model.save(lrfree.io.fileSystem(dir), { includeOptimizer: true });
    const loaded = await tf.loadLayersModel(lrfree.io.fileSystem(dir));
    expect(bitEqual(snapshotWeights(loaded), twinAtX)).toBe(true);

    // Resume: the second fit starts from y with the training statistics, as the twin continues.
    await twin.fit(x, y, FIT);
    await model.fit(x, y, { ...FIT, callbacks: [cb] });
    const twinAtX2 = withEvalPoint(twinOpt, { model: twin, trainX: x }, () => snapshotWeights(twin));
    expect(bitEqual(snapshotWeights(model), twinAtX2)).toBe(true);
    expect(opt.counters.steps).toBe(12);
    cb.leave();
    expect(bitEqual(snapshotWeights(model), snapshotWeights(twin))).toBe(true); // back at y exactly

    // A checkpoint restored at x resumes through the callback too (leaveEvalPoint puts y back).
    const ropt = loaded.optimizer as lrfree.ScheduleFreeOptimizer;
    ropt.attachModel(loaded);
    await loaded.fit(x, y, { ...FIT, callbacks: [lrfree.evalPointCallback(ropt, { trainX: x })] });
    expect(ropt.counters.steps).toBe(12);
    tf.dispose([x, y]);
    for (const m of [twin, model, loaded]) m.dispose();
  });

  it('averager: after fit the model holds the average; training resumes from the training weights', async () => {
    const { x, y } = toyClassification(48, 5, 3, 5);
    const model = tinyMlp(5, 7, 3);
    model.compile({ optimizer: lrfree.dog({ repsRel: 1e-4 }), loss: 'categoricalCrossentropy' });
    const avg = lrfree.averager(model);
    const cb = lrfree.evalPointCallback(avg);
    await model.fit(x, y, { ...FIT, callbacks: [avg.callback(), cb] });
    expect(
      bitEqual(
        snapshotWeights(model),
        avg.averaged().map((t) => t.dataSync() as Float32Array),
      ),
    ).toBe(true);
    cb.leave();
    const training = snapshotWeights(model);
    await model.fit(x, y, { ...FIT, callbacks: [avg.callback(), cb] });
    expect(avg.steps).toBe(12);
    cb.leave();
    expect(bitEqual(snapshotWeights(model), training)).toBe(false); // it trained on
    avg.dispose();
    tf.dispose([x, y]);
    model.dispose();
  });

  it('the atX helpers accept any evaluation point (averager), old names and general names alike', async () => {
    const { x, y } = toyClassification(32, 5, 3, 6);
    const model = tinyMlp(5, 7, 3, { bn: true });
    const opt = lrfree.sgd(0.1);
    model.compile({ optimizer: opt, loss: 'categoricalCrossentropy' });
    const avg = lrfree.averager(model);
    await model.fit(x, y, { ...FIT, callbacks: [avg.callback()] });
    const atY = snapshotWeights(model);
    const seen = await lrfree.atX(model, avg, () => snapshotWeights(model), { trainX: x });
    expect(bitEqual(seen, atY)).toBe(false);
    expect(bitEqual(snapshotWeights(model), atY)).toBe(true);
    const p1 = (await lrfree.predictAtX(model, avg, x, { trainX: x })) as tf.Tensor;
    const p2 = (await lrfree.predictAtEvalPoint(model, avg, x, { trainX: x })) as tf.Tensor;
    expect(bitEqual([p1.dataSync() as Float32Array], [p2.dataSync() as Float32Array])).toBe(true);
    // A plain optimizer has no evaluation point: fn runs as is.
    expect(lrfree.atEvalPoint).toBe(lrfree.atX);
    await lrfree.evaluateAtEvalPoint(model, opt, x, y);
    expect(() => lrfree.evalPointCallback(opt as never)).toThrow(lrfree.LrfreeConfigError);
    tf.dispose([x, y, p1, p2]);
    avg.dispose();
    model.dispose();
  });
});
