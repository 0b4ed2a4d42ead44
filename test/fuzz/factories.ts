/**
 * The exported factories (optimizers, presets, directions, methods, step rules, schedules) with the option
 * keys each accepts, and the oracle that judges a build: shared by the random constructor fuzz
 * (constructors.test.ts) and the exhaustive single-option sweep (singleOption.test.ts).
 *
 * The oracle: a build either throws an LrfreeConfigError whose message names a parameter the caller gave,
 * with its value (primitive values), and says what is allowed, or an "unknown option" error that lists the
 * known ones; or it succeeds and 3 training steps of a tiny model keep every weight finite.
 */
import * as tf from '@tensorflow/tfjs';
import { knownOptionKeys } from '../../src/core/validate.js';
import * as lrfree from '../../src/index.js';

export type Built = lrfree.LrfreeOptimizer | lrfree.Direction | lrfree.StepRule | lrfree.Schedule;
export interface Factory {
  name: string;
  kind: 'optimizer' | 'direction' | 'method' | 'step' | 'schedule';
  /** Option keys to fuzz ('$eta', '$beta': positional arguments). */
  keys: () => string[];
  build: (o: Record<string, unknown>) => Built;
}

/** The keys a factory's own check declared (validate.ts registry), after one default call. */
export const keysOf = (...owners: string[]) => owners.flatMap((w) => [...(knownOptionKeys(w) ?? [])]);
export const unique = (a: string[]) => [...new Set(a)];
export const opt = (o: Record<string, unknown>) => o as never;

