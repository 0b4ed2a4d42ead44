/**
 * A small decoder-only transformer (GPT-style, pre-norm) built from TF.js ops on `tf.variable` weights.
 * TF.js 4.22's layers have no multi-head attention, and a model of plain ops keeps every kernel visible to
 * a profile: the gradients come from TF.js's autodiff. Used by the `char-transformer` benchmark task and by
 * engine benchmarks that time one training step ({@link charTransformer}, {@link transformerStep}).
 */
import * as tf from '@tensorflow/tfjs';
import { deriveSeed } from '../../core/rng.js';
import { LrfreeConfigError } from '../../core/validate.js';

/** The shape of a {@link charTransformer}. */
export interface TransformerConfig {
  /** Tokens in the vocabulary (ids 0..vocab-1). */
  vocab: number;
  /** Context length: the most tokens one sequence may hold (learned positional embeddings). */
  context: number;
  /** Model width (embedding size). */
  width: number;
  /** Attention heads; must divide `width`. */
  heads: number;
  /** Transformer blocks. */
  blocks: number;
  /** Hidden width of each block's MLP, as a multiple of `width`. Default 4. */
  mlpRatio?: number;
}

/** The weights of one pre-norm block: x + attn(ln1(x)), then x + mlp(ln2(x)). */
interface Block {
  ln1: { gamma: tf.Variable; beta: tf.Variable };
  qkv: { w: tf.Variable; b: tf.Variable };
  proj: { w: tf.Variable; b: tf.Variable };
  ln2: { gamma: tf.Variable; beta: tf.Variable };
  fc: { w: tf.Variable; b: tf.Variable };
  out: { w: tf.Variable; b: tf.Variable };
}

/** A transformer language model: its variables, its logits and its next-token loss. */
export interface CharTransformer {
  readonly config: Required<TransformerConfig>;
  /** Every trainable weight, in a fixed order. */
  readonly variables: tf.Variable[];
  /** Next-token logits `[batch, time, vocab]` of int32 token ids `[batch, time]` (time <= context). */
  logits(x: tf.Tensor2D): tf.Tensor3D;
  /** Mean cross-entropy (nats) of predicting `y[b, t]` (int32 ids) from `x[b, 0..t]`, over every position. */
  loss(x: tf.Tensor2D, y: tf.Tensor2D): tf.Scalar;
  /** Frees the weights and the constant mask. */
  dispose(): void;
}

/** GPT-2's initial weight scale: N(0, 0.02), residual projections scaled by 1/sqrt(2 * blocks). */
const INIT_STD = 0.02;
const LN_EPSILON = 1e-5;
/** Added to the scores of future positions: exp(-1e9 - max) is exactly 0 in float32, so the mask is exact. */
const MASKED = -1e9;

/** Models built so far in this process: numbers their variables' names. */
let models = 0;

function checkConfig(c: TransformerConfig): Required<TransformerConfig> {
  const full = { mlpRatio: 4, ...c };
  for (const key of ['vocab', 'context', 'width', 'heads', 'blocks', 'mlpRatio'] as const) {
    const v = full[key];
    if (!Number.isInteger(v) || v < 1)
      throw new LrfreeConfigError(`charTransformer: ${key} must be a positive integer, got ${v}.`);
  }
  if (full.width % full.heads !== 0)
    throw new LrfreeConfigError(
      `charTransformer: heads (${full.heads}) must divide width (${full.width}); e.g. width 64 with 4 heads.`,
    );
  return full;
}

/**
 * Builds a pre-norm decoder-only transformer: token and learned positional embeddings, `blocks` blocks of
 * causal multi-head self-attention and a GELU MLP (each behind a layer norm, added to the residual), a final
 * layer norm and an untied linear head. No dropout. Every initial weight is drawn from `seed`.
 */
