/** A small CNN on Fashion-MNIST. */
import * as tf from '@tensorflow/tfjs';
import { deriveSeed } from '../../core/rng.js';
import { loadFashionMnist } from '../../data/fashion.js';
import { accuracy, crossEntropy, dataTaskInstance, MONITOR_SIZE, type Task } from '../task.js';

/** conv(8,3x3,relu) - maxpool - conv(16,3x3,relu) - maxpool - dense(10, softmax), batch 64. */
export const fashionCnn: Task = {
  name: 'fashion-cnn',
  description: 'Fashion-MNIST, CNN conv8-pool-conv16-pool-dense10, batch 64',
  batchSize: 64,
  // Standard: cut to fit the suite's 60 min on 2 cores.
  // Standard: 2 epochs (v1 had 400 steps, half an epoch, where every curve was still falling).
  budget: { quick: 60, standard: 782 * 2, full: 781 * 5 },
  evalEvery: 50,
  metricName: 'accuracy',
  target: { metric: 0.8 },
  create(seed, suite) {
    const data = loadFashionMnist({ shape: 'image', perClass: suite === 'quick' ? 500 : 5000 });
    const init = (i: number) => tf.initializers.glorotUniform({ seed: deriveSeed(seed, 0xcc, i) });
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({
          inputShape: [28, 28, 1],
          filters: 8,
          kernelSize: 3,
          activation: 'relu',
          kernelInitializer: init(0),
        }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.conv2d({ filters: 16, kernelSize: 3, activation: 'relu', kernelInitializer: init(1) }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: init(2) }),
      ],
    });
    return dataTaskInstance({
      model,
      ...data,
      batchSize: 64,
      seed,
      lossOf: crossEntropy,
      metricOf: accuracy,
      monitorSize: MONITOR_SIZE[suite],
    });
  },
};
