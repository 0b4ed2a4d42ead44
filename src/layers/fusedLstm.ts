/**
 * A fused LSTM layer: the same function and weights as `tf.layers.lstm` (the last output only), run as one
 * custom-gradient op instead of the stock layer's per-step ops and their gradients.
 *
 * Why: the char-LSTM benchmark task's training step ran ~4,600 TF.js kernels, most of them the stock LSTM's
 * per-step ops, their gradients and the tape's clones of what they save (~1,500 Identity); the products are
 * tiny, so per-kernel overhead was the cost. Here the gradient tape records one op. The forward projects the
 * inputs of all time steps in one matmul, then runs 20 kernels per step, 10 of them cheap row slices (the
 * first step 16); the hand-written backward (BPTT) runs 9 per step, 3 of them slices, and one matmul each
 * for the kernel, recurrent-kernel and input gradients over all steps at once. The task's whole training
 * step: ~1,100 kernels instead of 4,591, ~2x faster on wasm.
 */
import * as tf from '@tensorflow/tfjs';

type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;
type Kwargs = Parameters<tf.layers.Layer['call']>[1];
type LayerVariable = tf.layers.Layer['trainableWeights'][number];
/** An initializer object (tf.initializers.*). */
type Initializer = ReturnType<typeof tf.initializers.ones>;
/** What the config fields accept: an initializer, its name ('glorotUniform') or its serialized form. */
type InitializerLike = NonNullable<tf.LSTMLayerArgs['kernelInitializer']> | tf.serialization.ConfigDict;

/** Configuration of {@link fusedLstm}: the `tf.layers.lstm` fields it supports, plus the common layer fields. */
export interface FusedLstmArgs extends LayerArgs {
  /** Size of the hidden and cell state (the output's last dimension). */
  units: number;
  /** Initializer of the input kernel [inputDim, 4 * units]. Default 'glorotNormal' (as `tf.layers.lstm`). */
  kernelInitializer?: InitializerLike;
  /** Initializer of the recurrent kernel [units, 4 * units]. Default 'orthogonal' (as `tf.layers.lstm`). */
  recurrentInitializer?: InitializerLike;
  /** Initializer of the bias [4 * units]. Default 'zeros' (as `tf.layers.lstm`). */
  biasInitializer?: InitializerLike;
  /**
   * Initialise the forget gate's bias to ones (the other gates' from `biasInitializer`), as Keras. Default
   * false: TF.js 4.22's `tf.layers.lstm` leaves it undefined, i.e. off (Python Keras defaults to true).
   */
  unitForgetBias?: boolean;
}

/** Initializer factories by the names `tf.layers.lstm` accepts ('glorotUniform', 'orthogonal', ...). */
const FACTORIES = tf.initializers as unknown as Record<string, (args: object) => Initializer>;

/** The initializer an `InitializerLike` stands for, resolved as TF.js's own layers do. */
function toInitializer(id: InitializerLike | undefined, fallback: string): Initializer {
  const given = id ?? fallback;
  if (typeof given === 'string') {
    const factory = FACTORIES[given];
    if (typeof factory !== 'function') throw new Error(`fusedLstm: unknown initializer '${given}'.`);
    return factory({});
  }
  if (typeof (given as Initializer).apply === 'function') return given as Initializer;
  const { className, config } = given as { className?: string; config?: tf.serialization.ConfigDict };
  const entry = className ? tf.serialization.SerializationMap.getMap().classNameMap[className] : undefined;
  if (!entry) throw new Error(`fusedLstm: unknown initializer ${JSON.stringify(given)}.`);
  const [cls, fromConfig] = entry;
  return fromConfig(cls, config ?? {}) as unknown as Initializer;
}

/** An initializer's serialized form, as TF.js's layers write it in `getConfig`. */
function serializeInitializer(init: Initializer): tf.serialization.ConfigDict {
  return { className: init.getClassName(), config: init.getConfig() };
}

/**
 * The bias initializer of `unitForgetBias`, drawing in the same order as TF.js's LSTM cell: the input
 * gate's part, ones for the forget gate, then the cell and output gates' part (so a seeded initializer gives
 * the same values as the stock layer).
 */