export function charTransformer(config: TransformerConfig, seed: number): CharTransformer {
  const c = checkConfig(config);
  const { vocab, context, width, heads, blocks, mlpRatio } = c;
  let draw = 0;
  // tf.variable keeps its initial tensor alive beside the variable: each is built, copied and freed.
  const variable = (init: () => tf.Tensor, name: string) => {
    const value = tf.tidy(init);
    const v = tf.variable(value, true, name);
    value.dispose();
    return v;
  };
  const normal = (shape: number[], std: number, name: string) =>
    variable(() => tf.randomNormal(shape, 0, std, 'float32', deriveSeed(seed, 0x7f0, draw++)), name);
  // Variable names must be unique in the engine: a suffix per model keeps two models apart.
  const id = `${seed}_${++models}`;
  const filled = (shape: number[], value: number, name: string) =>
    variable(() => tf.fill(shape, value), `${name}_${id}`);
  const n = (name: string) => `${name}_${id}`;
  const tokenEmbedding = normal([vocab, width], INIT_STD, n('tok_emb'));
  const positionEmbedding = normal([context, width], INIT_STD, n('pos_emb'));
  const residualStd = INIT_STD / Math.sqrt(2 * blocks);
  const layers: Block[] = Array.from({ length: blocks }, (_, i) => ({
    ln1: { gamma: filled([width], 1, `b${i}_ln1_g`), beta: filled([width], 0, `b${i}_ln1_b`) },
    qkv: {
      w: normal([width, 3 * width], INIT_STD, n(`b${i}_qkv_w`)),
      b: filled([3 * width], 0, `b${i}_qkv_b`),
    },
    proj: {
      w: normal([width, width], residualStd, n(`b${i}_proj_w`)),
      b: filled([width], 0, `b${i}_proj_b`),
    },
    ln2: { gamma: filled([width], 1, `b${i}_ln2_g`), beta: filled([width], 0, `b${i}_ln2_b`) },
    fc: {
      w: normal([width, mlpRatio * width], INIT_STD, n(`b${i}_fc_w`)),
      b: filled([mlpRatio * width], 0, `b${i}_fc_b`),
    },
    out: {
      w: normal([mlpRatio * width, width], residualStd, n(`b${i}_out_w`)),
      b: filled([width], 0, `b${i}_out_b`),
    },
  }));
  const lnF = { gamma: filled([width], 1, 'lnf_g'), beta: filled([width], 0, 'lnf_b') };
  const head = { w: normal([width, vocab], INIT_STD, n('head_w')), b: filled([vocab], 0, 'head_b') };
  const variables = [
    tokenEmbedding,
    positionEmbedding,
    ...layers.flatMap((l) => [
      l.ln1.gamma,
      l.ln1.beta,
      l.qkv.w,
      l.qkv.b,
      l.proj.w,
      l.proj.b,
      l.ln2.gamma,
      l.ln2.beta,
      l.fc.w,
      l.fc.b,
      l.out.w,
      l.out.b,
    ]),
    lnF.gamma,
    lnF.beta,
    head.w,
    head.b,
  ];
  // Upper triangle (future positions) masked, kept for the model's lifetime.
  const mask = tf.tidy(() =>
    tf.sub(tf.scalar(1), tf.linalg.bandPart(tf.ones([context, context]), -1, 0)).mul(tf.scalar(MASKED)),
  ) as tf.Tensor2D;
  const headDim = width / heads;
  const scale = 1 / Math.sqrt(headDim);

  const dense = (x: tf.Tensor2D, p: { w: tf.Tensor; b: tf.Tensor }): tf.Tensor2D =>
    tf.fused.matMul({ a: x, b: p.w as tf.Tensor2D, bias: p.b }) as tf.Tensor2D;
  const layerNorm = (x: tf.Tensor2D, p: { gamma: tf.Tensor; beta: tf.Tensor }) => {
    const { mean, variance } = tf.moments(x, -1, true);
    return x
      .sub(mean)
      .mul(tf.rsqrt(variance.add(LN_EPSILON)))
      .mul(p.gamma)
      .add(p.beta) as tf.Tensor2D;
  };
  // GELU, tanh approximation (GPT-2's): 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). x^3 as two
  // products: wasm's Pow is a scalar libm loop, far slower than a Multiply on [2048, 256] (profiled).
  const gelu = (x: tf.Tensor2D) => {
    const inner = x.add(x.mul(x).mul(x).mul(0.044715)).mul(Math.sqrt(2 / Math.PI));
    return x.mul(0.5).mul(tf.tanh(inner).add(1)) as tf.Tensor2D;
  };

  /** Causal self-attention of `h` ([batch * time, width] rows) within each sequence. */
  const attention = (h: tf.Tensor2D, p: Block, batch: number, time: number): tf.Tensor2D => {
    // [B*T, 3W] -> [B, T, 3, H, Dh] -> [3, B, H, T, Dh]: q, k and v per head.
    const qkv = dense(h, p.qkv).reshape([batch, time, 3, heads, headDim]).transpose([2, 0, 3, 1, 4]);
    const [q, k, v] = tf.unstack(qkv, 0) as tf.Tensor4D[];
    const m = time === context ? mask : mask.slice([0, 0], [time, time]);
    const scores = tf.matMul(q, k, false, true).mul(tf.scalar(scale)).add(m);
    const y = tf.matMul(tf.softmax(scores), v); // [B, H, T, Dh]
    return dense(y.transpose([0, 2, 1, 3]).reshape([batch * time, width]) as tf.Tensor2D, p.proj);
  };

  const logits = (x: tf.Tensor2D): tf.Tensor3D =>
    tf.tidy(() => {
      const [batch, time] = x.shape;
      if (x.rank !== 2 || time > context || time < 1)
        throw new LrfreeConfigError(
          `charTransformer: input must be int32 ids [batch, time] with 1 <= time <= ${context}, got [${x.shape}].`,
        );
      const pos = time === context ? positionEmbedding : positionEmbedding.slice([0, 0], [time, width]);
      let h = tf
        .gather(tokenEmbedding, x)
        .add(pos)
        .reshape([batch * time, width]) as tf.Tensor2D;
      for (const p of layers) {
        h = h.add(attention(layerNorm(h, p.ln1), p, batch, time));
        h = h.add(dense(gelu(dense(layerNorm(h, p.ln2), p.fc)), p.out));
      }
      return dense(layerNorm(h, lnF), head).reshape([batch, time, vocab]) as tf.Tensor3D;
    });

  return {
    config: c,
    variables,
    logits,
    loss: (x, y) =>
      tf.tidy(() => {
        const z = logits(x).reshape([-1, vocab]);
        const labels = tf.oneHot(y.reshape([-1]) as tf.Tensor1D, vocab);
        return tf.losses.softmaxCrossEntropy(labels, z) as tf.Scalar;
      }),
    dispose: () => tf.dispose([...variables, mask]),
  };
}

