/**
 * Learning-rate suggestions from a range-test curve (ALGORITHMS.md §10, trap T26): the two smoothing
 * conventions (fastai's debiased EMA and pytorch-lr-finder's undebiased one) and the four fastai rules
 * (valley, slide, steep, minimum/10) plus lr-finder's steepest-gradient rule. Pure functions on arrays.
 */

/** One suggested learning rate and the point of the curve it came from (for plotting). */
export interface Suggestion {
  /** The suggested learning rate. */
  lr: number;
  /** The smoothed loss at the suggestion's point on the curve (interpolated in log lr when between). */
  loss: number;
  /** Index into the (trimmed) curve that produced the suggestion. */
  index: number;
}

/** The four fastai suggestions plus lr-finder's steepest point; `undefined` when the curve is too short. */
export interface Suggestions {
  valley?: Suggestion;
  slide?: Suggestion;
  steep?: Suggestion;
  minimum?: Suggestion;
  steepest?: Suggestion;
}

/**
 * fastai smoothing (AvgSmoothLoss): a_i = beta*a_{i-1} + (1-beta)*l_i, a_{-1} = 0, recorded a_i/(1-beta^(i+1)).
 * beta is the weight on the OLD value (default 0.98).
 *
 * @example
 * ```ts
 * smoothDebiased([1, 1, 1]); // [1, 1, 1] (the debiasing removes the pull towards 0)
 * ```
 */
export function smoothDebiased(losses: readonly number[], beta = 0.98): number[] {
  let a = 0;
  return losses.map((l, i) => {
    a = beta * a + (1 - beta) * l;
    return a / (1 - beta ** (i + 1));
  });
}

/**
 * pytorch-lr-finder smoothing: s_0 = l_0, s_i = f*l_i + (1-f)*s_{i-1}, no debiasing. f is the weight on
 * the NEW value (default 0.05).
 *
 * @example
 * ```ts
 * smoothEma([2, 0], 0.05); // [2, 1.9]
 * ```
 */
export function smoothEma(losses: readonly number[], smoothF = 0.05): number[] {
  let s = Number.NaN;
  return losses.map((l, i) => {
    s = i === 0 ? l : smoothF * l + (1 - smoothF) * s;
    return s;
  });
}

/**
 * numpy's `np.gradient` with unit spacing: interior (y[i+1]-y[i-1])/2, one-sided differences at the ends.
 *
 * @example
 * ```ts
 * npGradient([1, 4, 9]); // [3, 4, 5]
 * ```
 */
export function npGradient(y: readonly number[]): number[] {
  const n = y.length;
  if (n < 2) return y.map(() => 0);
  return y.map((_, i) =>
    i === 0 ? y[1] - y[0] : i === n - 1 ? y[n - 1] - y[n - 2] : (y[i + 1] - y[i - 1]) / 2,
  );
}

/**
 * The slice fastai feeds its suggestion rules: `[floor(numIt/10), length-5)`, then cut at the first
 * non-finite loss.
 */
export function fastaiSlice(
  lrs: readonly number[],
  losses: readonly number[],
  numIt: number,
): { lrs: number[]; losses: number[] } {
  const from = Math.floor(numIt / 10);
  const to = Math.max(from, lrs.length - 5);
  let l = lrs.slice(from, to);
  let s = losses.slice(from, to);
  const bad = s.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) {
    l = l.slice(0, bad);
    s = s.slice(0, bad);
  }
  return { lrs: l, losses: s };
}

const at = (lrs: readonly number[], losses: readonly number[], index: number): Suggestion => ({
  lr: lrs[index],
  loss: losses[index],
  index,
});

/**
 * fastai `valley`: the longest strictly decreasing subsequence (not necessarily contiguous) of the loss,
 * and the point about 1/3 + 1/6 of the way into it: idx = start + floor(s) + floor(s/2) with
 * s = (end-start)/3. `start` is -1 when the valley starts at the first point; the index is clamped to the
 * curve (the reference would wrap to the last point).
 *
 * @example
 * ```ts
 * valley([1, 2, 3, 4], [4, 3, 2, 1])?.lr; // 1 (start = -1, s = 4/3, idx = 0)
 * ```
 */
export function valley(lrs: readonly number[], losses: readonly number[]): Suggestion | undefined {
  const n = losses.length;
  if (n === 0) return undefined;
  const lds = new Array<number>(n).fill(1);
  let maxStart = 0;
  let maxEnd = 0;
  for (let i = 1; i < n; i++) {
    for (let j = 0; j < i; j++) {
      if (losses[i] < losses[j] && lds[i] < lds[j] + 1) lds[i] = lds[j] + 1;
      if (lds[maxEnd] < lds[i]) {
        maxEnd = i;
        maxStart = maxEnd - lds[maxEnd];
      }
    }
  }
  const sections = (maxEnd - maxStart) / 3;
  const idx = Math.min(n - 1, Math.max(0, maxStart + Math.floor(sections) + Math.floor(sections / 2)));
  return at(lrs, losses, idx);
}

/** Options of {@link slide}. */
export interface SlideOptions {
  /** Distance in points between the two compared gradients. Default 15. */
  lrDiff?: number;
  /** Gradient-difference threshold. Default 0.005. */
  thresh?: number;
  /** Multiplier on the result. Default 1. */
  adjustValue?: number;
}

