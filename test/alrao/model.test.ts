import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { mixtureLossOfFeatures } from '../../src/alrao/heads.js';
import { type AlraoModel, wrap } from '../../src/alrao/model.js';
import { SwitchAveraging } from '../../src/alrao/switch.js';
import { adam } from '../../src/directions/adam.js';
import { bitEqual, maxAbsDiff, snapshotWeights, uniformArray, useBackend } from '../helpers/tf.js';

beforeAll(async () => {
  await useBackend('cpu');
});

/** A pre-classifier d -> hidden (Dense + optional BatchNorm + tanh), deterministic. */
function pre(d: number, hidden: number, opts: { bn?: boolean; dropout?: number } = {}): tf.LayersModel {
  const input = tf.input({ shape: [d] });
  let h = tf.layers
    .dense({ units: hidden, kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) })
    .apply(input) as tf.SymbolicTensor;
  if (opts.bn) h = tf.layers.batchNormalization().apply(h) as tf.SymbolicTensor;
  h = tf.layers.activation({ activation: 'tanh' }).apply(h) as tf.SymbolicTensor;
  if (opts.dropout) h = tf.layers.dropout({ rate: opts.dropout }).apply(h) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: h });
}

/** Linearly separable-ish data: x [n, d], integer labels from a random linear teacher. */
function data(n: number, d: number, k: number, seed = 1): { x: tf.Tensor2D; y: tf.Tensor1D } {
  return tf.tidy(() => {
    const x = tf.tensor2d(uniformArray(n * d, seed), [n, d]);
    const w = tf.tensor2d(uniformArray(d * k, seed + 1), [d, k]);
    return { x, y: tf.argMax(tf.matMul(x, w), 1).toInt() as tf.Tensor1D };
  });
}

/** The mixture loss written plainly, head by head (the textbook form, autodiff gradients). */
function plainMixture(
  z: tf.Tensor2D,
  W: tf.Tensor3D,
  b: tf.Tensor2D,
  y: tf.Tensor2D,
  logPost: number[],
  task: 'classification' | 'regression',
): { loss: tf.Scalar; ownSum: tf.Scalar; meanLl: tf.Tensor1D } {
  const k = W.shape[1];
  const lls: tf.Tensor1D[] = [];
  for (let j = 0; j < k; j++) {
    const wj = tf.squeeze(tf.slice(W, [0, j, 0], [-1, 1, -1]), [1]);
    const bj = tf.squeeze(tf.slice(b, [j, 0], [1, -1]), [0]);
    const out = tf.add(tf.matMul(z, wj), bj);
    const ll =
      task === 'classification'
        ? tf.sum(tf.mul(tf.logSoftmax(out), y), 1)
        : tf.sub(
            tf.mul(tf.sum(tf.square(tf.sub(out, y)), 1), -0.5),
            (y.shape[1] / 2) * Math.log(2 * Math.PI),
          );
    lls.push(ll as tf.Tensor1D);
  }
  const joint = tf.stack(
    lls.map((ll, j) => tf.add(ll, logPost[j])),
    1,
  );
  const loss = tf.neg(tf.mean(tf.logSumExp(joint, 1))) as tf.Scalar;
  const ownSum = tf.addN(lls.map((ll) => tf.neg(tf.mean(ll)))) as tf.Scalar;
  return { loss, ownSum, meanLl: tf.stack(lls.map((ll) => tf.mean(ll))) as tf.Tensor1D };
}

