/**
 * The Probe: evaluates phi(eta) = loss(w0 - eta*d) on the step's batch with a forward pass only, and
 * leaves the weights and the batch-norm moving statistics exactly as they were.
 *
 * Purity rules (ALGORITHMS.md §0.1, traps T1, T2, T29):
 * - every evaluation of a step runs with `Math.random` seeded by the step's seed, so Dropout draws the
 *   same mask for each of them;
 * - non-trainable variables (batch-norm moving statistics) are snapshotted before the first extra
 *   evaluation and restored afterwards, so only the gradient call's update counts, as in plain training;
 * - probes run outside any gradient tape;
 * - the weights are snapshotted before the first probe and always end at w0 or at the committed point.
 */
import * as tf from '@tensorflow/tfjs';
import { etaOf, sameEta, stepFrom } from './eta.js';
import { withSeededMathRandom } from './rng.js';
import type { Eta } from './types.js';
import { LrfreeConfigError } from './validate.js';

/** State of the extra evaluations of one optimizer step. */
export class ProbeSession {
  /** Loss-only evaluations made. */
  forwards = 0;
  /** Extra gradient evaluations made (beyond the step's own). */
  backwards = 0;
  private w0?: tf.Tensor[];
  private statsSnapshot?: tf.Tensor[];
  /** Where the weights stand after the last move: a commit there needs no second move. */
  private at?: { eta: Eta; dir: readonly tf.Tensor[] };

  constructor(
    private readonly vars: readonly tf.Variable[],
    private readonly groupOf: readonly number[],
    private readonly closure: (() => tf.Scalar) | undefined,
    private readonly seed: number,
    private readonly nonTrainables: () => tf.Variable[],
    /** Receives tensors the closure keeps during extra evaluations (fit's metrics). */
    private readonly onKept: (t: tf.Tensor) => void,
    private readonly owner: string,
  ) {}

  /** True once the weights have been moved by a probe. */
  get moved(): boolean {
    return this.w0 !== undefined;
  }

  /** phi(eta) along `dir`; non-finite losses come back as +Infinity. */
  phi(eta: Eta, dir: readonly tf.Tensor[]): number {
    return this.phiMany([eta], dir)[0];
  }

  /** Several probes, read back with a single sync. */
  phiMany(etas: readonly Eta[], dir: readonly tf.Tensor[]): number[] {
    const f = this.requireClosure();
    this.snapshot();
    const losses: tf.Tensor[] = [];
    try {
      for (const eta of etas) {
        this.moveTo(eta, dir);
        losses.push(this.extraCall(() => tf.keep(tf.reshape(f(), []))));
        this.forwards += 1;
      }
      const stacked = tf.stack(losses);
      const values = stacked.dataSync();
      stacked.dispose();
      return Array.from(values, (v) => (Number.isFinite(v) ? v : Number.POSITIVE_INFINITY));
    } finally {
      tf.dispose(losses);
    }
  }

  /** Gradient at w0 + offsets (one extra backward), weights and statistics left as they were. */
  gradientAt(offsets: readonly tf.Tensor[]): { loss: number; grads: tf.Tensor[] } {
    const f = this.requireClosure();
    this.snapshot();
    const w0 = this.w0!;
    this.at = undefined;
    for (let i = 0; i < this.vars.length; i++) tf.tidy(() => this.vars[i].assign(tf.add(w0[i], offsets[i])));
    const { value, grads } = this.extraCall(() => tf.variableGrads(f, [...this.vars]));
    this.backwards += 1;
    const loss = value.dataSync()[0];
    value.dispose();
    this.restoreWeights();
    return { loss, grads: this.vars.map((v) => grads[v.name]) };
  }

