/**
 * The saved-state format of an lrfree optimizer: what `getWeights` writes after the iterations (every
 * variable's slot tensors, then one exact record of counters, scalar state and variable names and shapes)
 * and how `setWeights` reads it back and binds it to variables (by name, base name or position, with shape
 * checks). Apart from the optimizer class so that the format, its versions and its matching rules sit in
 * one file; the class methods call these functions.
 */
import * as tf from '@tensorflow/tfjs';
import { decodeState, encodeState } from './stateCodec.js';
import type { Counters, ScalarState } from './types.js';
import { LrfreeConfigError } from './validate.js';

/** A variable's optimizer state: its direction, step-rule and transform slots. */
export interface VariableState {
  dir: tf.Tensor[];
  rule: tf.Tensor[];
  /** The gradient transforms' per-variable state (empty when they have none). */
  tr: tf.Tensor[];
  /** The variable's shape (saved, and checked on restore). */
  shape?: number[];
}

/** A variable's state restored by setWeights, waiting to be bound to a variable at the next step. */
export interface PendingState extends VariableState {
  /** The name of the variable it was saved from. */
  name: string;
}

/** The exact record saved under {@link STATE_WEIGHT} (JSON, see stateCodec.ts). */
export interface SavedState {
  /** 1: names only, bound by position; 2: names and shapes, bound by name (else position, shape-checked). */
  version: 1 | 2;
  counters: Counters;
  calls: number;
  /** Version 2: every variable with state (all var lists ever stepped), in the order of its saved slots. */
  vars?: { name: string; shape: number[] | null }[];
  /** Version 1: the last step's variables. */
  varNames?: string[];
  dirSlots: number;
  ruleSlots: number;
  dirScalars: ScalarState | null;
  ruleScalars: ScalarState | null;
  /** Scalar state of the gradient transforms (absent in states saved before transforms existed). */
  transformScalars?: ScalarState | null;
  /** Per-variable state tensors of the gradient transforms (absent: 0, states saved before they existed). */
  trSlots?: number;
  /** Current run-time hyperparameter values by scope (absent in older states: construction values). */
  hyper?: Record<string, Record<string, number>>;
}

/** The name of the record, the last entry of the saved list. */
export const STATE_WEIGHT = 'lrfree/state';

/** A named tensor, as TF.js optimizers save their weights (not exported by tfjs). */
export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

/** An optimizer's state besides its iterations: what {@link stateWeights} writes. */
export interface StateParts {
  counters: Counters;
  calls: number;
  /** Every variable's state (all var lists, bound or still waiting to be bound), with name and shape. */
  entries: readonly PendingState[];
  /** The slot names per variable: the direction's, the step rule's, the gradient transforms'. */
  slotNames: { dir: readonly string[]; rule: readonly string[]; tr: readonly string[] };
  dirScalars: ScalarState | undefined;
  ruleScalars: ScalarState | undefined;
  /** The gradient transforms' scalar state (null before their first step); undefined without transforms. */
  transformScalars: ScalarState | null | undefined;
  /** Current run-time hyperparameter values by scope; undefined when there are none. */
  hyper: Record<string, Record<string, number>> | undefined;
}

/**
 * The state as named tensors (version 2): every variable's slots in the order of `entries`, then the
 * exact record under {@link STATE_WEIGHT}. The slot tensors are the live state: do not dispose them.
 */
export function stateWeights(parts: StateParts): NamedTensor[] {
  const { entries, slotNames: names } = parts;
  const slotNames = [...names.dir, ...names.rule, ...names.tr];
  const saved: SavedState = {
    version: 2,
    counters: { ...parts.counters },
    calls: parts.calls,
    vars: entries.map((e) => ({ name: e.name, shape: e.shape ?? null })),
    dirSlots: names.dir.length,
    ruleSlots: names.rule.length,
    dirScalars: parts.dirScalars ?? null,
    ruleScalars: parts.ruleScalars ?? null,
    ...(parts.transformScalars !== undefined ? { transformScalars: parts.transformScalars } : {}),
    ...(names.tr.length > 0 ? { trSlots: names.tr.length } : {}),
    ...(parts.hyper !== undefined ? { hyper: parts.hyper } : {}),
  };
  const out: NamedTensor[] = [];
  for (const e of entries) {
    [...e.dir, ...e.rule, ...e.tr].forEach((t, j) => {
      out.push({ name: `${e.name}/${slotNames[j]}`, tensor: t });
    });
  }
  out.push({ name: STATE_WEIGHT, tensor: encodeState(saved) });
  return out;
}