describe('Alrao heads: closed-form gradients', () => {
  it.each(['classification', 'regression'] as const)(
    '%s: mixture gradient for the features and own-loss gradients for the heads match autodiff of the plain form',
    (task) => {
      const z = tf.tensor2d(uniformArray(5 * 3, 1), [5, 3]);
      const W = tf.tensor3d(uniformArray(3 * 4 * 2, 2), [3, 4, 2]);
      const b = tf.tensor2d(uniformArray(4 * 2, 3), [4, 2]);
      const y =
        task === 'classification'
          ? tf.oneHot(tf.tensor1d([0, 1, 1, 0, 1], 'int32'), 2).toFloat()
          : tf.tensor2d(uniformArray(10, 4), [5, 2]);
      const raw = [0.1, -1, 0.5, -2];
      const m = Math.log(raw.reduce((a, v) => a + Math.exp(v), 0));
      const logPost = raw.map((v) => v - m);
      const lp = tf.tensor1d(logPost);
      let heads: { meanLogLik: tf.Tensor; dW: tf.Tensor; db: tf.Tensor } | undefined;
      const f = mixtureLossOfFeatures(W, b, y as tf.Tensor2D, lp, task, (h) => {
        heads = h;
      });
      const { value, grad } = tf.valueAndGrad((zz: tf.Tensor) => f(zz as tf.Tensor2D))(z);
      const ref = plainMixture(z, W, b, y as tf.Tensor2D, logPost, task);
      expect(value.dataSync()[0]).toBeCloseTo(ref.loss.dataSync()[0], 5);
      const refDz = tf.grad(
        (zz: tf.Tensor) => plainMixture(zz as tf.Tensor2D, W, b, y as tf.Tensor2D, logPost, task).loss,
      )(z);
      expect(maxAbsDiff([grad.dataSync()], [refDz.dataSync()])).toBeLessThan(1e-6);
      const [refDW, refDb] = tf.grads(
        (ww: tf.Tensor, bb: tf.Tensor) =>
          plainMixture(z, ww as tf.Tensor3D, bb as tf.Tensor2D, y as tf.Tensor2D, logPost, task).ownSum,
      )([W, b]);
      expect(maxAbsDiff([heads!.dW.dataSync()], [refDW.dataSync()])).toBeLessThan(1e-6);
      expect(maxAbsDiff([heads!.db.dataSync()], [refDb.dataSync()])).toBeLessThan(1e-6);
      expect(maxAbsDiff([heads!.meanLogLik.dataSync()], [ref.meanLl.dataSync()])).toBeLessThan(1e-5);
      tf.dispose([z, W, b, y, lp, value, grad, refDz, refDW, refDb, ref.loss, ref.ownSum, ref.meanLl]);
      tf.dispose([heads!.meanLogLik, heads!.dW, heads!.db]);
    },
  );
});

describe('alrao.wrap: one step equals the published update', () => {
  it('pre-classifier: w - rate_f * grad L_mix; head j: W_j - eta_j * grad own NLL_j; switch fed the batch-mean log-likelihoods', async () => {
    const { x, y } = data(16, 3, 2, 5);
    const model = wrap(pre(3, 4), { classes: 2, copies: 3, minLr: 1e-3, maxLr: 1, seed: 7 });
    const yh = tf.oneHot(y, 2).toFloat() as tf.Tensor2D;
    const [kernel, bias] = model.preClassifier.trainableWeights.map((w) => w.read() as tf.Variable);
    const k0 = kernel.arraySync() as number[][];
    const W0 = model.heads.kernel.clone() as tf.Tensor3D;
    const b0 = model.heads.bias.clone() as tf.Tensor2D;
    const logPost0 = model.logPosterior();
    // Independent gradients at the starting point, from the plain form.
    const z0 = model.preClassifier.apply(x, { training: true }) as tf.Tensor2D;
    const refPlain = plainMixture(z0, W0, b0, yh, logPost0, 'classification');
    const meanLl = Array.from(refPlain.meanLl.dataSync());
    const { grads } = tf.variableGrads(
      () =>
        plainMixture(
          model.preClassifier.apply(x, { training: true }) as tf.Tensor2D,
          W0,
          b0,
          yh,
          logPost0,
          'classification',
        ).loss,
      [kernel, bias],
    );
    const [dW, db] = tf.grads(
      (ww: tf.Tensor, bb: tf.Tensor) =>
        plainMixture(z0, ww as tf.Tensor3D, bb as tf.Tensor2D, yh, logPost0, 'classification').ownSum,
    )([W0, b0]);

    const loss = model.trainOnBatch(x, y);
    expect(loss).toBeCloseTo(refPlain.loss.dataSync()[0], 5);
    const rates = (await model.preClassifierOptimizer.getWeights()).find(
      (w) => w.name === `${kernel.name}/rate`,
    )!;
    const r = rates.tensor.dataSync();
    const g = grads[kernel.name].arraySync() as number[][];
    const k1 = kernel.arraySync() as number[][];
    k0.forEach((row, i) => {
      row.forEach((w, f) => {
        expect(k1[i][f]).toBeCloseTo(w - r[f] * g[i][f], 5);
      });
    });
    const W1 = model.heads.kernel.bufferSync();
    const W0b = W0.bufferSync();
    const dWb = dW.bufferSync();
    for (let i = 0; i < 4; i++)
      for (let j = 0; j < 3; j++)
        for (let c = 0; c < 2; c++)
          expect(W1.get(i, j, c)).toBeCloseTo(W0b.get(i, j, c) - model.headRates[j] * dWb.get(i, j, c), 5);
    expect(model.headRates.map((e) => Math.log10(e))).toEqual(
      [-3, -1.5, 0].map((e) => expect.closeTo(e, 12)),
    );
    const sw = new SwitchAveraging(3);
    sw.update(meanLl);
    model.posterior().forEach((p, j) => {
      expect(p).toBeCloseTo(sw.posterior()[j], 6);
    });
    tf.dispose([
      x,
      y,
      yh,
      W0,
      b0,
      z0,
      refPlain.loss,
      refPlain.ownSum,
      refPlain.meanLl,
      dW,
      db,
      ...Object.values(grads),
    ]);
    model.dispose();
  });
});