function unitForgetBiasInitializer(inner: Initializer, units: number): Initializer {
  const init = {
    apply: () => tf.tidy(() => tf.concat([inner.apply([units]), tf.ones([units]), inner.apply([units * 2])])),
  };
  // Layer.addWeight only calls `apply`; the layer serializes `inner` and the flag, not this object.
  return init as unknown as Initializer;
}

/** Column order of the fused forward: the stock gate order (i, f, c, o) rearranged to (i, f, o, c). */
function forwardOrder(units: number): Int32Array {
  const idx = new Int32Array(4 * units);
  for (let j = 0; j < units; j++) {
    idx[j] = j;
    idx[units + j] = units + j;
    idx[2 * units + j] = 3 * units + j;
    idx[3 * units + j] = 2 * units + j;
  }
  return idx;
}

/**
 * tanh(y / 2), computed as 2 sigmoid(y) - 1: on wasm, Sigmoid is XNNPACK's vectorised kernel and Tanh a
 * scalar loop, ~6x slower (~50 us for a [64, 64] tensor, two per step). Equal to tanh up to float32
 * round-off (absolute error ~1e-7, i.e. relative error larger only for results near 0).
 */
const tanhOfHalf = (y: tf.Tensor) => tf.sub(tf.mul(tf.sigmoid(y), 2), 1);

/**
 * Per column of the rearranged gates, a factor and an offset folded into the weights: hard sigmoid's 0.2 and
 * 0.5 for i, f, o; 2 and 0 for the cell candidate, whose tanh is {@link tanhOfHalf} of twice its argument
 * (multiplying by 2 is exact).
 */
function gateScale(units: number): { scale: Float32Array; offset: Float32Array } {
  const scale = new Float32Array(4 * units).fill(2);
  const offset = new Float32Array(4 * units);
  scale.fill(0.2, 0, 3 * units);
  offset.fill(0.5, 0, 3 * units);
  return { scale, offset };
}

/** x [batch, T, in] as time-major rows [T batch, in] (row t * batch + b). */
function xt(x: tf.Tensor3D): tf.Tensor2D {
  const [batch, steps, inputDim] = x.shape;
  return tf.reshape(tf.transpose(x, [1, 0, 2]), [steps * batch, inputDim]) as tf.Tensor2D;
}

/** Rows `[from, from + n)` of a 2-D tensor: a contiguous block, which wasm copies with one memcpy. */
function rows(x: tf.Tensor, from: number, n: number): tf.Tensor2D {
  return tf.slice(x, [from, 0], [n, -1]) as tf.Tensor2D;
}

/**
 * The LSTM over a whole sequence as one op: x [batch, T, in], kernel [in, 4u], recurrent kernel [u, 4u], bias
 * [4u] (gate order i, f, c, o) to the last hidden state [batch, u], with recurrent activation hard sigmoid
 * (clip(0.2 z + 0.5, 0, 1)) and activation tanh, as `tf.layers.lstm`'s defaults.
 *
 * Layout: the recurrence runs on transposed states (hᵀ, cᵀ: [u, batch]) so that the gates of a step are
 * blocks of rows, which a slice copies in one piece; column slices, and `tf.split` (whose wasm kernel copies
 * its whole input once per output: splitting the [T batch, 4u] projections into 32 steps took ~40 ms), cost
 * far more. The forward rearranges the gates to (i, f, o, c) and folds the activations' affine parts into
 * the weights ({@link gateScale}), so one clip gives all three gates: rows 0..3u of a = K'ᵀxᵀ + R'ᵀhᵀ + b' are
 * 0.2 z + 0.5, rows 3u..4u are 2 z. The backward runs in the same gate order on the unscaled weights and
 * puts the gradients back in the stock order at the end.
 */