/** The char-transformer task's model: width 64, 4 heads, 2 blocks, context 64, over `vocab` characters. */
export const CHAR_TRANSFORMER: TransformerConfig = { vocab: 96, context: 64, width: 64, heads: 4, blocks: 2 };

/**
 * One training step of a {@link charTransformer} on a seeded random batch, for engine benchmarks: returns a
 * `step()` that computes the loss and the gradients of every variable and applies plain SGD (the optimizer is
 * not what is timed), and `dispose()`. Tensors per step are freed.
 */
export function transformerStep(
  options: { config?: TransformerConfig; batch?: number; seed?: number; learningRate?: number } = {},
): { model: CharTransformer; step: () => number; dispose: () => void } {
  const config = options.config ?? CHAR_TRANSFORMER;
  const batch = options.batch ?? 32;
  const seed = options.seed ?? 1;
  const model = charTransformer(config, seed);
  const ids = tf.tidy(() =>
    tf.randomUniform([batch, config.context + 1], 0, config.vocab, 'int32', deriveSeed(seed, 0x57e9)),
  );
  const x = ids.slice([0, 0], [batch, config.context]) as tf.Tensor2D;
  const y = ids.slice([0, 1], [batch, config.context]) as tf.Tensor2D;
  const sgd = tf.train.sgd(options.learningRate ?? 0.01);
  return {
    model,
    step: () => {
      const cost = sgd.minimize(() => model.loss(x, y), true, model.variables);
      const value = cost!.dataSync()[0];
      cost!.dispose();
      return value;
    },
    dispose: () => {
      tf.dispose([ids, x, y]);
      sgd.dispose();
      model.dispose();
    },
  };
}
