/** Linear warm-up, optionally followed by another schedule. */
import { createSchedule, registerSchedule } from '../core/registry.js';
import type { Schedule } from '../core/schedule.js';
import { checkKnownKeys, checkNumber, LrfreeConfigError, showValue } from '../core/validate.js';

/** Options of {@link warmup}. */
export interface WarmupOptions {
  /** Number of warm-up steps: the multiplier rises linearly as step/steps, reaching 1 at `steps`. */
  steps: number;
  /** Schedule applied after warm-up, counted from the first step after it. Default: constant 1. */
  after?: Schedule;
}

/**
 * multiplier = step/steps for step <= steps, then `after.multiplier(step - steps)`.
 *
 * @example
 * ```ts
 * const s = lrfree.warmup({ steps: 100, after: lrfree.cosine({ totalSteps: 900 }) });
 * ```
 */
export function warmup(options: WarmupOptions): Schedule {
  checkKnownKeys('warmup', options, ['steps', 'after']);
  const steps = checkNumber('warmup', 'steps', options?.steps, { min: 1, integer: true });
  const after = options.after;
  if (after !== undefined && typeof (after as Partial<Schedule> | null)?.multiplier !== 'function') {
    throw new LrfreeConfigError(
      `warmup: after = ${showValue(after)} is not allowed; after must be a schedule ` +
        'such as lrfree.cosine({ totalSteps }), or left out.',
    );
  }
  return {
    kind: 'warmup',
    config: { steps, ...(after ? { after: { kind: after.kind, config: after.config } } : {}) },
    multiplier: (step, spe) =>
      step <= steps ? step / steps : after ? after.multiplier(step - steps, spe) : 1,
  };
}

registerSchedule('warmup', (c) =>
  warmup({ steps: c.steps as number, after: c.after ? createSchedule(c.after) : undefined }),
);
