/** Small statistics shared by the auto() bench scripts: median and a seeded percentile bootstrap. */
import { mulberry32 } from '../src/core/rng.js';

export function median(a: readonly number[]): number {
  const s = [...a].sort((x, y) => x - y);
  const n = s.length;
  return n === 0 ? Number.NaN : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

export function mean(a: readonly number[]): number {
  return a.reduce((s, v) => s + v, 0) / a.length;
}

/** Percentile bootstrap 95% interval of the mean of `d` (resampling its entries, e.g. seeds). */
export function bootstrap(d: readonly number[], draws = 4000): [number, number] {
  const r = mulberry32(7);
  const means: number[] = [];
  for (let b = 0; b < draws; b++) {
    let s = 0;
    for (let i = 0; i < d.length; i++) s += d[Math.floor(r() * d.length)];
    means.push(s / d.length);
  }
  means.sort((a, b) => a - b);
  return [means[Math.floor(0.025 * draws)], means[Math.floor(0.975 * draws)]];
}

/** `mean [lo, hi] verdict` of paired log-ratios (negative = better than the reference). */
export function pairedLog(d: readonly number[]): string {
  const [lo, hi] = bootstrap(d);
  const verdict = lo > 0 ? 'worse' : hi < 0 ? 'better' : 'inconclusive';
  return `${mean(d).toFixed(3)} [${lo.toFixed(3)}, ${hi.toFixed(3)}] ${verdict}`;
}