const lstmSequence = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, kernel, recurrent, bias] = args as [tf.Tensor3D, tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
  const save = args[4] as tf.GradSaveFunc;
  const [batch, steps, inputDim] = x.shape;
  const u = recurrent.shape[0];
  const order = tf.tensor1d(forwardOrder(u), 'int32');
  const { scale: s, offset: o } = gateScale(u);
  const scale = tf.tensor1d(s);
  const kernelF = tf.mul(tf.gather(kernel, order, 1), scale) as tf.Tensor2D;
  const recurrentT = tf.transpose(tf.mul(tf.gather(recurrent, order, 1), scale)) as tf.Tensor2D;
  const biasF = tf.add(tf.mul(tf.gather(bias, order), scale), tf.tensor1d(o)) as tf.Tensor1D;
  // The input projections of all steps in one product, already transposed: [K'; b']ᵀ [x_tᵀ; 1] for every t
  // (x as [T, in, batch] with a row of ones for the bias), so rows [t 4u, (t + 1) 4u) hold step t's.
  const kAug = tf.concat([kernelF, tf.reshape(biasF, [1, 4 * u])], 0);
  const xAug = tf.concat([tf.transpose(x, [1, 2, 0]), tf.ones([steps, 1, batch])], 1);
  const xz = tf.reshape(tf.matMul(kAug, xAug, true, false), [steps * 4 * u, batch]);
  // Per step, for the backward: pre-clip gates, the three gates, cell candidate, tanh of the cell state,
  // previous cell and hidden states.
  const pre: tf.Tensor[] = [];
  const is: tf.Tensor[] = [];
  const fs: tf.Tensor[] = [];
  const os: tf.Tensor[] = [];
  const gs: tf.Tensor[] = [];
  const tcs: tf.Tensor[] = [];
  const cPrevs: tf.Tensor[] = [tf.zeros([u, batch])];
  const hPrevs: tf.Tensor[] = [];
  let h: tf.Tensor | null = null;
  let c: tf.Tensor | null = null;
  for (let t = 0; t < steps; t++) {
    const xzt = rows(xz, t * 4 * u, 4 * u);
    const z = h === null ? xzt : tf.add(xzt, tf.matMul(recurrentT, h));
    const a = rows(z, 0, 3 * u);
    const act = tf.clipByValue(a, 0, 1);
    const [i, f, og] = [rows(act, 0, u), rows(act, u, u), rows(act, 2 * u, u)];
    const g = tanhOfHalf(rows(z, 3 * u, u));
    c = c === null ? tf.mul(i, g) : tf.add(tf.mul(f, c), tf.mul(i, g));
    const tc = tanhOfHalf(tf.mul(c, 2));
    h = tf.mul(og, tc);
    pre.push(a);
    is.push(i);
    fs.push(f);
    os.push(og);
    gs.push(g);
    tcs.push(tc);
    if (t < steps - 1) {
      cPrevs.push(c);
      hPrevs.push(h);
    }
  }
  const cat = (list: tf.Tensor[]) => (list.length === 1 ? list[0] : tf.concat(list, 0));
  // Each saved per-step quantity as blocks of rows, step t at block t ([T 3u, batch] for the pre-clip gates,
  // [T u, batch] for the others; h_0..h_{T-2} only with more than one step). Only under a gradient tape
  // (the engine's gradientDepth): without one (predict) `save` keeps nothing and the concatenations would
  // be wasted.
  if (tf.engine().state.gradientDepth > 0) {
    save([
      xt(x),
      kernel,
      recurrent,
      ...[pre, is, fs, os, gs, tcs, cPrevs].map(cat),
      ...(steps > 1 ? [cat(hPrevs)] : []),
    ]);
  }
  const value = tf.transpose(h as tf.Tensor) as tf.Tensor2D;

  const gradFunc = (dy: tf.Tensor2D, saved: tf.Tensor[]): tf.Tensor[] => {
    const [xs, k, r, a, iAll, fAll, oAll, g, tc, cPrev, hPrev] = saved as tf.Tensor2D[];
    // The backward runs in the forward's gate order (i, f, o, c) on the unscaled weights; the gradients of
    // the kernels and bias are put back in the stock order at the end (the rearrangement is its own inverse).
    const perm = tf.tensor1d(forwardOrder(u), 'int32');
    const recurrentP = tf.gather(r, perm, 1);
    // Everything that does not depend on the backward recurrence, for all steps at once; [T, gates, u,
    // batch] views line the gates of a step up; the recurrence then takes one block of rows per step.
    const perStep = (y: tf.Tensor, gates: number) => tf.reshape(y, [steps, gates, u, batch]);
    // Hard sigmoid's derivative: 0.2 where 0 <= a <= 1 (TF.js's ClipByValue gradient keeps both ends), i.e.
    // where the clip changed nothing. Written with Step, not comparisons: wasm's GreaterEqual, LessEqual and
    // LogicalAnd run ~20x slower than its Step on these [T 3u, batch] tensors (~2 ms each at the task's size).
    const slope = tf.mul(tf.sub(1, tf.step(tf.abs(tf.sub(a, tf.clipByValue(a, 0, 1))))), 0.2);
    const q = tf.mul(tf.concat([perStep(g, 1), perStep(cPrev, 1), perStep(tc, 1)], 1), perStep(slope, 3));
    const mc = tf.mul(iAll, tf.sub(1, tf.square(g)));
    // dz_t = [dc; dc; dh; dc] * m_t: the derivatives of the gates' pre-activations (i, f, o, c).
    const m = tf.reshape(tf.concat([q, perStep(mc, 1)], 1), [steps * 4 * u, batch]);
    // dc_t gets dh_t * o_t * (1 - tanh(c_t)^2); dc_{t-1} = dc_t * f_t.
    const p = tf.mul(oAll, tf.sub(1, tf.square(tc)));
    const dzs: tf.Tensor[] = new Array(steps);
    let dh: tf.Tensor = tf.transpose(dy);
    let carry: tf.Tensor | null = null;
    for (let t = steps - 1; t >= 0; t--) {
      const dhp = tf.mul(dh, rows(p, t * u, u));
      const dc: tf.Tensor = carry === null ? dhp : tf.add(carry, dhp);
      const dz = tf.mul(tf.concat([dc, dc, dh, dc], 0), rows(m, t * 4 * u, 4 * u));
      dzs[t] = dz;
      if (t > 0) {
        dh = tf.matMul(recurrentP, dz);
        carry = tf.mul(dc, rows(fAll, t * u, u));
      }
    }
    // Blocks of rows [n, batch] per step to the usual layout [steps * batch, n] (row t * batch + b, as `xs`).
    const normal = (y: tf.Tensor, n: number) =>
      tf.reshape(tf.transpose(tf.reshape(y, [-1, n, batch]), [0, 2, 1]), [-1, n]) as tf.Tensor2D;
    // dz of all steps at once: concatenated along rows (a block copy; along columns wasm copies row by row,
    // several times slower), then one transpose.
    const dz = normal(cat(dzs), 4 * u);
    const dKernel = tf.matMul(xs, dz, true, false);
    const dRecurrent =
      steps > 1
        ? tf.matMul(normal(hPrev, u), rows(dz, batch, (steps - 1) * batch), true, false)
        : tf.zeros([u, 4 * u]);
    const dx = tf.matMul(dz, tf.gather(k, perm, 1), false, true);
    return [
      tf.transpose(tf.reshape(dx, [steps, batch, inputDim]), [1, 0, 2]),
      tf.gather(dKernel, perm, 1),
      tf.gather(dRecurrent, perm, 1),
      tf.gather(tf.sum(dz, 0), perm),
    ];
  };
  return { value, gradFunc };
});