/**
 * fastai `slide`: with grad = np.gradient(loss), walk a window of `lrDiff` points from the right end
 * leftwards while |grad[r] - grad[l]| > thresh; the answer is lrs[l] of the last window that moved
 * (or of the first window). Curves shorter than lrDiff+1 points use l = 0.
 *
 * @example
 * ```ts
 * slide(lrs, losses, { lrDiff: 15, thresh: 0.005 });
 * ```
 */
export function slide(
  lrs: readonly number[],
  losses: readonly number[],
  options: SlideOptions = {},
): Suggestion | undefined {
  const n = losses.length;
  if (n === 0) return undefined;
  const lrDiff = options.lrDiff ?? 15;
  const thresh = options.thresh ?? 0.005;
  const adjust = options.adjustValue ?? 1;
  const grad = npGradient(losses);
  let r = n - 1;
  let l = r - lrDiff;
  let cand = Math.max(0, l);
  while (l >= 0 && Math.abs(grad[r] - grad[l]) > thresh) {
    cand = l;
    r -= 1;
    l -= 1;
  }
  const lr = lrs[cand] * adjust;
  return { lr, loss: interpLogLr(lrs, losses, lr), index: cand };
}

/**
 * fastai `steep`: the left end of the segment with the most negative slope in log lr,
 * s_i = (loss[i+1]-loss[i]) / (ln lrs[i+1] - ln lrs[i]).
 *
 * @example
 * ```ts
 * steep([1, 10, 100], [3, 2.9, 1])?.lr; // 10
 * ```
 */
export function steep(lrs: readonly number[], losses: readonly number[]): Suggestion | undefined {
  if (losses.length < 2) return undefined;
  let best = 0;
  let bestSlope = Number.POSITIVE_INFINITY;
  for (let i = 0; i + 1 < losses.length; i++) {
    const s = (losses[i + 1] - losses[i]) / (Math.log(lrs[i + 1]) - Math.log(lrs[i]));
    if (s < bestSlope) {
      bestSlope = s;
      best = i;
    }
  }
  return at(lrs, losses, best);
}

/**
 * fastai `minimum`: one tenth of the learning rate at the lowest loss, lrs[argmin]/10.
 *
 * @example
 * ```ts
 * minimumOver10([1, 10, 100], [3, 1, 2])?.lr; // 1
 * ```
 */
export function minimumOver10(lrs: readonly number[], losses: readonly number[]): Suggestion | undefined {
  if (losses.length === 0) return undefined;
  let best = 0;
  for (let i = 1; i < losses.length; i++) if (losses[i] < losses[best]) best = i;
  const lr = lrs[best] / 10;
  return { lr, loss: interpLogLr(lrs, losses, lr), index: best };
}

/**
 * pytorch-lr-finder's suggestion: drop `skipStart` points at the start and `skipEnd` at the end, then
 * lrs[argmin(np.gradient(loss))]. Needs skipStart + skipEnd + 2 points.
 *
 * @example
 * ```ts
 * steepestGradient(lrs, losses, 10, 5);
 * ```
 */
export function steepestGradient(
  lrs: readonly number[],
  losses: readonly number[],
  skipStart = 10,
  skipEnd = 5,
): Suggestion | undefined {
  const cut = losses.findIndex((v) => !Number.isFinite(v));
  const n = cut >= 0 ? cut : losses.length;
  if (n < skipStart + skipEnd + 2) return undefined;
  const l = lrs.slice(skipStart, n - skipEnd);
  const s = losses.slice(skipStart, n - skipEnd);
  const g = npGradient(s);
  let best = 0;
  for (let i = 1; i < g.length; i++) if (g[i] < g[best]) best = i;
  return { lr: l[best], loss: s[best], index: best + skipStart };
}

/** Linear interpolation of the loss at `lr` in log10(lr) (np.interp semantics: clamped at the ends). */
export function interpLogLr(lrs: readonly number[], losses: readonly number[], lr: number): number {
  const n = lrs.length;
  if (n === 0) return Number.NaN;
  const x = Math.log10(lr);
  const xs = lrs.map((v) => Math.log10(v));
  if (x <= xs[0]) return losses[0];
  if (x >= xs[n - 1]) return losses[n - 1];
  for (let i = 0; i + 1 < n; i++) {
    if (x <= xs[i + 1]) {
      const t = xs[i + 1] === xs[i] ? 0 : (x - xs[i]) / (xs[i + 1] - xs[i]);
      return losses[i] + t * (losses[i + 1] - losses[i]);
    }
  }
  return losses[n - 1];
}

/**
 * All suggestions of a fastai-style curve (recorded lrs and debiased smoothed losses over `numIt`
 * planned iterations): the fastai slice, then valley, slide, steep and minimum/10; plus lr-finder's
 * steepest gradient on the whole curve.
 */
export function suggestAll(lrs: readonly number[], smoothed: readonly number[], numIt: number): Suggestions {
  const s = fastaiSlice(lrs, smoothed, numIt);
  const offset = Math.floor(numIt / 10);
  const shift = (x: Suggestion | undefined) => (x ? { ...x, index: x.index + offset } : undefined);
  return {
    valley: shift(valley(s.lrs, s.losses)),
    slide: shift(slide(s.lrs, s.losses)),
    steep: shift(steep(s.lrs, s.losses)),
    minimum: shift(minimumOver10(s.lrs, s.losses)),
    steepest: steepestGradient(lrs, smoothed),
  };
}
