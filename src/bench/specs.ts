/**
 * The benchmark's optimizer specs: the catalog's (`sls`, `sgd@0.1`, `walk@0.1`) plus what a benchmark needs
 * besides them:
 *
 * - scheduled baselines as practitioners run them: `momentum@0.1+cosine`, `nesterov@0.1+cosine`,
 *   `adamw@1e-3+cosine` (linear warm-up over {@link WARMUP_FRACTION} of the run's budget, then cosine decay
 *   to 0 over the rest, scored at the last iterate); `nesterov@eta` and `adamw@eta` also run at a constant
 *   rate;
 * - fixed configurations that are never tuned ({@link FIXED}): AdamW at AlgoPerf's calibrated NAdamW
 *   defaults, Schedule-Free AdamW at its authors' AlgoPerf settings, KeepStepping in the configuration its
 *   post found best.
 *
 * Every spec is checked before a sweep touches its store: an unknown name, schedule or number is an error
 * naming the valid ones.
 */
import type { LrfreeOptimizer } from '../core/optimizer.js';
import type { Schedule } from '../core/schedule.js';
import { LrfreeConfigError } from '../core/validate.js';
import { adam, momentum, sgd } from '../optimizers/baselines.js';
import {
  catalog,
  checkSpec as checkCatalogSpec,
  optimizerFromSpec,
  type RunContext,
} from '../optimizers/catalog.js';
import { keepStepping } from '../optimizers/moreDescent.js';
import { scheduleFreeAdamW } from '../optimizers/scheduleFree.js';
import { cosine } from '../schedules/cosine.js';
import { warmup } from '../schedules/warmup.js';

/** The spec of the wrapped-model Alrao row (classifier copies and the switch; alraoRunner.ts runs it). */
export const ALRAO_WRAPPED = 'alrao-wrapped';

/** Fraction of the budget spent in linear warm-up by every `+cosine` spec and fixed row (AlgoPerf's 2%). */
export const WARMUP_FRACTION = 0.02;

/** AdamW's decoupled weight decay in the tuned `adamw@eta` rows: PyTorch's default (torch.optim.AdamW). */
export const ADAMW_WEIGHT_DECAY = 0.01;

/** Linear warm-up over `round(fraction * total)` steps (at least 1), then cosine to 0 over the rest. */
export function warmupCosine(totalSteps: number, fraction = WARMUP_FRACTION): Schedule {
  const w = Math.max(1, Math.round(fraction * totalSteps));
  return warmup({ steps: w, after: cosine({ totalSteps: Math.max(1, totalSteps - w) }) });
}

/** Schedules a spec may name after '+'. */
export const SCHEDULES: Record<string, (ctx: RunContext) => Schedule> = {
  cosine: (ctx) => warmupCosine(ctx.totalSteps),
};

/** Baselines that take a learning rate and a schedule: `name@eta[+schedule]`. */
const SCHEDULABLE: Record<string, (eta: number, ctx: RunContext, schedule?: Schedule) => LrfreeOptimizer> = {
  sgd: (eta, { seed }, schedule) => sgd(eta, { seed, schedule }),
  momentum: (eta, { seed }, schedule) => momentum(eta, 0.9, { seed, schedule }),
  nesterov: (eta, { seed }, schedule) => momentum(eta, 0.9, { seed, schedule, nesterov: true }),
  adam: (eta, { seed }, schedule) => adam(eta, { seed, schedule }),
  adamw: (eta, { seed }, schedule) => adam(eta, { seed, schedule, weightDecay: ADAMW_WEIGHT_DECAY }),
};

/** A configuration never tuned per task. */
export interface FixedConfig {
  description: string;
  /** Where the numbers come from. */
  source: string;
  make(ctx: RunContext): LrfreeOptimizer;
}

