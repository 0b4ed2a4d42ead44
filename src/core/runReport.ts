/**
 * "Did it work?" for every lrfree optimizer: a journal of its steps (the losses in a bounded trace, the
 * skipped steps, the step size) and the report built from it, with flags that say in words what to look
 * at and what to do. Each optimizer keeps one journal (`optimizer.report()`); methods add their own
 * findings (auto: its scale's changes, optimizers/auto/report.ts). Nothing here touches tensors.
 */
import { LossTrace, type LossWindow } from './lossTrace.js';
import type { StepRecord } from './types.js';

/** What a flag is about. */
export type ReportFlagId =
  | 'skippedSteps'
  | 'diverging'
  | 'notLearning'
  | 'stillFalling'
  | 'lossRising'
  | 'converged'
  | 'tooFewSteps'
  /** auto: the smoothed loss rose to twice its calibration value and the scale was halved. */
  | 'guardFired';

/**
 * A finding of a report: `warning` is worth a look (skipped steps, a loss that did not fall or rose at
 * the end), `info` is for the record (still falling, converged, too few steps to tell, ...).
 */
export interface ReportFlag {
  id: ReportFlagId;
  severity: 'warning' | 'info';
  message: string;
  /** What the user should do. */
  action: string;
}

/** How the training loss moved between two stretches of the run. */
export interface LossChange {
  before: LossWindow;
  after: LossWindow;
  /** (before - after) / |before|: positive when the loss fell. */
  relativeFall: number;
  /**
   * The fall in standard errors of the difference; null when neither window has a spread (exact losses,
   * or one bin each), where any difference counts.
   */
  z: number | null;
}

/** What `optimizer.report()` returns; JSON-safe. */
export interface TrainingReport {
  /** The optimizer's name. */
  optimizer: string;
  /** Steps this optimizer object took (applied and skipped), since it was created or restored. */
  steps: number;
  /** Steps skipped because the loss, a gradient, the step size or the update was not finite. */
  skipped: number;
  /**
   * The step size of the first step that moved the weights (a calibration or probing step of size 0 is
   * not one) and of the last applied step, as `lastStep.eta` reported them.
   */
  eta: { first: number | number[] | null; last: number | number[] | null };
  loss: {
    /** The first 5% of the run (at least the first bin) and the last quarter. */
    start?: LossWindow;
    end?: LossWindow;
    /** The third quarter of the run against the last one. */
    lastQuarter?: LossChange;
  };
  flags: ReportFlag[];
  /** No flag of severity `warning`. */
  ok: boolean;
  /** Lines a method adds to the printed report (auto: its regime and its scale's changes). */
  details: string[];
}

/** The last loss above this many times the first: diverging, however few the steps. */
const BLOW_UP = 10;
/** A relative change of the training loss below this is no change (auto's plateau rule's 1%). */
const FALL = 0.01;
/** A difference of two windows' means is read as real beyond this many standard errors. */
const Z = 2;
/** Fewer steps than this say nothing about a trend. */
const MIN_STEPS = 20;
/** A relative change below this, in a loss without noise, is no change at all. */
const STILL = 1e-6;

/** One optimizer's record of its steps; {@link RunJournal.report} reads it. */
export class RunJournal {
  private readonly trace = new LossTrace();
  private steps = 0;
  private skipped = 0;
  private firstSkip?: { step: number; what: string };
  private firstEta: number | number[] | null = null;
  private lastEta: number | number[] | null = null;
  private firstLoss = Number.NaN;
  private lastLoss = Number.NaN;

  /** Records the step just taken. */
  record(step: StepRecord): void {
    this.steps += 1;
    if (step.skipped) {
      this.skipped += 1;
      this.firstSkip ??= { step: this.steps, what: step.skipReason ?? 'loss' };
      return;
    }
    this.trace.add(step.loss);
    if (Number.isFinite(step.loss)) {
      if (Number.isNaN(this.firstLoss)) this.firstLoss = step.loss;
      this.lastLoss = step.loss;
    }
    const moved = Array.isArray(step.eta) ? step.eta.some((e) => e !== 0) : step.eta !== 0;
    if (moved) this.firstEta ??= step.eta;
    this.lastEta = step.eta;
  }

