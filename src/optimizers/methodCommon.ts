/** The small pieces the learning-rate-free methods of ALGORITHMS.md §9 share (prodigy, D-Adapt, Schedule-Free, DoG). */
import * as tf from '@tensorflow/tfjs';
import { LrfreeOptimizer } from '../core/optimizer.js';
import { createSchedule, registerDirection } from '../core/registry.js';
import type { Schedule } from '../core/schedule.js';
import type { ComponentConfig, Direction, JsonValue, Method } from '../core/types.js';
import { type Bound, checkKnownKeys, checkNumber, LrfreeConfigError, showValue } from '../core/validate.js';
import type { CommonOptions } from './baselines.js';

/**
 * What every §9 preset accepts besides its own knobs. `schedule` multiplies the method's own `lr` inside
 * the update (as a PyTorch scheduler changing `group['lr']` does), so the estimators see it too.
 */
export type MethodCommonOptions = CommonOptions;

/** An optional lr schedule inside a direction: its multiplier and its JSON form for the config. */
export interface LrScheduleSlot {
  readonly spec: JsonValue;
  multiplier(step: number): number;
}

/**
 * Wraps an optional schedule (object or saved spec) so a direction can call it and save it. `where` names
 * the method in the errors; `stepsPerEpoch`, when given, is checked even without a schedule (as the
 * optimizer checks its own), so a wrong one fails at construction, not when a schedule is added later.
 */
export function lrScheduleSlot(
  where: string,
  schedule: Schedule | ComponentConfig | null | undefined,
  stepsPerEpoch?: number,
): LrScheduleSlot {
  if (stepsPerEpoch !== undefined) {
    checkNumber(where, 'stepsPerEpoch', stepsPerEpoch, { min: 1, integer: true });
  }
  if (schedule === undefined || schedule === null) return { spec: null, multiplier: () => 1 };
  const isSchedule = typeof (schedule as Partial<Schedule>).multiplier === 'function';
  const isSaved = typeof (schedule as { kind?: unknown }).kind === 'string';
  if (typeof schedule !== 'object' || Array.isArray(schedule) || !(isSchedule || isSaved)) {
    throw new LrfreeConfigError(
      `${where}: schedule = ${showValue(schedule)} is not allowed; schedule must be a schedule ` +
        'such as lrfree.cosine({ totalSteps }) (or its saved { kind, config }), or left out.',
    );
  }
  const s: Schedule = isSchedule ? (schedule as Schedule) : createSchedule(schedule);
  return {
    spec: { kind: s.kind, config: s.config, ...(stepsPerEpoch ? { stepsPerEpoch } : {}) },
    multiplier: (step) => s.multiplier(step, stepsPerEpoch),
  };
}

/** Rebuilds the `(schedule, stepsPerEpoch)` pair saved by {@link lrScheduleSlot}. */
export function savedSchedule(spec: unknown): { schedule?: Schedule; stepsPerEpoch?: number } {
  if (!spec || typeof spec !== 'object') return {};
  const s = spec as { stepsPerEpoch?: number };
  return { schedule: createSchedule(spec), stepsPerEpoch: s.stepsPerEpoch };
}

/** growthRate in a JSON config: Infinity does not survive JSON, so it is saved as null. */
export function growthToJson(g: number): number | null {
  return Number.isFinite(g) ? g : null;
}
/** Inverse of {@link growthToJson}. */
export function growthFromJson(g: unknown): number | undefined {
  return g === null ? Number.POSITIVE_INFINITY : (g as number | undefined);
}

/** The library's spelling of Adam's constants, which the §9 methods accept besides the reference's. */
export interface AdamVocabulary {
  /** Same as `betas[0]` (the library-wide name). */
  beta1?: number;
  /** Same as `betas[1]` (the library-wide name). */
  beta2?: number;
  /** Same as `eps` (the library-wide name). */
  epsilon?: number;
}

