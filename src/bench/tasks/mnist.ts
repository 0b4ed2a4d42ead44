/** MNIST tasks: the slides' MLP with 2 hidden layers, and the same with BatchNorm and Dropout. */
import { loadMnist } from '../../data/mnist.js';
import { mlp } from '../../train/models.js';
import { accuracy, crossEntropy, dataTaskInstance, MONITOR_SIZE, type Suite, type Task } from '../task.js';

/** Training images per suite: the quick suite trains on a slice so the demo stays within minutes. */
const TRAIN_SIZE: Record<Suite, number> = { quick: 6400, standard: 50000, full: 50000 };

function mnistTask(bnDropout: boolean): Task {
  return {
    name: bnDropout ? 'mnist-bn-dropout' : 'mnist-mlp',
    description: `MNIST MLP 784-128-128-10${bnDropout ? ' with BatchNorm and Dropout 0.2' : ''}, batch 128`,
    batchSize: 128,
    // Standard: 3 epochs (BN+Dropout: 2), and the same tasks at 4x (mnist-mlp-4x, mnist-bn-dropout-4x) to
    // show whether the ranking is a short-horizon artefact (docs/benchmark.md, "Budgets").
    budget: { quick: 100, standard: 391 * (bnDropout ? 2 : 3), full: 391 * 20 },
    evalEvery: 50,
    metricName: 'accuracy',
    target: { metric: 0.95 },
    create(seed, suite) {
      const data = loadMnist({
        trainSize: TRAIN_SIZE[suite],
        validationSize: suite === 'quick' ? 2000 : 10000,
        testSize: suite === 'quick' ? 2000 : 10000,
      });
      const model = mlp({
        inputs: 784,
        hidden: [128, 128],
        classes: 10,
        seed,
        batchNorm: bnDropout,
        dropout: bnDropout ? 0.2 : 0,
      });
      return dataTaskInstance({
        model,
        ...data,
        batchSize: 128,
        seed,
        lossOf: crossEntropy,
        metricOf: accuracy,
        monitorSize: MONITOR_SIZE[suite],
      });
    },
  };
}

export const mnistMlp = mnistTask(false);
export const mnistBnDropout = mnistTask(true);