  /** The report at this point of the run. */
  report(optimizer: string): TrainingReport {
    const start = this.trace.window(0, 0.05);
    const end = this.trace.window(0.75, 1);
    const third = this.trace.window(0.5, 0.75);
    const lastQuarter = third && end && this.trace.binCount >= 4 ? lossChange(third, end) : undefined;
    const loss = { start, end, lastQuarter };
    const flags = this.flags(loss);
    return {
      optimizer,
      steps: this.steps,
      skipped: this.skipped,
      eta: { first: copy(this.firstEta), last: copy(this.lastEta) },
      loss,
      flags,
      ok: flags.every((f) => f.severity !== 'warning'),
      details: [],
    };
  }

  private flags({ start, end, lastQuarter }: TrainingReport['loss']): ReportFlag[] {
    const flags: ReportFlag[] = [];
    if (this.skipped > 0 && this.firstSkip) {
      flags.push({
        id: 'skippedSteps',
        severity: 'warning',
        message:
          `${this.skipped} of ${this.steps} steps were skipped because the ${this.firstSkip.what} was not finite ` +
          `(the first at step ${this.firstSkip.step}); weights and optimizer state were left as they were.`,
        action: 'Look for NaN or Inf in the inputs and labels of those batches, or a loss that overflows.',
      });
    }
    // Seen at any number of steps: a run stopped early for diverging is exactly the short run to flag.
    // With enough steps the first 5% and the last quarter are compared (one lucky first batch of a
    // fine-tuning run is no baseline); with few, the first and the last loss. A ratio only means something
    // for a positive loss (a log-likelihood can start below 0).
    const windows = this.trace.count >= MIN_STEPS && start && end;
    const from = windows ? start.mean : this.firstLoss;
    const to = windows ? end.mean : this.lastLoss;
    if (from > 0 && to > BLOW_UP * from) {
      const what = windows
        ? `${fmt(from)} over ${stepsOf(start)} to ${fmt(to)} over ${stepsOf(end)}`
        : `${fmt(from)} (the first step) to ${fmt(to)} (the last)`;
      flags.push({
        id: 'diverging',
        severity: 'warning',
        message: `The training loss rose from ${what}: ${fmt(to / from)} times.`,
        action:
          'The steps are too large for this problem: with a learning rate, lower it (or add warm-up); with a ' +
          'learning-rate-free method, check the data for outliers and the loss for a scale it cannot reach.',
      });
    }
    if (this.trace.count < MIN_STEPS) {
      const applied = this.steps - this.skipped;
      // applyGradients() hands the optimizer gradients only: no loss to read.
      const noLoss = this.trace.count === 0 && applied > 0;
      flags.push({
        id: 'tooFewSteps',
        severity: 'info',
        message: noLoss
          ? `None of the ${applied} applied steps reported a loss (applyGradients() passes gradients only): the report can count steps and skips, not read a trend.`
          : `${this.trace.count} steps with a finite loss: too few to tell whether the loss is still falling.`,
        action: noLoss
          ? 'Step with minimize(() => loss) (model.fit does) to get the loss trend.'
          : 'Ask again after more steps.',
      });
      return flags;
    }
    let learned = true;
    if (start && end) {
      const whole = lossChange(start, end);
      learned = whole.relativeFall > FALL && beyond(whole.z, 1);
      if (!learned) {
        flags.push({
          id: 'notLearning',
          severity: 'warning',
          message: `The training loss did not fall: ${fmt(start.mean)} over ${stepsOf(start)}, ${fmt(end.mean)} over ${stepsOf(end)}.`,
          action:
            'Check that the labels match the inputs, that the loss fits the outputs (logits or probabilities), ' +
            'and that the model can fit a few batches; lrfree.diagnostics.procedure() runs these checks.',
        });
      }
    }
    if (lastQuarter) {
      const { before, after, relativeFall, z } = lastQuarter;
      const where = `${stepsOf(before)} against ${after.fromStep}-${after.toStep}`;
      if (relativeFall > FALL && beyond(z, 1)) {
        flags.push({
          id: 'stillFalling',
          // Information, not a fault: on separable data the training loss falls for ever.
          severity: 'info',
          message:
            `The training loss was still falling at the end: ${pct(relativeFall)} lower over the last quarter ` +
            `of the run (${where}${z === null ? '' : `, ${z.toFixed(1)} standard errors`}).`,
          action:
            'More steps would most likely lower the training loss further; whether they help depends on the ' +
            'held-out loss: if it still fell over the last epochs too, train longer.',
        });
      } else if (relativeFall < -FALL && beyond(z, -1)) {
        flags.push({
          id: 'lossRising',
          severity: 'warning',
          message: `The training loss rose over the last quarter of the run by ${pct(-relativeFall)} (${where}).`,
          action:
            'Check the last batches for a change of data (order, preprocessing) or outliers; keep the weights ' +
            'of an earlier checkpoint if the held-out loss rose too.',
        });
      } else if (learned && Math.abs(relativeFall) < STILL) {
        // A mini-batch loss always moves by more than this: only an exact loss gets here.
        flags.push({
          id: 'converged',
          severity: 'info',
          message: `The loss stopped changing (${where}): a minimum, or the float32 floor of this problem.`,
          action: 'Nothing to do; more steps would not help.',
        });
      }
    }
    return flags;
  }
}

