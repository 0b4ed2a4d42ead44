/**
 * Seeded pseudo-random numbers. Every random draw in lrfree comes from here so that a run is
 * reproducible from the seed a user sets.
 */

/** A function returning uniform floats in [0, 1), like `Math.random`. */
export type Uniform = () => number;

/** Mixes a 32-bit integer (the finaliser of MurmurHash3); used to derive independent seeds. */
function mix32(x: number): number {
  let h = x | 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Derives a new 32-bit seed from a base seed and any number of integer keys (e.g. a step counter). */
export function deriveSeed(base: number, ...keys: number[]): number {
  let h = mix32(Math.floor(base) ^ 0x9e3779b9);
  for (const k of keys) h = mix32(h ^ mix32(Math.floor(k) + 0x632be5ab));
  return h;
}

/** Mulberry32: a small, fast, well-tested 32-bit generator; good enough for masks and sampling. */
export function mulberry32(seed: number): Uniform {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Runs `fn` with `Math.random` replaced by a generator seeded with `seed`, then restores it.
 *
 * Why: TF.js Dropout without a fixed seed draws its mask from `Math.random()`. Re-seeding before every
 * evaluation of one optimizer step gives every evaluation of that step the same mask, and a new seed per
 * step gives a new mask per step (ALGORITHMS.md §0.1, traps T2-T3).
 */
export function withSeededMathRandom<T>(seed: number, fn: () => T): T {
  const original = Math.random;
  Math.random = mulberry32(seed);
  try {
    return fn();
  } finally {
    Math.random = original;
  }
}

/** Standard normal draws (Box-Muller) from a uniform generator. */
export function gaussian(uniform: Uniform): () => number {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    let u = 0;
    while (u === 0) u = uniform();
    const v = uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

/** A seeded permutation of 0..n-1 (Fisher-Yates). */
export function permutation(n: number, seed: number): Int32Array {
  const r = mulberry32(seed);
  const p = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}