export const FACTORIES: Factory[] = [
  // Presets: the one list each declares (presetKeys: its own options and the common ones, transforms too).
  {
    name: 'sgd',
    kind: 'optimizer',
    keys: () => ['$eta', ...keysOf('sgd')],
    build: ({ $eta, ...o }) => lrfree.sgd(($eta as number) ?? 0.1, opt(o)),
  },
  {
    name: 'momentum',
    kind: 'optimizer',
    keys: () => ['$eta', '$beta', ...keysOf('momentum')],
    build: ({ $eta, $beta, ...o }) => lrfree.momentum(($eta as number) ?? 0.05, $beta as number, opt(o)),
  },
  {
    name: 'adam',
    kind: 'optimizer',
    keys: () => ['$eta', ...keysOf('adam')],
    build: ({ $eta, ...o }) => lrfree.adam($eta as number, opt(o)),
  },
  {
    name: 'sls',
    kind: 'optimizer',
    keys: () => keysOf('sls'),
    build: (o) => lrfree.sls(opt(o)),
  },
  {
    name: 'adamSls',
    kind: 'optimizer',
    keys: () => keysOf('adamSls'),
    build: (o) => lrfree.adamSls(opt(o)),
  },
  {
    name: 'plasls',
    kind: 'optimizer',
    keys: () => keysOf('plasls'),
    build: (o) => lrfree.plasls(opt(o)),
  },
  {
    name: 'salsa',
    kind: 'optimizer',
    keys: () => keysOf('salsa'),
    build: (o) => lrfree.salsa(opt(o)),
  },
  {
    name: 'sps',
    kind: 'optimizer',
    keys: () => keysOf('sps'),
    build: (o) => lrfree.sps(opt(o)),
  },
  {
    name: 'walk',
    kind: 'optimizer',
    keys: () => keysOf('walk'),
    build: (o) => lrfree.walk(opt(o)),
  },
  {
    name: 'keepStepping',
    kind: 'optimizer',
    keys: () => keysOf('keepStepping'),
    build: (o) => lrfree.keepStepping(opt(o)),
  },
  {
    name: 'keepVaulting',
    kind: 'optimizer',
    keys: () => keysOf('keepVaulting'),
    build: (o) => lrfree.keepVaulting(opt(o)),
  },
  {
    name: 'pal',
    kind: 'optimizer',
    keys: () => keysOf('pal'),
    build: (o) => lrfree.pal(opt(o)),
  },
  {
    name: 'newton',
    kind: 'optimizer',
    keys: () => keysOf('newton'),
    build: (o) => lrfree.newton(opt(o)),
  },
  {
    name: 'prodigy',
    kind: 'optimizer',
    keys: () => keysOf('prodigy'),
    build: (o) => lrfree.prodigy(opt(o)),
  },
  {
    name: 'dadaptAdam',
    kind: 'optimizer',
    keys: () => keysOf('dadaptAdam'),
    build: (o) => lrfree.dadaptAdam(opt(o)),
  },
  {
    name: 'dadaptSgd',
    kind: 'optimizer',
    keys: () => keysOf('dadaptSgd'),
    build: (o) => lrfree.dadaptSgd(opt(o)),
  },
  {
    name: 'dog',
    kind: 'optimizer',
    keys: () => keysOf('dog'),
    build: (o) => lrfree.dog(opt(o)),
  },
  {
    name: 'ldog',
    kind: 'optimizer',
    keys: () => keysOf('ldog'),
    build: (o) => lrfree.ldog(opt(o)),
  },
  {
    name: 'scheduleFreeSgd',
    kind: 'optimizer',
    keys: () => keysOf('scheduleFreeSgd'),
    build: (o) => lrfree.scheduleFreeSgd(opt(o)),
  },
  {
    name: 'scheduleFreeAdamW',
    kind: 'optimizer',
    keys: () => keysOf('scheduleFreeAdamW'),
    build: (o) => lrfree.scheduleFreeAdamW(opt(o)),
  },
  {
    name: 'prodigyScheduleFree',
    kind: 'optimizer',
    keys: () => keysOf('prodigyScheduleFree'),
    build: (o) => lrfree.prodigyScheduleFree(opt(o)),
  },
  {
    name: 'scheduleFreePlus',
    kind: 'optimizer',
    keys: () => keysOf('scheduleFreePlus'),
    build: (o) => lrfree.scheduleFreePlus(opt(o)),
  },
  {
    name: 'auto',
    kind: 'optimizer',
    keys: () => keysOf('auto'),
    build: (o) => lrfree.auto(opt(o)),
  },
  {
    name: 'alraoSgd',
    kind: 'optimizer',
    keys: () => keysOf('alraoSgd'),
    build: (o) => lrfree.alraoSgd(opt(o)),
  },
  {
    name: 'alraoAdam',
    kind: 'optimizer',
    keys: () => keysOf('alraoAdam'),
    build: (o) => lrfree.alraoAdam(opt(o)),
  },
  {
    name: 'optimizer',
    kind: 'optimizer',
    keys: () => ['seed', 'stepsPerEpoch', 'schedule', 'model', 'name'],
    build: (o) =>
      lrfree.optimizer(opt({ direction: lrfree.directions.sgd(), step: lrfree.constant(0.05), ...o })),
  },
  // Directions.
  {
    name: 'directions.sgd',
    kind: 'direction',
    keys: () => keysOf('directions.sgd'),
    build: (o) => lrfree.directions.sgd(opt(o)),
  },
  {
    name: 'directions.momentum',
    kind: 'direction',
    keys: () => keysOf('directions.momentum'),
    build: (o) => lrfree.directions.momentum(opt(o)),
  },
  {
    name: 'directions.adam',
    kind: 'direction',
    keys: () => keysOf('directions.adam'),
    build: (o) => lrfree.directions.adam(opt(o)),
  },
  {
    name: 'directions.newton',
    kind: 'direction',
    keys: () => keysOf('directions.newton'),
    build: (o) => lrfree.directions.newton(opt(o)),
  },
  {
    name: 'prodigyDirection',
    kind: 'method',
    keys: () => keysOf('methods.prodigy'),
    build: (o) => lrfree.prodigyDirection(opt(o)),
  },
  {
    name: 'dadaptAdamDirection',
    kind: 'method',
    keys: () => keysOf('methods.dadaptAdam'),
    build: (o) => lrfree.dadaptAdamDirection(opt(o)),
  },
  {
    name: 'dadaptSgdDirection',
    kind: 'method',
    keys: () => keysOf('methods.dadaptSgd'),
    build: (o) => lrfree.dadaptSgdDirection(opt(o)),
  },
  {
    name: 'dogDirection',
    kind: 'method',
    keys: () => keysOf('methods.dog'),
    build: (o) => lrfree.dogDirection(opt(o)),
  },
  {
    name: 'scheduleFreeDirection',
    kind: 'method',
    keys: () => keysOf('methods.scheduleFreeAdamW'),
    build: (o) => lrfree.scheduleFreeDirection('adamw', opt(o)),
  },
  // Step rules.
  {
    name: 'constant',
    kind: 'step',
    keys: () => ['$eta'],
    build: ({ $eta }) => lrfree.constant(($eta as number) ?? 0.1),
  },
  {
    name: 'scheduled',
    kind: 'step',
    keys: () => ['$eta'],
    build: ({ $eta }) => lrfree.scheduled(($eta as number) ?? 0.1, lrfree.warmup({ steps: 2 })),
  },
  { name: 'armijo', kind: 'step', keys: () => keysOf('armijo'), build: (o) => lrfree.armijo(opt(o)) },
  {
    name: 'goldstein',
    kind: 'step',
    keys: () => keysOf('goldstein'),
    build: (o) => lrfree.goldstein(opt(o)),
  },
  {
    name: 'perLayer',
    kind: 'step',
    keys: () => keysOf('perLayer'),
    build: (o) => lrfree.perLayer(lrfree.armijo(), opt(o)),
  },
  {
    name: 'smoothedArmijo',
    kind: 'step',
    keys: () => keysOf('smoothedArmijo'),
    build: (o) => lrfree.smoothedArmijo(opt(o)),
  },
  { name: 'polyak', kind: 'step', keys: () => keysOf('polyak'), build: (o) => lrfree.polyak(opt(o)) },
  {
    name: 'walk (rule)',
    kind: 'step',
    keys: () => keysOf('steps.walk'),
    build: (o) => lrfree.steps.walk(opt(o)),
  },
  {
    name: 'keepStepping (rule)',
    kind: 'step',
    keys: () => keysOf('steps.keepStepping'),
    build: (o) => lrfree.steps.keepStepping(opt(o)),
  },
  { name: 'vault', kind: 'step', keys: () => keysOf('vault'), build: (o) => lrfree.vault(opt(o)) },
  {
    name: 'parabolic',
    kind: 'step',
    keys: () => keysOf('parabolic'),
    build: (o) => lrfree.parabolic(opt(o)),
  },
  {
    name: 'alraoRates',
    kind: 'step',
    keys: () => keysOf('alraoRates'),
    build: (o) => lrfree.alraoRates(opt(o)),
  },
  // Schedules.
  {
    name: 'warmup',
    kind: 'schedule',
    keys: () => keysOf('warmup'),
    build: (o) => lrfree.warmup(opt({ steps: 3, ...o })),
  },
  {
    name: 'cosine',
    kind: 'schedule',
    keys: () => keysOf('cosine'),
    build: (o) => lrfree.cosine(opt({ totalSteps: 10, ...o })),
  },
  {
    name: 'powerDecay',
    kind: 'schedule',
    keys: () => keysOf('powerDecay'),
    build: (o) => lrfree.powerDecay(opt({ plateauEpochs: 1, ...o })),
  },
  {
    name: 'cyclical',
    kind: 'schedule',
    keys: () => keysOf('cyclical'),
    build: (o) => lrfree.cyclical(opt({ periodEpochs: 2, ...o })),
  },
];

