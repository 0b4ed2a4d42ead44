/** Paired comparisons of two runs on the same chunks of the held-out split. */

/** Mean and standard error of the paired differences a - b (chunk by chunk). */
export function pairedDifference(a: readonly number[], b: readonly number[]): { mean: number; se: number } {
  const n = Math.min(a.length, b.length);
  if (n === 0) return { mean: Number.NaN, se: Number.NaN };
  const d = Array.from({ length: n }, (_, i) => a[i] - b[i]);
  const mean = d.reduce((s, v) => s + v, 0) / n;
  if (n < 2) return { mean, se: Number.NaN };
  const v = d.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1);
  return { mean, se: Math.sqrt(v / n) };
}