/** The change of the mean loss from one stretch to another, in relative terms and in standard errors. */
export function lossChange(before: LossWindow, after: LossWindow): LossChange {
  const diff = before.mean - after.mean;
  const se = Math.hypot(before.se ?? 0, after.se ?? 0); // hypot: no overflow of the squares
  return {
    before,
    after,
    relativeFall: finite(diff / Math.max(Math.abs(before.mean), 1e-30)),
    z: se > 0 ? finite(diff / se) : null,
  };
}

/** A ratio that overflowed, as the largest double of its sign (the report stays JSON-safe). */
function finite(x: number): number {
  // + 0 turns -0 into 0, which JSON writes as 0 anyway.
  return Number.isFinite(x) ? x + 0 : Math.sign(x) * Number.MAX_VALUE;
}

/** The difference is beyond the noise in direction `sign` (any difference counts without a spread). */
function beyond(z: number | null, sign: 1 | -1): boolean {
  return z === null || sign * z > Z;
}

function copy(eta: number | number[] | null): number | number[] | null {
  return Array.isArray(eta) ? [...eta] : eta;
}

/** "step 3" or "steps 3-8". */
function stepsOf(w: LossWindow): string {
  return w.fromStep === w.toStep ? `step ${w.fromStep}` : `steps ${w.fromStep}-${w.toStep}`;
}

function fmt(v: number): string {
  return Number.isFinite(v) ? v.toPrecision(4) : String(v);
}

function fmtEta(eta: number | number[] | null): string {
  if (eta === null) return '-';
  return Array.isArray(eta) ? `[${eta.map(fmt).join(', ')}]` : fmt(eta);
}

function pct(v: number): string {
  return `${(100 * v).toFixed(v < 0.1 ? 1 : 0)}%`;
}

/** A report as lines of text, for a log or a terminal. */
export function formatReport(report: TrainingReport): string {
  const lines = [
    `${report.optimizer}: ${report.ok ? 'no warning' : 'warnings below'}; ${report.steps} steps (${report.skipped} skipped), ` +
      `step size ${fmtEta(report.eta.first)} at the first move, ${fmtEta(report.eta.last)} at the last step`,
    ...report.details.map((d) => `  ${d}`),
  ];
  const { start, end } = report.loss;
  if (start && end) {
    lines.push(
      `  training loss: ${fmt(start.mean)} (${stepsOf(start)}) -> ${fmt(end.mean)} (${stepsOf(end)})`,
    );
  }
  for (const f of report.flags) lines.push(`  ${f.severity}: ${f.message} ${f.action}`);
  return lines.join('\n');
}
