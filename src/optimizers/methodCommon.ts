/** The small pieces the learning-rate-free methods of ALGORITHMS.md §9 share (prodigy, D-Adapt, Schedule-Free, DoG). */
import * as tf from '@tensorflow/tfjs';
import { LrfreeOptimizer } from '../core/optimizer.js';
import { createSchedule, registerDirection } from '../core/registry.js';
import type { Schedule } from '../core/schedule.js';
import type { ComponentConfig, Direction, JsonValue } from '../core/types.js';
import { LrfreeConfigError } from '../core/validate.js';
import { constant } from '../steps/constant.js';
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

/** Wraps an optional schedule (object or saved spec) so a direction can call it and save it. */
export function lrScheduleSlot(
  schedule: Schedule | ComponentConfig | null | undefined,
  stepsPerEpoch?: number,
): LrScheduleSlot {
  if (schedule === undefined || schedule === null) return { spec: null, multiplier: () => 1 };
  if (typeof schedule !== 'object' || Array.isArray(schedule)) {
    throw new LrfreeConfigError(
      `schedule = ${JSON.stringify(schedule) ?? String(schedule)} is not allowed; schedule must be a schedule ` +
        'such as lrfree.cosine({ totalSteps }) (or its saved { kind, config }), or left out.',
    );
  }
  const s: Schedule =
    typeof (schedule as Schedule).multiplier === 'function'
      ? (schedule as Schedule)
      : createSchedule(schedule);
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

/** Reads several scalar tensors with one sync, as float64 JS numbers. */
export function readScalars(scalars: readonly tf.Tensor[]): number[] {
  if (scalars.length === 0) return [];
  const t = tf.stack(scalars.map((s) => tf.reshape(s, [])));
  const out = Array.from(t.dataSync());
  t.dispose();
  return out;
}

/** Splits a preset's options into the method's own and the optimizer's common ones. */
export function splitCommon<T extends object>(
  options: T & MethodCommonOptions,
): { own: Omit<T, keyof MethodCommonOptions>; common: Omit<MethodCommonOptions, 'schedule'> } & {
  schedule?: Schedule;
  stepsPerEpoch?: number;
} {
  const { seed, stepsPerEpoch, model, schedule, ...own } = options as MethodCommonOptions & T;
  return {
    own: own as Omit<T, keyof MethodCommonOptions>,
    common: { seed, stepsPerEpoch, model },
    schedule,
    stepsPerEpoch,
  };
}

/**
 * A §9 preset: the method's direction (given its own options, the schedule and stepsPerEpoch) under
 * `constant(1)`, since the direction itself carries the estimated step.
 */
export function constantStepPreset<T extends object>(
  name: string,
  options: T & MethodCommonOptions,
  direction: (
    own: Omit<T, keyof MethodCommonOptions> & { schedule?: Schedule; stepsPerEpoch?: number },
  ) => Direction,
): LrfreeOptimizer {
  const { own, common, schedule, stepsPerEpoch } = splitCommon<T>(options);
  return new LrfreeOptimizer({
    ...common,
    direction: direction({ ...own, schedule, stepsPerEpoch }),
    step: constant(1),
    name,
  });
}

/** Registers a §9 direction for restore: its saved growthRate (null = Infinity) and schedule turned back. */
export function registerRestorable<T>(kind: string, make: (options: T) => Direction): void {
  registerDirection(kind, (c) =>
    make({
      ...(c as unknown as T),
      growthRate: growthFromJson(c.growthRate),
      ...savedSchedule(c.schedule),
    }),
  );
}
