/**
 * wrap()'s reference momentum and clipping (ALGORITHMS.md §5.3) against an independent float64
 * computation of whole Alrao steps: the mixture gradient through a linear pre-classifier, the heads' own
 * gradients, clipping of the pre-classifier's gradient to global norm c, the reference's rate-dependent
 * momentum on the pre-classifier (buf <- (1 - mu*min(sqrt(eta_f), 1/mu))*buf + g) and ordinary momentum on
 * the heads (buf <- mu*buf + g). The switch is not what is tested: the oracle reads the model's
 * log-posterior before every step.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { wrap } from '../../src/alrao/model.js';
import { adam } from '../../src/directions/adam.js';
import { uniformArray, useBackend } from '../helpers/tf.js';

beforeAll(async () => {
  await useBackend('cpu');
});

const B = 8;
const D = 3; // inputs
const F = 4; // features
const K = 3; // heads
const C = 3; // classes
const X = Array.from(uniformArray(B * D, 81)).map(Math.fround);
const LABELS = [0, 1, 2, 1, 0, 2, 2, 1];

function linearPre(): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.dense({
        inputShape: [D],
        units: F,
        kernelInitializer: tf.initializers.randomUniform({ minval: -1, maxval: 1, seed: 3 }),
        biasInitializer: 'zeros',
      }),
    ],
  });
}

const lse = (v: number[]) => {
  const m = Math.max(...v);
  return m + Math.log(v.reduce((s, a) => s + Math.exp(a - m), 0));
};

/** One float64 Alrao step; A [D][F], c [F], W [F][K][C], b [K][C] updated in place. */
function referenceStep(
  s: {
    A: number[][];
    c: number[];
    W: number[][][];
    b: number[][];
    bufA: number[][];
    bufc: number[];
    bufW: number[][][];
    bufb: number[][];
  },
  logPost: number[],
  rates: number[],
  headRates: number[],
  mu: number,
  clipNorm: number,
): void {
  const z = Array.from({ length: B }, (_, n) =>
    s.c.map((cf, f) => cf + s.A.reduce((acc, row, i) => acc + X[n * D + i] * row[f], 0)),
  );
  const dz = z.map(() => new Array(F).fill(0));
  const gW = s.W.map((r) => r.map((h) => h.map(() => 0)));
  const gb = s.b.map((h) => h.map(() => 0));
  for (let n = 0; n < B; n++) {
    const ll: number[] = [];
    const probs: number[][] = [];
    for (let j = 0; j < K; j++) {
      const out = Array.from(
        { length: C },
        (_, k) => s.b[j][k] + z[n].reduce((acc, zf, f) => acc + zf * s.W[f][j][k], 0),
      );
      const l = lse(out);
      probs.push(out.map((o) => Math.exp(o - l)));
      ll.push(out[LABELS[n]] - l);
    }
    const joint = ll.map((v, j) => v + logPost[j]);
    const lm = lse(joint);
    const resp = joint.map((v) => Math.exp(v - lm));
    for (let j = 0; j < K; j++) {
      // d(-ll_j)/d out_j = p_j - onehot(y)
      const dOut = probs[j].map((p, k) => p - (k === LABELS[n] ? 1 : 0));
      for (let k = 0; k < C; k++) {
        gb[j][k] += dOut[k] / B;
        for (let f = 0; f < F; f++) {
          gW[f][j][k] += (z[n][f] * dOut[k]) / B;
          dz[n][f] += (resp[j] * dOut[k] * s.W[f][j][k]) / B;
        }
      }
    }
  }
  const gA = s.A.map((row, i) => row.map((_, f) => dz.reduce((acc, d, n) => acc + X[n * D + i] * d[f], 0)));
  const gc = s.c.map((_, f) => dz.reduce((acc, d) => acc + d[f], 0));
  const norm = Math.sqrt(gA.flat().reduce((a, v) => a + v * v, 0) + gc.reduce((a, v) => a + v * v, 0));
  const scale = clipNorm > 0 && norm > clipNorm ? clipNorm / norm : 1;
  const decay = rates.map((r) => (mu === 0 ? 1 : 1 - mu * Math.min(Math.sqrt(r), 1 / mu)));
  for (let f = 0; f < F; f++) {
    for (let i = 0; i < D; i++) {
      s.bufA[i][f] = decay[f] * s.bufA[i][f] + scale * gA[i][f];
      s.A[i][f] -= rates[f] * s.bufA[i][f];
    }
    s.bufc[f] = decay[f] * s.bufc[f] + scale * gc[f];
    s.c[f] -= rates[f] * s.bufc[f];
  }
  for (let j = 0; j < K; j++) {
    for (let k = 0; k < C; k++) {
      s.bufb[j][k] = mu * s.bufb[j][k] + gb[j][k];
      s.b[j][k] -= headRates[j] * s.bufb[j][k];
      for (let f = 0; f < F; f++) {
        s.bufW[f][j][k] = mu * s.bufW[f][j][k] + gW[f][j][k];
        s.W[f][j][k] -= headRates[j] * s.bufW[f][j][k];
      }
    }
  }
}

