/** Float64 D-Adapt Adam and D-Adapt SGD, transcribed from ALGORITHMS.md §9.2-9.3, on flat arrays. */
import { vec } from './problems.js';

export interface DadaptAdamOracleOptions {
  lr?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  decouple?: boolean;
  useBiasCorrection?: boolean;
  d0?: number;
  growthRate?: number;
  /** §9.2's per-group layerScale, given here per variable (index of x). */
  layerScale?: number[];
}

export class DadaptAdamOracle {
  d: number;
  numWeighted = 0;
  k = 0;
  dlr = 0;
  private s?: Float64Array[];
  private m?: Float64Array[];
  private v?: Float64Array[];
  private readonly o: Required<DadaptAdamOracleOptions>;

  constructor(o: DadaptAdamOracleOptions = {}) {
    this.o = {
      lr: 1,
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      weightDecay: 0,
      decouple: false,
      useBiasCorrection: false,
      d0: 1e-6,
      growthRate: Number.POSITIVE_INFINITY,
      layerScale: [],
      ...o,
    };
    this.d = this.o.d0;
  }

  step(x: Float64Array[], gIn: Float64Array[]): void {
    const o = this.o;
    if (!this.s) {
      this.s = vec.zeros(x);
      this.m = vec.zeros(x);
      this.v = vec.zeros(x);
    }
    const { beta1, beta2, eps } = o;
    const bc = o.useBiasCorrection ? Math.sqrt(1 - beta2 ** (this.k + 1)) / (1 - beta1 ** (this.k + 1)) : 1;
    const dlr = this.d * o.lr * bc;
    this.dlr = dlr;
    const q = Math.sqrt(beta2);
    let numAcc = 0;
    let skL1 = 0;
    for (let i = 0; i < x.length; i++) {
      const l = o.layerScale[i] ?? 1;
      for (let j = 0; j < x[i].length; j++) {
        const g = gIn[i][j] + (o.weightDecay > 0 && !o.decouple ? o.weightDecay * x[i][j] : 0);
        numAcc += l * dlr * g * (this.s[i][j] / (Math.sqrt(this.v![i][j]) + eps));
        this.m![i][j] = beta1 * this.m![i][j] + l * dlr * (1 - beta1) * g;
        this.v![i][j] = beta2 * this.v![i][j] + (1 - beta2) * g * g;
        this.s[i][j] = q * this.s[i][j] + dlr * (1 - q) * g;
        skL1 += l * Math.abs(this.s[i][j]);
      }
    }
    this.k += 1;
    if (skL1 === 0) return;
    this.numWeighted = q * this.numWeighted + (1 - q) * numAcc;
    const dHat = this.numWeighted / ((1 - q) * skL1);
    this.d = Math.max(this.d, Math.min(dHat, this.d * o.growthRate));
    for (let i = 0; i < x.length; i++) {
      for (let j = 0; j < x[i].length; j++) {
        if (o.weightDecay > 0 && o.decouple) x[i][j] -= o.weightDecay * dlr * x[i][j];
        x[i][j] -= this.m![i][j] / (Math.sqrt(this.v![i][j]) + eps);
      }
    }
  }
}

export interface DadaptSgdOracleOptions {
  lr?: number;
  momentum?: number;
  weightDecay?: number;
  d0?: number;
  growthRate?: number;
}

export class DadaptSgdOracle {
  d: number;
  num = 0;
  g0Norm = 0;
  dlr = 0;
  private x0?: Float64Array[];
  private s?: Float64Array[];
  private readonly o: Required<DadaptSgdOracleOptions>;

  constructor(o: DadaptSgdOracleOptions = {}) {
    this.o = { lr: 1, momentum: 0, weightDecay: 0, d0: 1e-6, growthRate: Number.POSITIVE_INFINITY, ...o };
    this.d = this.o.d0;
  }

  step(x: Float64Array[], gIn: Float64Array[]): void {
    const o = this.o;
    if (!this.x0) {
      this.x0 = vec.clone(x);
      this.s = vec.zeros(x);
    }
    if (this.g0Norm === 0) this.g0Norm = Math.sqrt(vec.normSq(gIn));
    const g = gIn.map((gi, i) => gi.map((v, j) => v + o.weightDecay * x[i][j]));
    const dlr = (this.d * o.lr) / this.g0Norm;
    this.dlr = dlr;
    this.num += dlr * vec.dot(g, this.s!);
    for (let i = 0; i < x.length; i++) for (let j = 0; j < x[i].length; j++) this.s![i][j] += dlr * g[i][j];
    const sNorm = Math.sqrt(vec.normSq(this.s!));
    this.d = Math.max(this.d, Math.min((2 * this.num) / sNorm, this.d * o.growthRate));
    const c = 1 - o.momentum;
    for (let i = 0; i < x.length; i++) {
      for (let j = 0; j < x[i].length; j++) {
        const z = this.x0[i][j] - this.s![i][j];
        x[i][j] = (1 - c) * x[i][j] + c * z;
      }
    }
  }
}