describe('alrao.wrap: behaviour', () => {
  it('learns a toy task; predict gives log-probabilities of the mixture; the posterior concentrates', async () => {
    const { x, y } = data(256, 4, 3, 11);
    const model = wrap(pre(4, 16, { bn: true }), { classes: 3, seed: 1 });
    const before = model.evaluate(x, y);
    await model.fit(x, y, { epochs: 6, batchSize: 32, verbose: 0 });
    const after = model.evaluate(x, y);
    expect(after.acc).toBeGreaterThan(0.85);
    expect(after.loss).toBeLessThan(0.6 * before.loss);
    const p = model.predict(x);
    const sums = tf.tidy(() => tf.sum(tf.exp(p), 1).dataSync());
    for (const s of sums) expect(s).toBeCloseTo(1, 5);
    expect(Math.max(...model.posterior())).toBeGreaterThan(0.5);
    tf.dispose([x, y, p]);
    model.dispose();
  });

  it('a diverged head (NaN weights) gets weight ~0; predictions and the other heads stay finite', () => {
    const { x, y } = data(64, 4, 3, 2);
    const model = wrap(pre(4, 8), { classes: 3, copies: 4, minLr: 1e-3, maxLr: 1, seed: 2 });
    tf.tidy(() => {
      const mask = tf.reshape(tf.tensor1d([0, 0, 1, 0]), [1, 4, 1]).toBool();
      model.heads.kernel.assign(
        tf.where(
          tf.broadcastTo(mask, model.heads.kernel.shape),
          tf.fill(model.heads.kernel.shape, Number.NaN),
          model.heads.kernel,
        ),
      );
    });
    for (let s = 0; s < 40; s++) expect(Number.isFinite(model.trainOnBatch(x, y))).toBe(true);
    expect(model.skipped).toBe(0);
    expect(model.posterior()[2]).toBeLessThan(0.03);
    const p = model.predict(x);
    expect(p.dataSync().every(Number.isFinite)).toBe(true);
    const W = model.heads.kernel.bufferSync();
    expect(Number.isFinite(W.get(0, 1, 0)) && Number.isNaN(W.get(0, 2, 0))).toBe(true);
    expect(snapshotWeights(model.preClassifier).every((a) => a.every(Number.isFinite))).toBe(true);
    tf.dispose([x, y, p]);
    model.dispose();
  });

  it('non-finite features skip the whole step: no weight and no switch update', () => {
    const model = wrap(pre(2, 3), { classes: 2, copies: 3 });
    const x = tf.tensor2d([1, Number.NaN, 0, 1], [2, 2]);
    const y = tf.tensor1d([0, 1], 'int32');
    const w0 = snapshotWeights(model.preClassifier);
    const h0 = model.heads.kernel.dataSync().slice();
    expect(Number.isNaN(model.trainOnBatch(x, y))).toBe(true);
    expect(model.skipped).toBe(1);
    expect(model.steps).toBe(0);
    expect(bitEqual(snapshotWeights(model.preClassifier), w0)).toBe(true);
    expect(bitEqual([model.heads.kernel.dataSync() as Float32Array], [h0 as Float32Array])).toBe(true);
    expect(model.logPosterior()).toEqual(new SwitchAveraging(3).logPosterior());
    expect(model.preClassifierOptimizer.counters.skipped).toBe(1);
    tf.dispose([x, y]);
    model.dispose();
  });

  it('regression: Gaussian heads learn a linear map; best-head and posterior-mean predictions', async () => {
    const x = tf.tensor2d(uniformArray(200 * 3, 4), [200, 3]);
    const y = tf.tidy(() => tf.matMul(x, tf.tensor2d([1, -2, 0.5, 1, -1, 0.3], [3, 2])));
    const model = wrap(pre(3, 16), {
      classes: 2,
      task: 'regression',
      copies: 5,
      minLr: 1e-3,
      maxLr: 1,
      seed: 3,
    });
    const before = model.evaluate(x, y);
    await model.fit(x, y, { epochs: 20, batchSize: 20, verbose: 0 });
    const after = model.evaluate(x, y);
    expect(after.mse).toBeLessThan(0.1 * before.mse);
    // The best head is not the smallest rate.
    expect(model.posterior().indexOf(Math.max(...model.posterior()))).toBeGreaterThan(0);
    tf.dispose([x, y]);
    model.dispose();
  });

  it('catch-up copies the posterior-weighted average into lagging heads', () => {
    const { x, y } = data(64, 4, 3, 9);
    const model = wrap(pre(4, 8), {
      classes: 3,
      copies: 4,
      minLr: 1e-4,
      maxLr: 1,
      seed: 4,
      catchUp: { every: 1000, threshold: -2 },
    });
    for (let s = 0; s < 30; s++) model.trainOnBatch(x, y);
    const post = model.posterior();
    const lagging = model.logPosterior().flatMap((l, j) => (l < -2 ? [j] : []));
    expect(lagging.length).toBeGreaterThan(0);
    const W = model.heads.kernel.arraySync() as number[][][];
    const expected = W.map((row) =>
      row[0].map((_, c) => row.reduce((a, head, j) => a + post[j] * head[c], 0)),
    );
    expect(model.catchUp(-2)).toEqual(lagging);
    const W1 = model.heads.kernel.arraySync() as number[][][];
    for (const j of lagging) {
      W1.forEach((row, i) => {
        row[j].forEach((v, c) => {
          expect(v).toBeCloseTo(expected[i][c], 5);
        });
      });
    }
    tf.dispose([x, y]);
    model.dispose();
  });

  // Catches Alrao-Adam ignoring the per-feature / per-head rates, using SGD in one part, or resetting the
  // Adam moments between steps: three steps against float64 Adam fed with the plain-form gradients.
  it('Alrao-Adam: w -= rate_f * Adam(grad L_mix); W_j -= eta_j * Adam(grad own NLL_j); 3 steps, float64 Adam', async () => {
    const { x, y } = data(32, 3, 2, 3);
    const model = wrap(pre(3, 4), {
      classes: 2,
      copies: 3,
      direction: adam(),
      minLr: 1e-3,
      maxLr: 1e-1,
      seed: 4,
    });
    expect(model.preClassifierOptimizer.direction.kind).toBe('adam');
    const yh = tf.oneHot(y, 2).toFloat() as tf.Tensor2D;
    const vars = model.preClassifier.trainableWeights.map((w) => w.read() as tf.Variable);
    const kernel = vars[0];
    const moments = (n: number) => ({ m: new Float64Array(n), v: new Float64Array(n) });
    const mk = moments(kernel.size);
    const mW = moments(model.heads.kernel.size);
    const adamDir = (st: { m: Float64Array; v: Float64Array }, g: number, i: number, k: number) => {
      st.m[i] = 0.9 * st.m[i] + 0.1 * g;
      st.v[i] = 0.999 * st.v[i] + 0.001 * g * g;
      return st.m[i] / (1 - 0.9 ** k) / (Math.sqrt(st.v[i] / (1 - 0.999 ** k)) + 1e-7);
    };
    let r: ArrayLike<number> = [];
    const [, H] = kernel.shape as number[];
    const C = 2;
    for (let k = 1; k <= 3; k++) {
      const k0 = kernel.dataSync().slice();
      const W0 = model.heads.kernel.clone() as tf.Tensor3D;
      const b0 = model.heads.bias.clone() as tf.Tensor2D;
      const W0d = W0.dataSync().slice();
      const logPost = model.logPosterior();
      const z0 = model.preClassifier.apply(x, { training: true }) as tf.Tensor2D;
      const { grads } = tf.variableGrads(
        () =>
          plainMixture(
            model.preClassifier.apply(x, { training: true }) as tf.Tensor2D,
            W0,
            b0,
            yh,
            logPost,
            'classification',
          ).loss,
        vars,
      );
      const [dW, db] = tf.grads(
        (ww: tf.Tensor, bb: tf.Tensor) =>
          plainMixture(z0, ww as tf.Tensor3D, bb as tf.Tensor2D, yh, logPost, 'classification').ownSum,
      )([W0, b0]);
      const gk = grads[kernel.name].dataSync();
      const gW = dW.dataSync();
      model.trainOnBatch(x, y);
      // The per-feature rates are drawn at the first step and fixed afterwards.
      if (k === 1)
        r = (await model.preClassifierOptimizer.getWeights())
          .find((w) => w.name === `${kernel.name}/rate`)!
          .tensor.dataSync();
      const k1 = kernel.dataSync();
      for (let i = 0; i < k0.length; i++) {
        const want = k0[i] - r[i % H] * adamDir(mk, gk[i], i, k);
        expect(Math.abs(k1[i] - want), `step ${k} kernel[${i}]`).toBeLessThan(2e-6);
      }
      const W1 = model.heads.kernel.dataSync();
      for (let i = 0; i < W0d.length; i++) {
        const j = Math.floor(i / C) % 3; // [hidden, copies, classes]
        const want = W0d[i] - model.headRates[j] * adamDir(mW, gW[i], i, k);
        expect(Math.abs(W1[i] - want), `step ${k} head W[${i}]`).toBeLessThan(2e-6);
      }
      tf.dispose([W0, b0, z0, dW, db, ...Object.values(grads)]);
    }
    expect(model.headsOptimizer.counters.steps).toBe(3);
    tf.dispose([x, y, yh]);
    model.dispose();
  });
});

