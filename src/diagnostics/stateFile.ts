/**
 * Saving and resuming the procedure (Node: file I/O): the state as JSON, non-finite numbers kept as strings.
 * Exported by `lrfree/node` (`diagnostics.saveState` / `diagnostics.loadState`); the browser-safe
 * `procedure()` takes and returns the state as an object.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { LrfreeConfigError } from '../core/validate.js';
import type { ProcedureState } from './procedure.js';

/** Writes a state as JSON (non-finite numbers kept as strings so that they survive). */
export function saveState(path: string, state: ProcedureState): void {
  writeFileSync(
    path,
    `${JSON.stringify(state, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 1)}\n`,
  );
}

/** Reads a state written by {@link saveState}, naming the file when it is not one. */
export function loadState(path: string): ProcedureState {
  let parsed: ProcedureState;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'), (_, v) =>
      v === 'NaN'
        ? Number.NaN
        : v === 'Infinity'
          ? Number.POSITIVE_INFINITY
          : v === '-Infinity'
            ? Number.NEGATIVE_INFINITY
            : v,
    );
  } catch (e) {
    throw new LrfreeConfigError(
      `${path}: not a procedure state (${(e as Error).message}). Delete it to start afresh.`,
    );
  }
  if (parsed?.version !== 1 || !Array.isArray(parsed.completed)) {
    throw new LrfreeConfigError(
      `${path}: not a procedure state written by lrfree (version 1). Delete it to start afresh.`,
    );
  }
  return parsed;
}