/**
 * Turns `beta1`/`beta2`/`epsilon` (the library's vocabulary, docs/ARCHITECTURE.md) into the reference's
 * `betas`/`eps`, which the config keeps; refuses both spellings at once.
 */
export function adamVocabulary<T extends { betas?: [number, number]; eps?: number }>(
  where: string,
  options: T & AdamVocabulary,
  bounds: { beta1: Bound; beta2: Bound; epsilon: Bound },
): T {
  const { beta1, beta2, epsilon, ...rest } = options;
  // Checked under the names the caller wrote (the method's checks would say betas[0], eps).
  if (beta1 !== undefined) checkNumber(where, 'beta1', beta1, bounds.beta1);
  if (beta2 !== undefined) checkNumber(where, 'beta2', beta2, bounds.beta2);
  if (epsilon !== undefined) checkNumber(where, 'epsilon', epsilon, bounds.epsilon);
  const out = { ...rest } as unknown as T & { betas?: [number, number]; eps?: number };
  if (beta1 !== undefined || beta2 !== undefined) {
    if (options.betas !== undefined) {
      throw new LrfreeConfigError(
        `${where}: betas = ${showValue(options.betas)} and beta1/beta2 = ${showValue(beta1)}/${showValue(beta2)} ` +
          'are both given; give betas or beta1/beta2, not both.',
      );
    }
    out.betas = [beta1 ?? 0.9, beta2 ?? 0.999];
  }
  if (epsilon !== undefined) {
    if (options.eps !== undefined) {
      throw new LrfreeConfigError(
        `${where}: eps = ${showValue(options.eps)} and epsilon = ${showValue(epsilon)} are both given; ` +
          'give eps or epsilon, not both.',
      );
    }
    out.eps = epsilon;
  }
  return out;
}

/** Reads several scalar tensors with one sync, as float64 JS numbers. */
export function readScalars(scalars: readonly tf.Tensor[]): number[] {
  if (scalars.length === 0) return [];
  const t = tf.stack(scalars.map((s) => tf.reshape(s, [])));
  const out = Array.from(t.dataSync());
  t.dispose();
  return out;
}

/**
 * Checks a preset's options against its keys (`presetKeys(name, ...)`: an unknown key is refused naming
 * them) and splits them into the method's own and the optimizer's common ones (transforms included).
 */
export function splitCommon<T extends object>(
  options: T & MethodCommonOptions,
  name: string,
  keys: readonly string[],
): { own: Omit<T, keyof MethodCommonOptions>; common: Omit<MethodCommonOptions, 'schedule'> } & {
  schedule?: Schedule;
  stepsPerEpoch?: number;
} {
  checkKnownKeys(name, options, keys);
  const { transforms, seed, stepsPerEpoch, model, schedule, ...own } = options as MethodCommonOptions & T;
  return {
    own: own as Omit<T, keyof MethodCommonOptions>,
    common: { transforms, seed, stepsPerEpoch, model },
    schedule,
    stepsPerEpoch,
  };
}

/**
 * A §9 preset: `optimizer({ method })` with the method built from its own options, the schedule and
 * stepsPerEpoch (the method carries the estimated step).
 */
export function constantStepPreset<T extends object>(
  name: string,
  options: T & MethodCommonOptions,
  method: (
    own: Omit<T, keyof MethodCommonOptions> & { schedule?: Schedule; stepsPerEpoch?: number },
  ) => Method,
  keys: readonly string[],
): LrfreeOptimizer {
  const { own, common, schedule, stepsPerEpoch } = splitCommon<T>(options, name, keys);
  return new LrfreeOptimizer({ ...common, method: method({ ...own, schedule, stepsPerEpoch }), name });
}

/** Registers a §9 direction for restore: its saved growthRate (null = Infinity) and schedule turned back. */
export function registerRestorable<T>(kind: string, make: (options: T) => Method | Direction): void {
  registerDirection(kind, (c) =>
    make({
      ...(c as unknown as T),
      growthRate: growthFromJson(c.growthRate),
      ...savedSchedule(c.schedule),
    }),
  );
}
