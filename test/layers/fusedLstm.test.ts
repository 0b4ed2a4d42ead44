import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { FusedLstm, fusedLstm } from '../../src/layers/fusedLstm.js';
import { BACKENDS, uniformArray, useBackend } from '../helpers/tf.js';

/** max |a - ref| / max |ref| (0 when both are all zeros). */
function relErr(a: ArrayLike<number>, ref: ArrayLike<number>): number {
  expect(a.length).toBe(ref.length);
  let d = 0;
  let m = 0;
  for (let i = 0; i < ref.length; i++) {
    d = Math.max(d, Math.abs(a[i] - ref[i]));
    m = Math.max(m, Math.abs(ref[i]));
  }
  return m === 0 ? d : d / m;
}

/**
 * Float32 round-off: the fused layer adds in another order and computes tanh from sigmoid. Measured worst
 * case: 3.3e-6 (the input gradient at the task's shape on wasm); the stock layer itself differs by up to
 * 2.4e-6 between cpu and wasm there.
 */
const TOL = 1e-5;

/** [batch, T, inputDim, units]: size 1 in every position, odd sizes, and the char-LSTM task's shape. */
const SHAPES: [number, number, number, number][] = [
  [1, 1, 1, 1],
  [1, 4, 3, 1],
  [3, 1, 5, 4],
  [2, 7, 3, 5],
  [64, 32, 16, 64],
];

const CLASSES = 5;

