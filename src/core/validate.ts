/**
 * Constructor validation. A wrong hyperparameter fails at construction with a message that names the
 * parameter, its value and the allowed range (DESIGN.md, "Promises").
 */

/** Error thrown for an invalid hyperparameter or argument. */
export class LrfreeConfigError extends Error {
  override name = 'LrfreeConfigError';
}

export type Bound = {
  min?: number;
  max?: number;
  minExclusive?: boolean;
  maxExclusive?: boolean;
  integer?: boolean;
  /**
   * +Infinity is a meaningful value (e.g. "no cap": growthRate, etaMax). Off by default: without it
   * +Infinity is refused even when no upper bound is given, and so is any magnitude beyond float32.
   */
  allowInfinity?: boolean;
};

/** The largest finite float32: a hyperparameter beyond it overflows when it reaches a tensor. */
export const FLOAT32_MAX = 3.4028234663852886e38;

function describe(b: Bound): string {
  const lo = b.min === undefined ? '(-inf' : `${b.minExclusive ? '(' : '['}${b.min}`;
  const hi =
    b.max === undefined
      ? b.allowInfinity
        ? 'inf]'
        : 'inf) (finite, at most 3.4e38 in magnitude: float32)'
      : `${b.max}${b.maxExclusive ? ')' : ']'}`;
  return `${b.integer ? 'an integer in ' : ''}${lo}, ${hi}`;
}

/**
 * A value as an error message shows it: a string quoted (so "false" is told from false), a number as
 * written (NaN and +-Infinity too, which JSON would print as null), an object or array as JSON.
 */
export function showValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) {
    return String(value);
  }
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * Checks that `value` is a finite number within the bounds (within float32's range; +Infinity only with
 * `allowInfinity`), returning it. `where` names the owner, e.g. `armijo` or `adam`.
 */
export function checkNumber(where: string, name: string, value: unknown, bound: Bound = {}): number {
  const ok =
    typeof value === 'number' &&
    !Number.isNaN(value) &&
    ((Number.isFinite(value) && Math.abs(value) <= FLOAT32_MAX) ||
      (bound.allowInfinity === true && value === Number.POSITIVE_INFINITY)) &&
    (bound.min === undefined || (bound.minExclusive ? value > bound.min : value >= bound.min)) &&
    (bound.max === undefined || (bound.maxExclusive ? value < bound.max : value <= bound.max)) &&
    (!bound.integer || Number.isInteger(value));
  if (!ok) {
    throw new LrfreeConfigError(
      `${where}: ${name} = ${showValue(value)} is not allowed; ${name} must be ${describe(bound)}.`,
    );
  }
  return value as number;
}

/** Checks that `value` is a boolean (a string such as 'false' is truthy, so it is refused), returning it. */
export function checkBoolean(where: string, name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') {
    throw new LrfreeConfigError(
      `${where}: ${name} = ${showValue(value)} is not allowed; ${name} must be true or false.`,
    );
  }
  return value;
}

/** Checks that `value` is one of `allowed`. */
export function checkOneOf<T extends string | number | boolean>(
  where: string,
  name: string,
  value: unknown,
  allowed: readonly T[],
): T {
  if (!allowed.includes(value as T)) {
    throw new LrfreeConfigError(
      `${where}: ${name} = ${showValue(value)} is not allowed; use one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}.`,
    );
  }
  return value as T;
}

/**
 * The option keys each factory accepts, by owner name (`adam`, `armijo`, `sls`, ...). Filled by
 * {@link optionKeys} (and by {@link checkKnownKeys} on first use): the one list per factory that the
 * unknown-key check, the docs and the constructor fuzz tests (test/fuzz/factories.ts) all read, so
 * renaming an option is one edit.
 */
const KNOWN_KEYS = new Map<string, readonly string[]>();

/** Declares the option keys of the factory `where` and returns them (for {@link checkKnownKeys}). */
export function optionKeys<K extends string>(where: string, keys: readonly K[]): readonly K[] {
  KNOWN_KEYS.set(where, keys);
  return keys;
}

/** The option keys of the factory `where`, once declared or checked; undefined before. */
export function knownOptionKeys(where: string): readonly string[] | undefined {
  return KNOWN_KEYS.get(where);
}

/**
 * Rejects option keys the caller does not know, which are almost always typos, naming the valid ones.
 * `owner` is the factory's name in the registry when it differs from the name its messages use: a piece
 * that shares its name with a preset (`directions.adam` and `lrfree.adam` both say `adam: ...`) is
 * registered under its namespaced name, so {@link knownOptionKeys}('adam') is the preset's list.
 */
export function checkKnownKeys(
  where: string,
  options: object | undefined,
  known: readonly string[],
  owner: string = where,
): void {
  if (!KNOWN_KEYS.has(owner)) KNOWN_KEYS.set(owner, known);
  if (options === undefined || options === null) return;
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw new LrfreeConfigError(
      `${where}: options = ${showValue(options)} is not allowed; options must be an object (or undefined) with some of ${known.join(', ')}.`,
    );
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key) && (options as Record<string, unknown>)[key] !== undefined) {
      throw new LrfreeConfigError(
        `${where}: unknown option '${key}'; known options are ${known.join(', ')}.`,
      );
    }
  }
}
