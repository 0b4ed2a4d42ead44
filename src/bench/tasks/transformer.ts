/** A character-level transformer language model on the char-lstm text (TypeScript's lib.dom.d.ts). */
import * as tf from '@tensorflow/tfjs';
import { deriveSeed, mulberry32 } from '../../core/rng.js';
import { loadCharText } from '../../data/text.js';
import type { EvalSplit, Suite, Task, TaskInstance } from '../task.js';
import { CHAR_TRANSFORMER, charTransformer } from './transformerModel.js';

const CONTEXT = CHAR_TRANSFORMER.context;
const VOCAB = CHAR_TRANSFORMER.vocab;
const BATCH = 32;
/**
 * Fixed windows in the validation and test splits (each predicts CONTEXT characters: 65,536 per split);
 * the quick suite takes 256 (16,384 characters), so that its evaluations cost less than its 30 steps.
 */
const EVAL_WINDOWS: Record<Suite, number> = { quick: 256, standard: 1024, full: 1024 };
/** Validation windows the in-training evaluations use (the first ones): a quarter keeps evaluations cheap. */
const MONITOR_WINDOWS = 256;
/** Windows per forward pass during evaluation (bounds the [chunk, heads, T, T] attention scores). */
const EVAL_CHUNK = 128;

/** Sequences of CONTEXT + 1 characters at `starts`: inputs x = chars 0..63, targets y = chars 1..64. */
function windows(ids: Uint8Array, starts: number[]): { x: tf.Tensor2D; y: tf.Tensor2D } {
  const x = new Int32Array(starts.length * CONTEXT);
  const y = new Int32Array(starts.length * CONTEXT);
  starts.forEach((s, i) => {
    for (let j = 0; j < CONTEXT; j++) {
      x[i * CONTEXT + j] = ids[s + j];
      y[i * CONTEXT + j] = ids[s + j + 1];
    }
  });
  return {
    x: tf.tensor2d(x, [starts.length, CONTEXT], 'int32'),
    y: tf.tensor2d(y, [starts.length, CONTEXT], 'int32'),
  };
}

/**
 * Next-character prediction at every position of 64-character windows: a pre-norm decoder-only transformer
 * (2 blocks, width 64, 4 heads, causal mask, GELU MLP of width 256; `transformerModel.ts`), batch 32
 * windows (2048 predicted characters per step). Data, vocabulary (96 characters) and split as char-lstm:
 * the first 80% of the text trains, the next 10% validates, the last 10% tests, every window lying inside
 * its split; each step draws its windows at seeded positions; validation and test are 1024 fixed windows
 * each (256 in the quick suite), the in-training monitor the first 256 validation windows. Loss: mean
 * cross-entropy in nats over all positions; metric: next-character accuracy over all positions.
 */
export const charTransformerTask: Task = {
  name: 'char-transformer',
  description:
    'char-level transformer (2 pre-norm blocks, width 64, 4 heads, context 64) on lib.dom.d.ts, batch 32',
  batchSize: BATCH,
  // Standard: 1000 steps (2M predicted characters, about 1.3 passes over the training text) is what the
  // standard suite can afford (~0.1-0.3 s per step on wasm); adamw@3e-3+cosine (seed 1) is still gaining
  // there (monitored validation loss 1.84 at step 450, 1.63 at 1000; whole validation split 1.80 after a
  // 500-step run, 1.52 after 1000), so it is not a plateau: full's 4000 steps are the check.
  budget: { quick: 30, standard: 1000, full: 4000 },
  evalEvery: 50,
  metricName: 'accuracy',
  // adamw@3e-3+cosine (seed 1, standard) reached monitored accuracy 0.56 at step 450 and 0.607 at 1000.
  target: { metric: 0.55 },
  create(seed, suite): TaskInstance {
    const { ids } = loadCharText(VOCAB);
    const trainEnd = Math.floor(0.8 * ids.length);
    const valEnd = Math.floor(0.9 * ids.length);
    const span = CONTEXT + 1;
    const fixed = (from: number, to: number, s: number) => {
      const r = mulberry32(s);
      return windows(
        ids,
        Array.from({ length: EVAL_WINDOWS[suite] }, () => from + Math.floor(r() * (to - from - span))),
      );
    };
    const validation = fixed(trainEnd, valEnd, 21);
    const test = fixed(valEnd, ids.length, 22);
    const monitor =
      MONITOR_WINDOWS < EVAL_WINDOWS[suite]
        ? {
            x: validation.x.slice(0, MONITOR_WINDOWS) as tf.Tensor2D,
            y: validation.y.slice(0, MONITOR_WINDOWS) as tf.Tensor2D,
          }
        : validation;
    const model = charTransformer(CHAR_TRANSFORMER, deriveSeed(seed, 0x7a5));
    const evaluate = (d: { x: tf.Tensor2D; y: tf.Tensor2D }) => {
      const rows = d.x.shape[0];
      let loss = 0;
      let correct = 0;
      for (let from = 0; from < rows; from += EVAL_CHUNK) {
        const size = Math.min(EVAL_CHUNK, rows - from);
        const [l, c] = tf.tidy(() => {
          const x = d.x.slice(from, size);
          const y = d.y.slice(from, size);
          const z = model.logits(x).reshape([-1, VOCAB]);
          const labels = y.reshape([-1]);
          const ce = tf.losses.softmaxCrossEntropy(tf.oneHot(labels as tf.Tensor1D, VOCAB), z);
          const hits = tf.equal(tf.argMax(z, -1), labels).cast('float32').sum();
          return [ce.dataSync()[0], hits.dataSync()[0]];
        }) as unknown as [number, number];
        loss += l * size;
        correct += c;
      }
      return { loss: loss / rows, metric: correct / (rows * CONTEXT) };
    };
    const split = (s: EvalSplit) => (s === 'monitor' ? monitor : s === 'validation' ? validation : test);
    return {
      variables: model.variables,
      stepsPerEpoch: Math.floor(trainEnd / (BATCH * CONTEXT)),
      batch(step) {
        const r = mulberry32(deriveSeed(seed, 0xc4a3, step));
        const b = windows(
          ids,
          Array.from({ length: BATCH }, () => Math.floor(r() * (trainEnd - span))),
        );
        return { loss: () => model.loss(b.x, b.y), release: () => tf.dispose([b.x, b.y]) };
      },
      evaluate: (s) => evaluate(split(s)),
      dispose() {
        tf.dispose([...new Set([validation.x, validation.y, test.x, test.y, monitor.x, monitor.y])]);
        model.dispose();
      },
    };
  },
};