/** A stock LSTM (or the fused one) then a dense layer with logits, on inputs [T, inputDim]. */
function lstmModel(fused: boolean, steps: number, inputDim: number, units: number): tf.Sequential {
  const args = {
    units,
    inputShape: [steps, inputDim],
    kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
    recurrentInitializer: tf.initializers.glorotUniform({ seed: 2 }),
  };
  return tf.sequential({
    layers: [
      fused ? fusedLstm(args) : tf.layers.lstm(args),
      tf.layers.dense({ units: CLASSES, kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
    ],
  });
}

/**
 * The stock model and the fused one with the same random weights (set on both with setWeights), bias
 * included. The LSTM's are scaled so that its gates' pre-activations spread over about +-2.5, where hard
 * sigmoid saturates: every gate runs both inside and outside its linear part, which the gradient must tell
 * apart.
 */
function twins(shape: [number, number, number, number]) {
  const [, steps, inputDim, units] = shape;
  const stock = lstmModel(false, steps, inputDim, units);
  const fused = lstmModel(true, steps, inputDim, units);
  const spread = 2.5 * Math.sqrt(3 / (0.75 * inputDim + 0.2 * units + 1));
  const weights = stock
    .getWeights()
    .map((w, i) => tf.tensor(uniformArray(w.size, 100 + i), w.shape).mul(i < 3 ? spread : 0.6));
  stock.setWeights(weights);
  fused.setWeights(weights);
  tf.dispose(weights);
  return { stock, fused };
}

/** Inputs [batch, T, inputDim] in [-1.5, 1.5) and one-hot targets. */
function batchOf([batch, steps, inputDim]: [number, number, number, number]) {
  const x = tf.tensor3d(uniformArray(batch * steps * inputDim, 7), [batch, steps, inputDim]).mul(1.5);
  const labels = tf.tensor1d(
    Array.from({ length: batch }, (_, i) => (i * 3) % CLASSES),
    'int32',
  );
  return { x: x as tf.Tensor3D, y: tf.oneHot(labels, CLASSES) };
}

const loss = (model: tf.LayersModel, x: tf.Tensor, y: tf.Tensor) =>
  tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar;

/** Gradients of the loss w.r.t. every trainable weight (in `trainableWeights` order) and the input. */
function gradients(model: tf.LayersModel, x: tf.Tensor, y: tf.Tensor, viaInput: 'model' | 'reference') {
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const { value, grads } = tf.variableGrads(() => loss(model, x, y), vars);
  const weightGrads = vars.map((v) => grads[v.name].dataSync().slice());
  const f =
    viaInput === 'model'
      ? (xx: tf.Tensor) => loss(model, xx, y)
      : (xx: tf.Tensor) => {
          const [k, r, b, dk, db] = vars;
          return tf.losses.softmaxCrossEntropy(
            y,
            tf.add(tf.matMul(referenceLstm(xx, k, r, b), dk), db),
          ) as tf.Scalar;
        };
  const dx = tf.grad(f)(x);
  const out = { loss: value.dataSync()[0], weightGrads, dx: dx.dataSync().slice() };
  tf.dispose([value, dx, ...Object.values(grads)]);
  return out;
}

/**
 * The LSTM written out with plain ops (no unstack): the reference for the input gradient where the stock
 * layer has none. TF.js 4.22's stock LSTM cannot differentiate w.r.t. its input when T = 1 (its Unpack
 * gradient receives a single tensor and throws "Argument tensors passed to stack must be a `Tensor[]`").
 */
function referenceLstm(x: tf.Tensor, k: tf.Tensor, r: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const [batch, steps, inputDim] = x.shape;
  const units = r.shape[0];
  const hardSigmoid = (v: tf.Tensor) => tf.clipByValue(tf.add(0.5, tf.mul(0.2, v)), 0, 1);
  let h: tf.Tensor = tf.zeros([batch, units]);
  let c: tf.Tensor = tf.zeros([batch, units]);
  for (let t = 0; t < steps; t++) {
    const xt = tf.reshape(tf.slice(x, [0, t, 0], [batch, 1, inputDim]), [batch, inputDim]);
    const z = tf.add(tf.add(tf.matMul(xt, k), tf.matMul(h, r)), b);
    const [zi, zf, zc, zo] = tf.split(z, 4, 1);
    c = tf.add(tf.mul(hardSigmoid(zf), c), tf.mul(hardSigmoid(zi), tf.tanh(zc)));
    h = tf.mul(hardSigmoid(zo), tf.tanh(c));
  }
  return h;
}

describe.each(BACKENDS)('fusedLstm against tf.layers.lstm on %s', (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  it.each(SHAPES)('forward: same outputs (batch %i, T %i, in %i, units %i)', (...shape) => {
    const { stock, fused } = twins(shape);
    const { x, y } = batchOf(shape);
    const [ps, pf, ts, tsf] = tf.tidy(() => [
      (stock.predict(x) as tf.Tensor).dataSync().slice(),
      (fused.predict(x) as tf.Tensor).dataSync().slice(),
      (stock.apply(x, { training: true }) as tf.Tensor).dataSync().slice(),
      (fused.apply(x, { training: true }) as tf.Tensor).dataSync().slice(),
    ]);
    expect(relErr(pf, ps)).toBeLessThan(TOL);
    expect(relErr(tsf, ts)).toBeLessThan(TOL);
    // The LSTM layer's own output too, not only through the dense layer.
    const hs = tf.tidy(() => (stock.layers[0].apply(x) as tf.Tensor).dataSync().slice());
    const hf = tf.tidy(() => (fused.layers[0].apply(x) as tf.Tensor).dataSync().slice());
    expect(relErr(hf, hs)).toBeLessThan(TOL);
    tf.dispose([x, y]);
    stock.dispose();
    fused.dispose();
  });

  it.each(SHAPES)(
    'gradients: same w.r.t. every weight and the input (batch %i, T %i, in %i, units %i)',
    (...shape) => {
      const { stock, fused } = twins(shape);
      const { x, y } = batchOf(shape);
      // Stock TF.js has no input gradient through its LSTM at T = 1: the plain-ops reference stands in.
      const gs = gradients(stock, x, y, shape[1] === 1 ? 'reference' : 'model');
      const gf = gradients(fused, x, y, 'model');
      expect(Math.abs(gf.loss - gs.loss)).toBeLessThan(TOL * Math.max(1, Math.abs(gs.loss)));
      expect(gf.weightGrads).toHaveLength(5);
      gf.weightGrads.forEach((g, i) => {
        expect(relErr(g, gs.weightGrads[i])).toBeLessThan(TOL);
      });
      expect(relErr(gf.dx, gs.dx)).toBeLessThan(TOL);
      tf.dispose([x, y]);
      stock.dispose();
      fused.dispose();
    },
  );

  it('the reference agrees with the stock layer where both have an input gradient', () => {
    const shape: [number, number, number, number] = [2, 7, 3, 5];
    const { stock } = twins(shape);
    const { x, y } = batchOf(shape);
    const viaModel = gradients(stock, x, y, 'model');
    const viaReference = gradients(stock, x, y, 'reference');
    expect(relErr(viaReference.dx, viaModel.dx)).toBeLessThan(TOL);
    tf.dispose([x, y]);
    stock.dispose();
  });

  it('trains without leaking tensors: 20 Adam steps and predictions', () => {
    const shape: [number, number, number, number] = [4, 6, 3, 5];
    const model = lstmModel(true, 6, 3, 5);
    const { x, y } = batchOf(shape);
    const opt = tf.train.adam(0.01);
    const step = () => opt.minimize(() => loss(model, x, y), true)?.dispose();
    step(); // Adam creates its moment variables on the first step.
    const before = tf.memory().numTensors;
    const first = tf.tidy(() => loss(model, x, y).dataSync()[0]);
    for (let i = 0; i < 20; i++) step();
    tf.dispose(model.predict(x));
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.tidy(() => loss(model, x, y).dataSync()[0])).toBeLessThan(first);
    opt.dispose();
    tf.dispose([x, y]);
    model.dispose();
  });
});

describe('fusedLstm as a layer', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('has the stock layer weights: names, shapes and order of trainableWeights', () => {
    const stock = tf.layers.lstm({ units: 3, inputShape: [4, 2] });
    const fused = fusedLstm({ units: 3, inputShape: [4, 2] });
    const ms = tf.sequential({ layers: [stock] });
    const mf = tf.sequential({ layers: [fused] });
    const tail = (name: string) => name.slice(name.lastIndexOf('/') + 1);
    expect(fused.trainableWeights.map((w) => tail(w.name))).toEqual(['kernel', 'recurrent_kernel', 'bias']);
    expect(fused.trainableWeights.map((w) => tail(w.name))).toEqual(
      stock.trainableWeights.map((w) => tail(w.name)),
    );
    expect(fused.trainableWeights.map((w) => w.shape)).toEqual(stock.trainableWeights.map((w) => w.shape));
    expect(mf.outputs[0].shape).toEqual(ms.outputs[0].shape);
    ms.dispose();
    mf.dispose();
  });

  it('initialises like the stock layer from the same seeded initializers, unitForgetBias on and off', () => {
    for (const unitForgetBias of [undefined, false, true]) {
      const args = () => ({
        units: 4,
        inputShape: [3, 2],
        kernelInitializer: tf.initializers.glorotUniform({ seed: 11 }),
        recurrentInitializer: tf.initializers.orthogonal({ seed: 12 }),
        biasInitializer: tf.initializers.randomUniform({ minval: -1, maxval: 1, seed: 13 }),
        unitForgetBias,
      });
      const ms = tf.sequential({ layers: [tf.layers.lstm(args())] });
      const mf = tf.sequential({ layers: [fusedLstm(args())] });
      const ws = ms.getWeights().map((w) => w.dataSync().slice());
      const wf = mf.getWeights().map((w) => w.dataSync().slice());
      expect(wf).toEqual(ws);
      // The forget gate's bias is ones exactly when asked (TF.js's default is off).
      const forget = wf[2].slice(4, 8);
      expect(forget.every((v) => v === 1)).toBe(unitForgetBias === true);
      ms.dispose();
      mf.dispose();
    }
  });

  it('defaults: stock initializers by name, zero bias', () => {
    const layer = fusedLstm({ units: 2, inputShape: [3, 2], kernelInitializer: 'ones' });
    const model = tf.sequential({ layers: [layer] });
    const [k, , b] = model.getWeights().map((w) => Array.from(w.dataSync()));
    expect(k.every((v) => v === 1)).toBe(true);
    expect(b.every((v) => v === 0)).toBe(true);
    const config = layer.getConfig();
    expect(config.unitForgetBias).toBe(false);
    expect(config.kernelInitializer).toEqual({ className: 'Ones', config: {} });
    expect((config.recurrentInitializer as { className: string }).className).toBe('Orthogonal');
    model.dispose();
  });

  it('saves and loads: same class, config and predictions', async () => {
    const shape: [number, number, number, number] = [3, 5, 4, 6];
    const { fused, stock } = twins(shape);
    stock.dispose();
    const { x, y } = batchOf(shape);
    let artifacts: tf.io.ModelArtifacts | undefined;
    await fused.save(
      tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts as tf.io.ModelArtifacts));
    expect(loaded.layers[0]).toBeInstanceOf(FusedLstm);
    expect(loaded.layers[0].getConfig()).toEqual(fused.layers[0].getConfig());
    const before = tf.tidy(() => (fused.predict(x) as tf.Tensor).dataSync().slice());
    const after = tf.tidy(() => (loaded.predict(x) as tf.Tensor).dataSync().slice());
    expect(after).toEqual(before);
    tf.dispose([x, y]);
    fused.dispose();
    loaded.dispose();
  });

  it('rejects what it does not support: inputs not [batch, T, in], bad units', () => {
    expect(() => fusedLstm({ units: 0 })).toThrow(/units/);
    const model = tf.sequential({ layers: [fusedLstm({ units: 2, inputShape: [3, 2] })] });
    const flat = tf.zeros([2, 2]);
    expect(() => model.layers[0].apply(flat)).toThrow();
    flat.dispose();
    model.dispose();
  });
});