/** The fixed-configuration rows. */
export const FIXED: Record<string, FixedConfig> = {
  'adamw-algoperf': {
    description:
      "AdamW at AlgoPerf's calibrated NAdamW defaults (lr 1.7486e-3, beta1 0.93266, beta2 0.99552, weight decay 0.08122, warm-up 2% + cosine to 0); lrfree has no NAdam direction, so the Nesterov term is missing",
    source:
      'AlgoPerf self-tuning baseline HPARAMS (mlcommons/algorithmic-efficiency, NAdamW target-setting/self-tuning submission): learning_rate 0.0017486387539278373, one_minus_beta1 0.06733926164, beta2 0.9955159689799007, weight_decay 0.08121616522670176, warmup_factor 0.02',
    make: ({ seed, totalSteps }) =>
      adam(0.0017486387539278373, {
        seed,
        beta1: 1 - 0.06733926164,
        beta2: 0.9955159689799007,
        weightDecay: 0.08121616522670176,
        schedule: warmupCosine(totalSteps),
      }),
  },
  'sfAdamW-algoperf': {
    description:
      "Schedule-Free AdamW at its authors' AlgoPerf settings (lr 0.0025, beta1 0.9, beta2 0.99552, weight decay 0.08122 at y, warm-up 2%, weight_lr_power 2, r 0.75, eps 1e-8), evaluated at x",
    source:
      'Schedule-Free AdamW AlgoPerf 2024 self-tuning submission HPARAMS (Defazio et al.): learning_rate 0.0025, one_minus_beta1 0.1, beta2 0.9955159689799007, weight_decay 0.08121616522670176, warmup_factor 0.02, weight_lr_power 2, r 0.75, eps 1e-8 (its dropout 0.1 and label smoothing 0.2 are workload settings, not applied here)',
    make: ({ seed, stepsPerEpoch, totalSteps }) =>
      scheduleFreeAdamW({
        seed,
        stepsPerEpoch,
        lr: 0.0025,
        betas: [0.9, 0.9955159689799007],
        weightDecay: 0.08121616522670176,
        warmupSteps: Math.max(1, Math.round(WARMUP_FRACTION * totalSteps)),
        weightLrPower: 2,
        r: 0.75,
        eps: 1e-8,
      }),
  },
  'keepStepping-post': {
    description:
      "KeepStepping as the post's winning run: lr 1e-3, max_steps 50, impatience scale_i 2 (the growing step the post intends)",
    source:
      "'More Descent, Less Gradient' (sources/more-descent-less-gradient.txt): 'KS_50_2': KeepStepping(lr=1e-3, max_steps=50, scale_i=2); 'the impatient approach with a max step of 50 is beating Adam'",
    make: ({ seed, stepsPerEpoch }) =>
      keepStepping({ seed, stepsPerEpoch, lr: 1e-3, maxSteps: 50, scaleI: 2 }),
  },
};

/** What a spec is. */
export type ParsedSpec =
  | { kind: 'baseline'; base: string; eta: number; schedule?: string }
  | { kind: 'fixed'; name: string }
  /** A method that changes the model (runs in its own runner, alraoRunner.ts). */
  | { kind: 'model'; name: string }
  | { kind: 'catalog'; spec: string };

/** Parses (and checks) a benchmark spec; throws a {@link LrfreeConfigError} naming the valid choices. */
export function parseBenchSpec(spec: string): ParsedSpec {
  if (FIXED[spec]) return { kind: 'fixed', name: spec };
  if (spec === ALRAO_WRAPPED) return { kind: 'model', name: spec };
  const plus = spec.indexOf('+');
  const head = plus < 0 ? spec : spec.slice(0, plus);
  const schedule = plus < 0 ? undefined : spec.slice(plus + 1);
  const at = head.indexOf('@');
  const base = at < 0 ? head : head.slice(0, at);
  if (schedule !== undefined) {
    if (!SCHEDULES[schedule]) {
      throw new LrfreeConfigError(
        `'${spec}': unknown schedule '${schedule}'; known: ${Object.keys(SCHEDULES).join(', ')} (e.g. adamw@1e-3+cosine).`,
      );
    }
    if (!SCHEDULABLE[base] || at < 0) {
      throw new LrfreeConfigError(
        `'${spec}': a schedule follows a learning rate of ${Object.keys(SCHEDULABLE).join(', ')}, e.g. momentum@0.1+cosine.`,
      );
    }
  }
  if (SCHEDULABLE[base] && at >= 0) {
    const eta = Number(head.slice(at + 1));
    if (!(eta > 0) || !Number.isFinite(eta)) {
      throw new LrfreeConfigError(
        `'${spec}': the learning rate after '@' must be a positive number, e.g. adamw@1e-3+cosine.`,
      );
    }
    // Constant sgd/momentum/adam stay catalog specs (the same runs as before, the same store keys).
    if (schedule === undefined && (base === 'sgd' || base === 'momentum' || base === 'adam'))
      return { kind: 'catalog', spec };
    return { kind: 'baseline', base, eta, schedule };
  }
  try {
    checkCatalogSpec(spec);
  } catch (e) {
    if (!(e instanceof LrfreeConfigError)) throw e;
    throw new LrfreeConfigError(
      `${e.message} Besides the catalog, a benchmark takes ${Object.keys(SCHEDULABLE).join(', ')} as name@eta ` +
        `(optionally +${Object.keys(SCHEDULES).join('/+')}, e.g. adamw@1e-3+cosine) and the fixed rows ` +
        `${Object.keys(FIXED).join(', ')}, and ${ALRAO_WRAPPED} (Alrao's wrapped model, classification tasks).`,
    );
  }
  return { kind: 'catalog', spec };
}

