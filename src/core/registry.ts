/**
 * Registry of directions, step rules and schedules by kind, so that an optimizer rebuilt from its saved
 * config (tf.serialization, model.save with includeOptimizer) gets the same components back. Every
 * component file registers itself once; the benchmark and the CLI enumerate the registry too.
 */
import type { Schedule } from './schedule.js';
import type { ComponentConfig, Direction, GradientTransform, Method, StepRule } from './types.js';
import { LrfreeConfigError } from './validate.js';

type Factory<T> = (config: ComponentConfig) => T;

const directions = new Map<string, Factory<Direction>>();
const rules = new Map<string, Factory<StepRule>>();
const schedules = new Map<string, Factory<Schedule>>();
const methods = new Map<string, Factory<Method>>();
const transforms = new Map<string, Factory<GradientTransform>>();

export function registerDirection(kind: string, factory: Factory<Direction>): void {
  directions.set(kind, factory);
}
export function registerStepRule(kind: string, factory: Factory<StepRule>): void {
  rules.set(kind, factory);
}
export function registerSchedule(kind: string, factory: Factory<Schedule>): void {
  schedules.set(kind, factory);
}

export function registerMethod(kind: string, factory: Factory<Method>): void {
  methods.set(kind, factory);
}
export function registerTransform(kind: string, factory: Factory<GradientTransform>): void {
  transforms.set(kind, factory);
}

function build<T>(what: string, table: Map<string, Factory<T>>, spec: unknown): T {
  const s = spec as { kind?: unknown; config?: unknown } | undefined;
  const kind = typeof s?.kind === 'string' ? s.kind : undefined;
  const factory = kind === undefined ? undefined : table.get(kind);
  if (!factory) {
    const known = [...table.keys()].join(', ');
    throw new LrfreeConfigError(
      kind === undefined
        ? `cannot rebuild a ${what} from ${JSON.stringify(spec) ?? String(spec)}: a saved ${what} must be { kind, config } with kind one of ${known}.`
        : `cannot rebuild ${what} '${kind}': it is not registered; kind must be one of ${known}. ` +
            `Import the module that defines it (import 'lrfree' registers all built-in ones).`,
    );
  }
  return factory((s?.config ?? {}) as ComponentConfig);
}

export function createDirection(spec: unknown): Direction {
  return build('direction', directions, spec);
}
export function createStepRule(spec: unknown): StepRule {
  return build('step rule', rules, spec);
}
export function createSchedule(spec: unknown): Schedule {
  return build('schedule', schedules, spec);
}

/**
 * A method by kind: the methods table, else a registered direction that owns its step (the built-in
 * methods are registered as such directions too, so configs saved before methods existed still load).
 */
export function createMethod(spec: unknown): Method {
  const kind = (spec as { kind?: unknown } | undefined)?.kind;
  if (typeof kind === 'string' && !methods.has(kind) && directions.has(kind)) {
    const d = createDirection(spec) as Partial<Method>;
    if (d.ownsStep === true) return d as Method;
  }
  return build('method', methods, spec);
}
export function createTransform(spec: unknown): GradientTransform {
  return build('gradient transform', transforms, spec);
}

/** Registered kinds, for listings. */
export function registeredKinds(): {
  directions: string[];
  stepRules: string[];
  schedules: string[];
  methods: string[];
  transforms: string[];
} {
  return {
    directions: [...directions.keys()],
    stepRules: [...rules.keys()],
    schedules: [...schedules.keys()],
    methods: [...methods.keys()],
    transforms: [...transforms.keys()],
  };
}