/**
 * A layer computing exactly `tf.layers.lstm({units, ...})` with `returnSequences: false` (the last hidden
 * state, [batch, units], from inputs [batch, T, inputDim]) and the stock defaults: activation tanh, recurrent
 * activation hard sigmoid, bias on, no dropout, zero initial state, no masking, not stateful. Same weights:
 * `kernel` [inputDim, 4 units], `recurrent_kernel` [units, 4 units], `bias` [4 units], gates in the order i,
 * f, c, o, listed in that order by `trainableWeights`, so `setWeights(stock.getWeights())` carries a stock
 * layer's values over. The whole sequence runs as one custom-gradient op ({@link fusedLstm}).
 */
export class FusedLstm extends tf.layers.Layer {
  /** The class name models are saved under (registered with `tf.serialization.registerClass`). */
  static className = 'FusedLstm';
  /** Hidden and cell state size. */
  readonly units: number;
  /** Whether the forget gate's bias starts at ones. */
  readonly unitForgetBias: boolean;
  private readonly kernelInitializer: Initializer;
  private readonly recurrentInitializer: Initializer;
  private readonly biasInitializer: Initializer;
  private kernel: LayerVariable | null = null;
  private recurrentKernel: LayerVariable | null = null;
  private bias: LayerVariable | null = null;