/** Throws the error {@link benchOptimizer} would, without building anything. */
export function checkBenchSpec(spec: string): void {
  parseBenchSpec(spec);
}

/** Builds the optimizer of a benchmark spec for a run. */
export function benchOptimizer(spec: string, ctx: RunContext): LrfreeOptimizer {
  const p = parseBenchSpec(spec);
  if (p.kind === 'model')
    throw new LrfreeConfigError(
      `'${spec}' changes the model: the benchmark runner runs it (runOne), not an optimizer.`,
    );
  if (p.kind === 'fixed') return FIXED[p.name].make(ctx);
  if (p.kind === 'catalog') return optimizerFromSpec(spec, ctx);
  const schedule = p.schedule ? SCHEDULES[p.schedule](ctx) : undefined;
  return SCHEDULABLE[p.base](p.eta, ctx, schedule);
}

/** The tuned grids: name -> learning rates; the spec of a point is `${base}@${eta}${suffix}`. */
export interface Grid {
  /** Row name, e.g. `momentum+cosine`. */
  name: string;
  base: string;
  suffix: string;
  etas: number[];
  /** True for the reference rows (warm-up + cosine): targets and ratios are set from them. */
  scheduled: boolean;
}

/**
 * The grids of the benchmark. The scheduled ones have 5 points each: AlgoPerf's external-tuning trial count,
 * so "tuning charged" is exactly the 5 trials of the grid. The constant-rate grids are secondary rows.
 */
export const BENCH_GRIDS: readonly Grid[] = [
  {
    name: 'momentum+cosine',
    base: 'momentum',
    suffix: '+cosine',
    etas: [3e-3, 1e-2, 3e-2, 0.1, 0.3],
    scheduled: true,
  },
  {
    name: 'adamw+cosine',
    base: 'adamw',
    suffix: '+cosine',
    etas: [3e-4, 1e-3, 3e-3, 1e-2, 3e-2],
    scheduled: true,
  },
  { name: 'sgd', base: 'sgd', suffix: '', etas: [1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1], scheduled: false },
  { name: 'momentum', base: 'momentum', suffix: '', etas: [1e-3, 3e-3, 1e-2, 3e-2, 1e-1], scheduled: false },
  { name: 'adam', base: 'adam', suffix: '', etas: [1e-4, 3e-4, 1e-3, 3e-3, 1e-2], scheduled: false },
];

/** The grid a spec belongs to (by base and suffix; extension points included), and its learning rate. */
export function gridOf(
  spec: string,
  grids: readonly Grid[] = BENCH_GRIDS,
): { grid: Grid; eta: number } | undefined {
  for (const grid of grids) {
    const prefix = `${grid.base}@`;
    if (!spec.startsWith(prefix) || !spec.endsWith(grid.suffix)) continue;
    const eta = Number(spec.slice(prefix.length, spec.length - grid.suffix.length));
    if (eta > 0 && Number.isFinite(eta)) return { grid, eta };
  }
  return undefined;
}

/** The spec of a grid point. */
export function gridSpec(grid: Grid, eta: number): string {
  return `${grid.base}@${eta}${grid.suffix}`;
}

/** Every valid name, for help texts. */
export function benchSpecHelp(): string {
  return (
    `catalog names (${catalog()
      .map((e) => e.name)
      .join(', ')}), ${Object.keys(SCHEDULABLE).join('/')}@eta[+${Object.keys(SCHEDULES).join('|+')}], ` +
    `fixed rows ${Object.keys(FIXED).join(', ')}, ${ALRAO_WRAPPED}`
  );
}