  /**
   * Ends the step: commits w = base - eta*dir (base = w0 if probes moved the weights, else the current
   * weights), restores the statistics and frees the snapshots. eta = 0 restores w0.
   *
   * `accept`, when given, sees the point about to be committed (the new weight values, before any
   * variable is written) and may refuse it: then the weights end at w0 and `commit` returns false. This
   * is the last finiteness guard: a NaN or infinite eta, update or overflow never reaches the weights.
   */
  commit(
    eta: Eta,
    dir: readonly tf.Tensor[],
    zero: boolean,
    accept?: (next: readonly tf.Tensor[]) => boolean,
  ): boolean {
    try {
      if (zero) {
        if (this.w0) this.restoreWeights();
        return !accept || accept(this.vars);
      }
      if (this.at && this.at.dir === dir && sameEta(this.at.eta, eta)) {
        // Line searches usually accept the last probe: the weights already stand there, bit for bit.
        if (!accept || accept(this.vars)) return true;
        this.restoreWeights();
        return false;
      }
      const base = this.w0;
      const next = tf.tidy(() =>
        this.vars.map((v, i) => stepFrom(base ? base[i] : v, dir[i], etaOf(eta, i, this.groupOf[i]))),
      );
      try {
        if (accept && !accept(next)) {
          if (this.w0) this.restoreWeights();
          return false;
        }
        // assign shares the new data; the tensors themselves are freed below.
        this.vars.forEach((v, i) => {
          v.assign(next[i]);
        });
        return true;
      } finally {
        tf.dispose(next);
      }
    } finally {
      this.finish();
    }
  }

  /** Ends the step without moving: weights back to w0, statistics restored, snapshots freed. */
  abort(): void {
    try {
      if (this.w0) this.restoreWeights();
    } finally {
      this.finish();
    }
  }

  private moveTo(eta: Eta, dir: readonly tf.Tensor[]): void {
    this.at = undefined;
    const base = this.w0;
    for (let i = 0; i < this.vars.length; i++) {
      const v = this.vars[i];
      const e = etaOf(eta, i, this.groupOf[i]);
      // Inside tidy: assign shares the new data; the temporary tensor itself must be freed.
      tf.tidy(() => v.assign(stepFrom(base ? base[i] : v, dir[i], e)));
    }
    if (base) this.at = { eta, dir };
  }

  private restoreWeights(): void {
    this.at = undefined;
    const w0 = this.w0!;
    for (let i = 0; i < this.vars.length; i++) this.vars[i].assign(w0[i]);
  }

  private snapshot(): void {
    if (!this.w0) this.w0 = this.vars.map((v) => tf.keep(v.clone()));
    if (!this.statsSnapshot) {
      this.statsSnapshot = this.nonTrainables().map((v) => tf.keep(v.clone()));
    }
  }

  private finish(): void {
    if (this.statsSnapshot) {
      const vars = this.nonTrainables();
      if (vars.length === this.statsSnapshot.length) {
        vars.forEach((v, i) => {
          v.assign(this.statsSnapshot![i]);
        });
      }
      tf.dispose(this.statsSnapshot);
      this.statsSnapshot = undefined;
    }
    if (this.w0) {
      tf.dispose(this.w0);
      this.w0 = undefined;
    }
    this.at = undefined;
  }

  private requireClosure(): () => tf.Scalar {
    if (!this.closure) {
      throw new LrfreeConfigError(
        `${this.owner}: this step needs to re-evaluate the loss, but no loss closure was given; ` +
          'call minimize(lossFn) (model.fit does) instead of applyGradients().',
      );
    }
    return this.closure;
  }

  /**
   * Runs an extra evaluation of the closure: seeded like the step's first call, and with the engine's
   * keep() recorded, because model.fit's closure keeps one tensor per metric per call and reads only the
   * first call's (TFJS-NOTES §1). The recorded tensors are disposed at the next step.
   */
  private extraCall<T extends tf.TensorContainer>(fn: () => T): T {
    const engine = tf.engine() as unknown as { keep: <U extends tf.Tensor>(t: U) => U };
    const originalKeep = engine.keep;
    engine.keep = <U extends tf.Tensor>(t: U): U => {
      this.onKept(t);
      return originalKeep.call(engine, t) as U;
    };
    try {
      return withSeededMathRandom(this.seed, () => tf.tidy(fn));
    } finally {
      engine.keep = originalKeep;
    }
  }
}