  /** @param args as {@link fusedLstm}. */
  constructor(args: FusedLstmArgs) {
    super(args);
    if (!Number.isInteger(args.units) || args.units < 1) {
      throw new Error(`fusedLstm: units must be a positive integer, got ${args.units}.`);
    }
    this.units = args.units;
    this.unitForgetBias = args.unitForgetBias === true;
    this.kernelInitializer = toInitializer(args.kernelInitializer, 'glorotNormal');
    this.recurrentInitializer = toInitializer(args.recurrentInitializer, 'orthogonal');
    this.biasInitializer = toInitializer(args.biasInitializer, 'zeros');
    this.inputSpec = [new tf.InputSpec({ ndim: 3 })];
  }

  /** Creates the weights for inputs [batch, T, inputDim]. */
  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const inputDim = shape[shape.length - 1];
    if (inputDim == null) throw new Error('fusedLstm: the input dimension must be known.');
    const u = this.units;
    this.kernel = this.addWeight('kernel', [inputDim, 4 * u], 'float32', this.kernelInitializer);
    this.recurrentKernel = this.addWeight(
      'recurrent_kernel',
      [u, 4 * u],
      'float32',
      this.recurrentInitializer,
    );
    const biasInit = this.unitForgetBias
      ? unitForgetBiasInitializer(this.biasInitializer, u)
      : this.biasInitializer;
    this.bias = this.addWeight('bias', [4 * u], 'float32', biasInit);
    this.built = true;
  }

  /** [batch, units]. */
  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [shape[0], this.units];
  }

  /** The last hidden state of the sequence. */
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    if (Array.isArray(inputs) && inputs.length !== 1) {
      throw new Error(`fusedLstm: takes one input (no initial state), got ${inputs.length}.`);
    }
    if (kwargs?.mask != null) throw new Error('fusedLstm: masking is not supported.');
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (x.rank !== 3) throw new Error(`fusedLstm: expects inputs [batch, T, inputDim], got [${x.shape}].`);
    if (!this.kernel || !this.recurrentKernel || !this.bias) throw new Error('fusedLstm: layer not built.');
    const [kernel, recurrent, bias] = [this.kernel, this.recurrentKernel, this.bias];
    return tf.tidy(() =>
      lstmSequence(
        x.dtype === 'float32' ? x : tf.cast(x, 'float32'),
        kernel.read(),
        recurrent.read(),
        bias.read(),
      ),
    );
  }

  /** The layer's configuration, for saving (initializers in TF.js's serialized form). */
  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      units: this.units,
      kernelInitializer: serializeInitializer(this.kernelInitializer),
      recurrentInitializer: serializeInitializer(this.recurrentInitializer),
      biasInitializer: serializeInitializer(this.biasInitializer),
      unitForgetBias: this.unitForgetBias,
    };
  }
}
tf.serialization.registerClass(FusedLstm);

/**
 * A fused LSTM layer: the function, weights and defaults of `tf.layers.lstm(config)` with `returnSequences`
 * false, computed as one custom-gradient op over the whole sequence (far fewer kernels per training step).
 * Supports `units`, the three initializers and `unitForgetBias`, plus the common layer fields (`inputShape`,
 * `name`, ...); no dropout, masking, initial state or other activations.
 *
 * Internal for now (the char-lstm benchmark task's model), not exported from the package: use it as
 * `tf.layers.lstm({ units })` would be used, e.g. between an embedding and a dense layer.
 */
export function fusedLstm(config: FusedLstmArgs): FusedLstm {
  return new FusedLstm(config);
}