describe('kernels per training step of the char-LSTM task shape', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  /** Embedding(96, 16) over 32 characters - LSTM(64) - Dense(96, softmax), batch 64; one Adam step. */
  async function kernelsPerStep(fused: boolean): Promise<number> {
    const args = {
      units: 64,
      kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
      recurrentInitializer: tf.initializers.glorotUniform({ seed: 2 }),
    };
    const model = tf.sequential({
      layers: [
        tf.layers.embedding({ inputDim: 96, outputDim: 16, inputLength: 32 }),
        fused ? fusedLstm(args) : tf.layers.lstm(args),
        tf.layers.dense({ units: 96, activation: 'softmax' }),
      ],
    });
    const x = tf.tensor2d(
      Int32Array.from({ length: 64 * 32 }, (_, i) => (i * 7919) % 96),
      [64, 32],
      'int32',
    );
    const y = tf.oneHot(
      tf.tensor1d(
        Int32Array.from({ length: 64 }, (_, i) => (i * 31) % 96),
        'int32',
      ),
      96,
    );
    const opt = tf.train.adam(1e-3);
    const lossFn = () =>
      tf.mean(
        tf.metrics.categoricalCrossentropy(y, model.apply(x, { training: true }) as tf.Tensor),
      ) as tf.Scalar;
    const step = () => opt.minimize(lossFn, true)?.dispose();
    step();
    const profile = await tf.profile(step);
    opt.dispose();
    tf.dispose([x, y]);
    model.dispose();
    return profile.kernels.length;
  }

  it('runs under a third of the stock layer kernels', async () => {
    const stock = await kernelsPerStep(false);
    const fused = await kernelsPerStep(true);
    // Measured with TF.js 4.22 on patched wasm: stock 4,591, fused ~1,100.
    expect(stock).toBeGreaterThan(3000);
    expect(fused).toBeLessThan(stock / 3);
  });
});