describe('alrao.wrap: fit, callbacks, save/load', () => {
  it('fit: history, validation, callbacks in order, stopTraining; integer and one-hot labels train alike', async () => {
    const { x, y } = data(96, 4, 3, 6);
    const calls: string[] = [];
    const a = wrap(pre(4, 8), { classes: 3, seed: 5 });
    const hist = await a.fit(x, y, {
      epochs: 3,
      batchSize: 32,
      verbose: 0,
      validationData: [x, y],
      callbacks: {
        onTrainBegin: () => {
          calls.push('train');
        },
        onEpochBegin: (e) => {
          calls.push(`e${e}`);
        },
        onBatchEnd: (b, logs) => {
          calls.push(`b${b}`);
          expect(Number.isFinite(logs!.loss)).toBe(true);
        },
        onEpochEnd: (e) => {
          calls.push(`end${e}`);
          if (e === 1) a.stopTraining = true;
        },
      },
    });
    expect(calls).toEqual(['train', 'e0', 'b0', 'b1', 'b2', 'end0', 'e1', 'b0', 'b1', 'b2', 'end1']);
    expect(hist.epoch).toEqual([0, 1]);
    expect(Object.keys(hist.history).sort()).toEqual(['bestHead', 'loss', 'skipped', 'val_acc', 'val_loss']);
    const b = wrap(pre(4, 8), { classes: 3, seed: 5 });
    const oneHot = tf.oneHot(y, 3);
    await b.fit(x, oneHot, { epochs: 2, batchSize: 32, verbose: 0 });
    expect(bitEqual(snapshotWeights(a.preClassifier), snapshotWeights(b.preClassifier))).toBe(true);
    tf.dispose([x, y, oneHot]);
    a.dispose();
    b.dispose();
  });

  it('save/load resumes exactly: same weights, rates, head state and posterior as uninterrupted training', async () => {
    const { x, y } = data(64, 4, 3, 8);
    const dir = mkdtempSync(join(tmpdir(), 'alrao-'));
    const build = () =>
      wrap(pre(4, 8, { bn: true }), {
        classes: 3,
        copies: 4,
        seed: 9,
        direction: adam(),
        minLr: 1e-4,
        maxLr: 1e-1,
      });
    const a = build();
    for (let s = 0; s < 3; s++) a.trainOnBatch(x, y);
    await a.save(dir);
    const b: AlraoModel = await (await import('../../src/alrao/model.js')).AlraoModel.load(dir);
    for (let s = 0; s < 3; s++) {
      a.trainOnBatch(x, y);
      b.trainOnBatch(x, y);
    }
    expect(bitEqual(snapshotWeights(b.preClassifier), snapshotWeights(a.preClassifier))).toBe(true);
    expect(
      bitEqual([b.heads.kernel.dataSync() as Float32Array], [a.heads.kernel.dataSync() as Float32Array]),
    ).toBe(true);
    expect(b.logPosterior()).toEqual(a.logPosterior());
    expect(b.steps).toBe(6);
    rmSync(dir, { recursive: true, force: true });
    tf.dispose([x, y]);
    a.dispose();
    b.dispose();
  });
});

