/** The shared leak check inside model.fit: a tiny BN+Dropout MLP, compiled metrics, 1000 batches of 2. */
import * as tf from '@tensorflow/tfjs';
import type { LrfreeOptimizer } from '../../src/core/optimizer.js';
import { tinyMlp, toyClassification } from './tf.js';

/**
 * Trains `steps` batches with `opt` in model.fit (accuracy and mse metrics, which fit's loss closure keeps a
 * tensor for on every call) and returns tf.memory().numTensors after batch 10 and after the last batch.
 */
export async function fitTensorCounts(
  opt: LrfreeOptimizer,
  steps: number,
): Promise<{ atBatch10: number; atEnd: number }> {
  const model = tinyMlp(4, 6, 3, { bn: true, dropout: 0.2 });
  const { x, y } = toyClassification(steps * 2, 4, 3);
  model.compile({ optimizer: opt, loss: 'categoricalCrossentropy', metrics: ['accuracy', 'mse'] });
  const counts: number[] = [];
  try {
    await model.fit(x, y, {
      batchSize: 2,
      epochs: 1,
      shuffle: false,
      verbose: 0,
      callbacks: {
        onBatchEnd: async (batch) => {
          if (batch === 9 || batch === steps - 1) counts.push(tf.memory().numTensors);
        },
      },
    });
  } finally {
    tf.dispose([x, y]);
    model.dispose();
  }
  if (counts.length !== 2) throw new Error(`fit ran ${counts.length} of the 2 measured batches`);
  return { atBatch10: counts[0], atEnd: counts[1] };
}