/**
 * How a message shows a given value (validate.ts's show): a string quoted (so "false" is told from false),
 * a number as String(v) (JSON.stringify would print NaN and +-Infinity as null), an object or array as JSON.
 */
export function display(v: unknown): string[] {
  if (typeof v === 'string') return [JSON.stringify(v)];
  if (v !== null && typeof v === 'object') {
    try {
      const json = JSON.stringify(v);
      return json === undefined ? [] : [json];
    } catch {
      return [];
    }
  }
  return [String(v)];
}

/**
 * Trains 3 steps of a tiny model with the built component; returns true when every weight stays finite.
 * A configuration error at the first step counts as fine; `onConfigError` (if given) sees it, to judge it.
 */
export function trainsFinitely(
  kind: Factory['kind'],
  built: Built,
  onConfigError?: (e: lrfree.LrfreeConfigError) => void,
): boolean {
  const optimizer =
    kind === 'optimizer'
      ? (built as lrfree.LrfreeOptimizer)
      : kind === 'method'
        ? lrfree.optimizer({ method: built as unknown as lrfree.Method, stepsPerEpoch: 2 })
        : lrfree.optimizer({
            direction: kind === 'direction' ? (built as lrfree.Direction) : lrfree.directions.sgd(),
            step: kind === 'step' ? (built as lrfree.StepRule) : lrfree.constant(0.05),
            schedule: kind === 'schedule' ? (built as lrfree.Schedule) : undefined,
            stepsPerEpoch: 2,
          });
  const w = tf.tidy(() => tf.variable(tf.tensor2d([0.3, -0.2, 0.1, 0.5, -0.4, 0.2], [3, 2])));
  const b = tf.tidy(() => tf.variable(tf.zeros([2])));
  const x = tf.tensor2d([1, 2, -1, 0.5, 0, 1, 2, -1, 0.3, 1, 1, 0], [4, 3]);
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d([0, 1, 1, 0], 'int32'), 2));
  const f = () => tf.losses.softmaxCrossEntropy(y, tf.add(tf.matMul(x, w), b)) as tf.Scalar;
  try {
    for (let s = 0; s < 3; s++) optimizer.minimize(f, false, [w, b]);
    return [w, b].every((v) => v.dataSync().every(Number.isFinite));
  } catch (e) {
    // An error at the first step is acceptable only when it is a clear configuration error.
    if (e instanceof lrfree.LrfreeConfigError) {
      onConfigError?.(e);
      return true;
    }
    throw e;
  } finally {
    optimizer.dispose();
    tf.dispose([w, b, x, y]);
  }
}