describe('alrao.wrap: bad input', () => {
  it('rejects a non-rank-2 pre-classifier, copies < 1, minLr >= maxLr, labels out of range', () => {
    const conv = tf.sequential({
      layers: [tf.layers.conv2d({ inputShape: [4, 4, 1], filters: 2, kernelSize: 3 })],
    });
    expect(() => wrap(conv, { classes: 3 })).toThrow(/output must be rank 2.*\[null,2,2,2\].*flatten/);
    const p = pre(2, 3);
    expect(() => wrap(p, { classes: 3, copies: 0 })).toThrow(/copies = 0 .*integer in \[1/);
    expect(() => wrap(p, { classes: 3, minLr: 1, maxLr: 0.1 })).toThrow(
      /minLr = 1 must be smaller than maxLr = 0.1/,
    );
    expect(() => wrap(p, { classes: 1 })).toThrow(/classes = 1/);
    expect(() => wrap(p, { classes: 3, copys: 2 } as never)).toThrow(/unknown option 'copys'/);
    const m = wrap(p, { classes: 3 });
    const x = tf.zeros([2, 2]);
    const bad = tf.tensor1d([0, 3], 'int32');
    expect(() => m.evaluate(x, bad)).toThrow(/label 3 at index 1 is out of range; .*\[0, 2\]/);
    const wide = tf.zeros([2, 4]);
    expect(() => m.evaluate(x, wide)).toThrow(/one-hot \[batch, 3\]; got shape \[2,4\]/);
    expect(() => m.trainOnBatch(x, tf.tensor1d([0, -1], 'int32'))).toThrow(/label -1 at index 1/);
    const short = tf.tensor1d([0], 'int32');
    return expect(m.fit(x, short, { verbose: 0 }))
      .rejects.toThrow(/1 labels for 2 examples/)
      .finally(() => {
        tf.dispose([x, bad, wide, short]);
        m.dispose();
        conv.dispose();
      });
  });
});

describe('alrao.wrap: no tensor leaks', () => {
  it('1000 trainOnBatch steps and 1000 fit batches (BatchNorm + dropout pre-classifier)', async () => {
    const model = wrap(pre(4, 6, { bn: true, dropout: 0.2 }), { classes: 3, copies: 4, seed: 1 });
    const { x, y } = data(8, 4, 3, 1);
    let at10 = -1;
    for (let s = 1; s <= 1000; s++) {
      model.trainOnBatch(x, y);
      if (s === 10) at10 = tf.memory().numTensors;
    }
    expect(tf.memory().numTensors).toBe(at10);
    const big = data(2000, 4, 3, 2);
    const counts: number[] = [];
    await model.fit(big.x, big.y, {
      batchSize: 2,
      verbose: 0,
      validationData: [x, y],
      callbacks: {
        onBatchEnd: (b) => {
          if (b === 9 || b === 999) counts.push(tf.memory().numTensors);
        },
      },
    });
    expect(counts[1]).toBe(counts[0]);
    tf.dispose([x, y, big.x, big.y]);
    model.dispose();
  });
});