/** How many slot tensors per variable an optimizer has: its direction's, step rule's, gradient transforms'. */
export interface SlotCounts {
  dir: number;
  rule: number;
  tr: number;
}

/**
 * Reads the list `getWeights` wrote, its iterations already taken off: the decoded record, copies of the
 * slot tensors (kept; the caller owns them) and the saved variables (version 1: names only, shapes null).
 * Throws an {@link LrfreeConfigError} naming `owner` when the list does not end with the record or its
 * slots do not fit `expected` (the copies are disposed first).
 */
export function readSavedState(
  owner: string,
  rest: readonly NamedTensor[],
  expected: SlotCounts,
): { saved: SavedState; slots: tf.Tensor[]; savedVars: { name: string; shape: number[] | null }[] } {
  const last = rest[rest.length - 1];
  if (!last || last.name !== STATE_WEIGHT) {
    throw new LrfreeConfigError(
      `${owner}: setWeights expects the list written by an lrfree optimizer's getWeights() ` +
        `(last entry '${STATE_WEIGHT}'); got ${last ? `'${last.name}'` : 'an empty list'}.`,
    );
  }
  const saved = decodeState<SavedState>(last.tensor);
  const slots = rest.slice(0, -1).map((w) => tf.keep(w.tensor.clone()));
  const trSlots = saved.trSlots ?? 0;
  const per = saved.dirSlots + saved.ruleSlots + trSlots;
  // Version 1 saved names only (shapes unknown: null).
  const savedVars = saved.vars ?? (saved.varNames ?? []).map((name) => ({ name, shape: null }));
  if (
    saved.dirSlots !== expected.dir ||
    saved.ruleSlots !== expected.rule ||
    trSlots !== expected.tr ||
    slots.length !== per * savedVars.length
  ) {
    tf.dispose(slots);
    throw new LrfreeConfigError(
      `${owner}: the saved state does not fit this optimizer (${saved.dirSlots}+${saved.ruleSlots}+${trSlots} ` +
        `direction+rule+transform slots per variable saved, ${expected.dir}+` +
        `${expected.rule}+${expected.tr} expected). ` +
        'Restore into an optimizer built with the same direction, step rule and transforms.',
    );
  }
  return { saved, slots, savedVars };
}

/** The saved variables' states, each with its share of `slots` (direction, then rule, then transform slots). */
export function pendingStates(
  saved: SavedState,
  savedVars: readonly { name: string; shape: number[] | null }[],
  slots: readonly tf.Tensor[],
): PendingState[] {
  const per = saved.dirSlots + saved.ruleSlots + (saved.trSlots ?? 0);
  return savedVars.map((v, i): PendingState => {
    const chunk = slots.slice(i * per, (i + 1) * per);
    return {
      name: v.name,
      shape: v.shape ?? undefined,
      dir: chunk.slice(0, saved.dirSlots),
      rule: chunk.slice(saved.dirSlots, saved.dirSlots + saved.ruleSlots),
      tr: chunk.slice(saved.dirSlots + saved.ruleSlots),
    };
  });
}

/** TF.js names a variable created under a name already in use `<name>_<n>`; this strips that suffix. */
function baseName(name: string): string {
  return name.replace(/_\d+$/, '');
}

/** Saved entries for `vars` by name, else by base name (one-to-one), else by position; undefined if none fits. */
export function matchSaved(
  vars: readonly tf.Variable[],
  saved: readonly PendingState[],
): [tf.Variable, PendingState][] | undefined {
  const byName = new Map(saved.map((p) => [p.name, p]));
  if (vars.every((v) => byName.has(v.name))) return vars.map((v) => [v, byName.get(v.name)!]);
  const byBase = new Map<string, PendingState[]>();
  for (const p of saved) byBase.set(baseName(p.name), [...(byBase.get(baseName(p.name)) ?? []), p]);
  const bases = vars.map((v) => baseName(v.name));
  if (new Set(bases).size === vars.length && bases.every((b) => byBase.get(b)?.length === 1)) {
    return vars.map((v, i) => [v, byBase.get(bases[i])![0]]);
  }
  if (saved.length === vars.length) return vars.map((v, i) => [v, saved[i]]);
  return undefined;
}

/** True when the two shapes are equal. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Names and shapes of the variables for an error message (the first 8, then the count). */
export function describeVars(vars: readonly { name: string; shape?: readonly number[] }[]): string {
  const list = vars.map((v) => `${v.name} [${v.shape ?? '?'}]`);
  return list.length > 8 ? `${list.slice(0, 8).join(', ')}, ... (${list.length})` : list.join(', ') || 'none';
}