describe('alrao.wrap({ momentum, clipNorm }): the reference code optimizers, step by step', () => {
  it.each([
    [0.9, 0.05],
    [0.9, 0],
    [0, 0.05],
  ])(
    'momentum %s, clipNorm %s: 6 steps equal a float64 oracle (pre-classifier and heads)',
    async (mu, clip) => {
      const model = wrap(linearPre(), {
        classes: C,
        copies: K,
        minLr: 0.01,
        maxLr: 1,
        seed: 5,
        momentum: mu,
        clipNorm: clip,
      });
      const x = tf.tensor2d(X, [B, D]);
      const y = tf.tensor1d(LABELS, 'int32');
      const [kernel, bias] = model.preClassifier.trainableWeights.map((w) => w.read() as tf.Variable);
      const s = {
        A: kernel.arraySync() as number[][],
        c: bias.arraySync() as number[],
        W: model.heads.kernel.arraySync() as number[][][],
        b: model.heads.bias.arraySync() as number[][],
        bufA: Array.from({ length: D }, () => new Array(F).fill(0)),
        bufc: new Array(F).fill(0),
        bufW: Array.from({ length: F }, () => Array.from({ length: K }, () => new Array(C).fill(0))),
        bufb: Array.from({ length: K }, () => new Array(C).fill(0)),
      };
      let rates: number[] = [];
      let clipped = 0;
      for (let step = 0; step < 6; step++) {
        const logPost = model.logPosterior();
        model.trainOnBatch(x, y);
        if (step === 0) {
          const ws = await model.preClassifierOptimizer.getWeights();
          rates = Array.from(ws.find((w) => w.name === `${kernel.name}/rate`)!.tensor.dataSync());
          expect(Array.from(ws.find((w) => w.name === `${bias.name}/rate`)!.tensor.dataSync())).toEqual(
            rates,
          );
        }
        if (model.preClassifierOptimizer.lastStep.info.clipScale < 1) clipped += 1;
        referenceStep(s, logPost, rates, model.headRates, mu, clip);
        const close = (got: number[], want: number[]) =>
          got.forEach((v, i) => {
            expect(v).toBeCloseTo(want[i], 5);
          });
        close(Array.from(kernel.dataSync()), s.A.flat());
        close(Array.from(bias.dataSync()), s.c);
        close(Array.from(model.heads.kernel.dataSync()), s.W.flat(2));
        close(Array.from(model.heads.bias.dataSync()), s.b.flat());
      }
      // The rates span the range, so a rate-independent momentum would differ; clipping acted when on.
      expect(Math.max(...rates) / Math.min(...rates)).toBeGreaterThan(2);
      expect(clipped > 0).toBe(clip > 0);
      tf.dispose([x, y]);
      model.dispose();
    },
  );

  it('refuses momentum or clipping with another direction, and out-of-range values, naming the fix', () => {
    expect(() => wrap(linearPre(), { classes: C, direction: adam(), momentum: 0.9 })).toThrow(
      /momentum = 0.9 and clipNorm = 0 .* adam direction.*Leave direction out/,
    );
    expect(() => wrap(linearPre(), { classes: C, momentum: 1 })).toThrow(/momentum/);
    expect(() => wrap(linearPre(), { classes: C, clipNorm: -1 })).toThrow(/clipNorm/);
  });
});