/** What a message that refuses a value must say about what is allowed. */
export const SAYS_WHAT_IS_ALLOWED =
  /must be|use one of|\buse |give |greater than|at least|at most|less than|only with|applies only|needs/;

/**
 * Judges one error thrown by a build with `options`: returns nothing when it is a clear configuration error
 * (an LrfreeConfigError naming a given parameter with its value and what is allowed, or an unknown-option
 * error listing the known ones), else throws an Error that says what is wrong.
 */
export function judgeError(options: Record<string, unknown>, e: unknown): void {
  if (!(e instanceof lrfree.LrfreeConfigError)) {
    throw new Error(`not an LrfreeConfigError: ${(e as Error)?.stack ?? e}`);
  }
  const msg = e.message;
  if (/unknown option '([^']+)'; known options are \w/.test(msg)) return;
  const given = Object.entries(options).map(([k, v]) => [k.replace('$', ''), v] as const);
  // Names a parameter that was given, with its value (primitive values) and what is allowed.
  const named = given.filter(([k]) => msg.includes(k));
  const withValue = named.filter(([, v]) => typeof v === 'object' || display(v).some((d) => msg.includes(d)));
  if (withValue.length === 0) throw new Error(`the error names no given parameter with its value: ${msg}`);
  if (!SAYS_WHAT_IS_ALLOWED.test(msg)) throw new Error(`the error does not say what is allowed: ${msg}`);
  // A given parameter the message shows as `key = ...` is shown with the value the caller gave: not NaN as
  // null, not "false" as false, not {} as [object Object].
  for (const [k, v] of given) {
    if (new RegExp(`\\b${k} = `).test(msg) && !display(v).some((d) => msg.includes(`${k} = ${d}`))) {
      throw new Error(`the error shows ${k} with another value than the given ${display(v)[0] ?? v}: ${msg}`);
    }
  }
}
