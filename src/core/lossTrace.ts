/**
 * A run's training losses in bounded memory: the finite losses in at most `capacity` bins of equal size
 * (full bins merge pairwise, so a run of any length keeps at most `capacity` numbers), enough to compare a
 * stretch of the run with another, with an interval (every optimizer's report, ./runReport.ts).
 */

/** The mean of the losses over a stretch of the run and its standard error (over the stretch's bins). */
export interface LossWindow {
  /** First and last step (1-based, inclusive) the stretch covers. */
  fromStep: number;
  toStep: number;
  mean: number;
  /** Standard error of the mean from the bins' spread; null with a single bin (no spread to read). */
  se: number | null;
}

export class LossTrace {
  private bins: number[] = [];
  private binSize = 1;
  /** The running mean of the bin still filling (a mean, not a sum: a sum of huge losses overflows). */
  private partialMean = 0;
  private partialCount = 0;
  /** Finite losses recorded. */
  count = 0;

  /** @param capacity bins kept at most (even, at least 8). */
  constructor(private readonly capacity = 1024) {
    if (!(Number.isInteger(capacity) && capacity >= 8 && capacity % 2 === 0)) {
      throw new RangeError(`LossTrace: capacity = ${capacity}; use an even integer of at least 8.`);
    }
  }

  /** Records one step's loss; a non-finite one is not a loss the run reached and is left out. */
  add(loss: number): void {
    if (!Number.isFinite(loss)) return;
    this.count += 1;
    this.partialCount += 1;
    this.partialMean += loss / this.partialCount - this.partialMean / this.partialCount;
    if (this.partialCount < this.binSize) return;
    this.bins.push(this.partialMean);
    this.partialMean = 0;
    this.partialCount = 0;
    if (this.bins.length === this.capacity) {
      const merged: number[] = [];
      for (let i = 0; i < this.bins.length; i += 2) merged.push(this.bins[i] / 2 + this.bins[i + 1] / 2);
      this.bins = merged;
      this.binSize *= 2;
    }
  }

  /** Complete bins so far (the losses of a bin still filling are not in any window). */
  get binCount(): number {
    return this.bins.length;
  }

  /**
   * The stretch between fractions `from` and `to` of the complete bins (at least one bin), or undefined
   * before any bin is complete.
   */
  window(from: number, to: number): LossWindow | undefined {
    const n = this.bins.length;
    if (n === 0) return undefined;
    const a = Math.min(n - 1, Math.max(0, Math.floor(from * n)));
    const b = Math.max(a + 1, Math.min(n, Math.ceil(to * n)));
    const part = this.bins.slice(a, b);
    const k = part.length;
    // Each term divided by n first, and the spread scaled by its largest deviation: no overflow for losses
    // up to the largest double.
    const mean = part.reduce((s, v) => s + v / k, 0);
    const largest = part.reduce((m, v) => Math.max(m, Math.abs(v - mean)), 0);
    const spread =
      k > 1 && largest > 0
        ? largest * Math.sqrt(part.reduce((s, v) => s + ((v - mean) / largest) ** 2, 0) / (k - 1) / k)
        : 0;
    return {
      fromStep: a * this.binSize + 1,
      toStep: b * this.binSize,
      mean,
      se: k > 1 ? spread : null,
    };
  }
}
