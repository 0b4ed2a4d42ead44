/** A relative improvement as the evidence prints it: `12.3% better`, `-4.0% worse`. */
export function signedPct(v: number): string {
  return `${v >= 0 ? '' : '-'}${(100 * Math.abs(v)).toFixed(1)}% ${v >= 0 ? 'better' : 'worse'}`;
}
