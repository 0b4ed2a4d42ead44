/**
 * Alrao's reference pre-classifier momentum and gradient clipping (ALGORITHMS.md §5.3) against a float64
 * transcription of the spec: buf <- (1 - mu*min(sqrt(eta_f), 1/mu))*buf + g after clipping g to norm c.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { alraoSgd } from '../../src/alrao/presets.js';
import { uniformArray, useBackend } from '../helpers/tf.js';

beforeAll(async () => {
  await useBackend('cpu');
});

const N = 16;
const X = Array.from(uniformArray(N * 2, 51));
const Y = Array.from(uniformArray(N * 3, 52)).map((v) => 3 * v);

/** f = 0.5 mean_{i,c} (x_i W_c + b_c - y_ic)^2 with W [2, 3], b [3]; gradient in float64. */
function grad(W: number[], b: number[]) {
  const gW = new Array(6).fill(0);
  const gb = new Array(3).fill(0);
  for (let i = 0; i < N; i++) {
    for (let c = 0; c < 3; c++) {
      const r = X[2 * i] * W[c] + X[2 * i + 1] * W[3 + c] + b[c] - Y[3 * i + c];
      gW[c] += (r * X[2 * i]) / (N * 3);
      gW[3 + c] += (r * X[2 * i + 1]) / (N * 3);
      gb[c] += r / (N * 3);
    }
  }
  return { gW, gb };
}

function train(momentum: number, clipNorm: number, steps: number) {
  const W = tf.variable(tf.tensor2d(uniformArray(6, 53), [2, 3]), true, `dense${Math.random()}/kernel`);
  const b = tf.variable(tf.zeros([3]), true, `${W.name.split('/')[0]}/bias`);
  const x = tf.tensor2d(X, [N, 2]);
  const y = tf.tensor2d(Y, [N, 3]);
  const opt = alraoSgd({ seed: 4, minLr: 1e-2, maxLr: 3, momentum, clipNorm });
  const f = () =>
    tf.tidy(() => tf.mul(0.5, tf.mean(tf.square(tf.sub(tf.add(tf.matMul(x, W), b), y)))) as tf.Scalar);
  const out: { W: number[]; b: number[]; clip: number }[] = [];
  let rates: number[] = [];
  return {
    run: async () => {
      for (let k = 0; k < steps; k++) {
        opt.minimize(f, false, [W, b]);
        if (k === 0) {
          const ws = await opt.getWeights();
          const rk = ws.find((w) => w.name.endsWith(`${W.name}/rate`))!.tensor.dataSync();
          const rb = ws.find((w) => w.name.endsWith(`${b.name}/rate`))!.tensor.dataSync();
          expect(Array.from(rb)).toEqual(Array.from(rk)); // kernel and bias of a feature share its rate
          rates = Array.from(rk);
        }
        out.push({
          W: Array.from(W.dataSync()),
          b: Array.from(b.dataSync()),
          clip: opt.lastStep.info.clipScale,
        });
      }
      const w0 = Array.from(uniformArray(6, 53)).map(Math.fround);
      opt.dispose();
      tf.dispose([W, b, x, y]);
      return { out, rates, w0 };
    },
  };
}

describe('alraoSgd with the reference momentum and clipping (float64 oracle)', () => {
  it.each([
    [0.9, 0.25],
    [0.9, 0],
    [0, 0.25],
  ])(
    'momentum %s, clipNorm %s: 12 steps match (catches a plain heavy ball, or clipping per tensor)',
    async (mu, c) => {
      const { out, rates, w0 } = await train(mu, c, 12).run();
      expect(rates).toHaveLength(3);
      expect(Math.max(...rates) / Math.min(...rates)).toBeGreaterThan(1.5);
      let W = [...w0];
      let b = [0, 0, 0];
      const bufW = new Array(6).fill(0);
      const bufB = new Array(3).fill(0);
      let clipped = 0;
      out.forEach((s, k) => {
        const { gW, gb } = grad(W, b);
        const norm = Math.sqrt([...gW, ...gb].reduce((a, v) => a + v * v, 0));
        const scale = c > 0 && norm > c ? c / norm : 1;
        if (scale < 1) clipped += 1;
        expect(Math.abs(s.clip - scale), `step ${k + 1} clip`).toBeLessThan(1e-5);
        const decay = (f: number) => (mu === 0 ? 1 : 1 - mu * Math.min(Math.sqrt(rates[f]), 1 / mu));
        for (let j = 0; j < 6; j++) bufW[j] = decay(j % 3) * bufW[j] + scale * gW[j];
        for (let f = 0; f < 3; f++) bufB[f] = decay(f) * bufB[f] + scale * gb[f];
        W = W.map((w, j) => w - rates[j % 3] * bufW[j]);
        b = b.map((v, f) => v - rates[f] * bufB[f]);
        [...W, ...b].forEach((v, j) => {
          expect(Math.abs([...s.W, ...s.b][j] - v), `step ${k + 1} w[${j}]`).toBeLessThan(
            1e-4 * Math.max(1, Math.abs(v)),
          );
        });
      });
      if (c > 0) expect(clipped).toBeGreaterThan(0);
    },
  );

  it('momentum 0 and no clipping is plain Alrao-SGD (the sgd direction under alraoRates)', () => {
    expect(alraoSgd({ seed: 1 }).direction.kind).toBe('sgd');
    expect(alraoSgd({ seed: 1, momentum: 0.5 }).direction.kind).toBe('alraoMomentum');
    expect(() => alraoSgd({ momentum: 1 })).toThrow(/momentum = 1/);
  });
});
