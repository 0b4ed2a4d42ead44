/**
 * Regression tasks of "More Descent, Less Gradient": linear regression, and the deep linear (and ReLU)
 * network on 10K x 20 inputs with y = row sum.
 */
import * as tf from '@tensorflow/tfjs';
import { deriveSeed, gaussian, mulberry32 } from '../../core/rng.js';
import { dataTaskInstance, mse, type Task, type XY } from '../task.js';

function normalData(n: number, d: number, seed: number): Float32Array {
  const g = gaussian(mulberry32(seed));
  return Float32Array.from({ length: n * d }, g);
}

/** y = X w + b + noise; n = 1000 train, 10 features + intercept, one Dense unit, full batch. */
export const linreg: Task = {
  name: 'linreg',
  description: 'linear regression, 1000 x 10 + intercept, y = Xw + b + 0.1 noise, full batch',
  batchSize: 1000,
  budget: { quick: 100, standard: 300, full: 1000 },
  evalEvery: 10,
  target: { loss: 0.0101 * 1.05 },
  create(seed) {
    const n = 1000;
    const d = 10;
    const split = (part: number, size: number): XY =>
      tf.tidy(() => {
        const x = tf.tensor2d(normalData(size, d, deriveSeed(seed, 1, part)), [size, d]);
        const w = tf.tensor2d(normalData(d, 1, deriveSeed(seed, 2)), [d, 1]);
        const noise = tf.mul(0.1, tf.tensor2d(normalData(size, 1, deriveSeed(seed, 3, part)), [size, 1]));
        return { x, y: tf.add(tf.add(tf.matMul(x, w), 2), noise) };
      });
    const model = tf.sequential({
      layers: [tf.layers.dense({ units: 1, inputShape: [d], kernelInitializer: tf.initializers.zeros() })],
    });
    return dataTaskInstance({
      model,
      train: split(0, n),
      validation: split(1, 500),
      test: split(2, 500),
      batchSize: n,
      seed,
      lossOf: mse,
    });
  },
};

function deepRegression(relu: boolean): Task {
  return {
    name: relu ? 'deep-regression-relu' : 'deep-regression',
    description: `10K x 20 inputs, y = row sum, 5 ${relu ? 'ReLU' : 'linear'} layers of width 10 + output, full batch`,
    batchSize: 10000,
    budget: { quick: 60, standard: 300, full: 1000 },
    evalEvery: 10,
    target: { loss: 0.01 },
    create(seed) {
      const split = (part: number, size: number): XY =>
        tf.tidy(() => {
          const x = tf.tensor2d(normalData(size, 20, deriveSeed(seed, 7, part)), [size, 20]);
          return { x, y: tf.sum(x, 1, true) };
        });
      return dataTaskInstance({
        model: deepRegressionModel(relu, seed),
        train: split(0, 10000),
        validation: split(1, 2000),
        test: split(2, 2000),
        batchSize: 10000,
        seed,
        lossOf: mse,
      });
    },
  };
}

export const deepRegressionLinear = deepRegression(false);
export const deepRegressionRelu = deepRegression(true);

/**
 * The post's deep regression model: 5 dense layers of width 10 (linear or ReLU) on 20 inputs, then one
 * output unit; Glorot-uniform weights from `seed`. Shared by the task and bench/more-descent.ts.
 */
export function deepRegressionModel(relu: boolean, seed: number): tf.Sequential {
  const layers: tf.layers.Layer[] = [];
  for (let i = 0; i < 5; i++) {
    layers.push(
      tf.layers.dense({
        units: 10,
        activation: relu ? 'relu' : 'linear',
        kernelInitializer: tf.initializers.glorotUniform({ seed: deriveSeed(seed, 8, i) }),
        ...(i === 0 ? { inputShape: [20] } : {}),
      }),
    );
  }
  layers.push(
    tf.layers.dense({
      units: 1,
      kernelInitializer: tf.initializers.glorotUniform({ seed: deriveSeed(seed, 9) }),
    }),
  );
  return tf.sequential({ layers });
}
