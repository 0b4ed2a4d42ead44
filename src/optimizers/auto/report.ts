/**
 * "Did it work?" for auto(): a journal of every step (the losses in a bounded trace, the scale's changes
 * and why, the skipped steps) and the report built from it, with flags that say in words what to look at
 * and what to do. The optimizer keeps one journal (AutoOptimizer.report()); nothing here touches tensors.
 */
import type { StepRecord } from '../../core/types.js';
import { AUTO_REASONS, AUTO_REGIMES } from './constants.js';
import { LossTrace, type LossWindow } from './lossTrace.js';

/** Why the scale changed, by name ({@link AUTO_REASONS}). */
export type AutoReasonName = Exclude<keyof typeof AUTO_REASONS, 'none'>;

/** One change of the scale. */
export interface AutoScaleChange {
  /** The step (1-based) whose decision it was; the new scale applies from the next step. */
  step: number;
  reason: AutoReasonName;
  from: number;
  to: number;
}

/** What a flag is about. */
export type AutoFlagId =
  | 'skippedSteps'
  | 'notLearning'
  | 'stillFalling'
  | 'lossRising'
  | 'guardFired'
  | 'tooFewSteps'
  | 'converged';

/**
 * A finding of the report: `warning` is worth a look (skipped steps, a loss that did not fall or rose at
 * the end), `info` is for the record (still falling, converged, the guard fired, too few steps to tell).
 */
export interface AutoFlag {
  id: AutoFlagId;
  severity: 'warning' | 'info';
  message: string;
  /** What the user should do. */
  action: string;
}

/** How the training loss moved between two stretches of the run (paired by nothing: two windows). */
export interface AutoLossChange {
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

/** What {@link AutoOptimizer.report} returns; JSON-safe. */
export interface AutoReport {
  /** Steps this optimizer object took (applied and skipped), since it was created or restored. */
  steps: number;
  /** Steps skipped because the loss, a gradient or the update was not finite (nothing applied). */
  skipped: number;
  /** The loss as auto found it at step 2: 'deterministic' (full batch) or 'noisy' (mini-batches). */
  regime: 'unknown' | 'deterministic' | 'noisy';
  scale: {
    /** The scale the step-1 calibration chose (null before it, or when restored after it). */
    calibrated: number | null;
    /** The scale the next step uses. */
    current: number;
    /** Changes after the calibration, by reason. */
    counts: Partial<Record<AutoReasonName, number>>;
    /** The changes themselves (the first {@link MAX_CHANGES}; `counts` has them all). */
    changes: AutoScaleChange[];
  };
  loss: {
    /** The first 5% of the run (at least the first bin) and the last quarter. */
    start?: LossWindow;
    end?: LossWindow;
    /** The third quarter of the run against the last one. */
    lastQuarter?: AutoLossChange;
  };
  flags: AutoFlag[];
  /** No flag of severity `warning`. */
  ok: boolean;
}

/** The changes listed in a report (counted beyond). */
export const MAX_CHANGES = 100;
/** A relative change of the training loss below this is no change (the plateau rule's 1%). */
const FALL = 0.01;
/** A difference of two windows' means is read as real beyond this many standard errors. */
const Z = 2;
/** Fewer steps than this say nothing about a trend. */
const MIN_STEPS = 20;

const REASON_NAMES = new Map<number, AutoReasonName>(
  (Object.entries(AUTO_REASONS) as [keyof typeof AUTO_REASONS, number][])
    .filter(([name]) => name !== 'none')
    .map(([name, code]) => [code, name as AutoReasonName]),
);

/** One optimizer's record of its steps; {@link AutoJournal.report} reads it. */
export class AutoJournal {
  private readonly trace = new LossTrace();
  private steps = 0;
  private skipped = 0;
  private firstSkip?: { step: number; what: string };
  private calibrated: number | null = null;
  private readonly counts: Partial<Record<AutoReasonName, number>> = {};
  private readonly changes: AutoScaleChange[] = [];

  /** Records the step just taken: its record and the scale before it. */
  record(step: StepRecord, scaleBefore: number): void {
    this.steps += 1;
    if (step.skipped) {
      this.skipped += 1;
      this.firstSkip ??= { step: this.steps, what: step.skipReason ?? 'loss' };
      return;
    }
    this.trace.add(step.loss);
    const reason = REASON_NAMES.get(step.info.reason ?? AUTO_REASONS.none);
    const next = step.info.next;
    if (reason === 'calibrated') {
      this.calibrated = next ?? null;
      return;
    }
    if (reason === undefined || reason === 'checkedOk' || next === undefined || next === scaleBefore) return;
    this.counts[reason] = (this.counts[reason] ?? 0) + 1;
    if (this.changes.length < MAX_CHANGES) {
      this.changes.push({ step: this.steps, reason, from: scaleBefore, to: next });
    }
  }

  /** The report at this point of the run. */
  report(regimeCode: number, scale: number): AutoReport {
    const regime =
      regimeCode === AUTO_REGIMES.deterministic
        ? 'deterministic'
        : regimeCode === AUTO_REGIMES.noisy
          ? 'noisy'
          : 'unknown';
    const start = this.trace.window(0, 0.05);
    const end = this.trace.window(0.75, 1);
    const third = this.trace.window(0.5, 0.75);
    const lastQuarter = third && end && this.trace.binCount >= 4 ? change(third, end) : undefined;
    const report: AutoReport = {
      steps: this.steps,
      skipped: this.skipped,
      regime,
      scale: {
        calibrated: this.calibrated,
        current: scale,
        counts: { ...this.counts },
        changes: this.changes.map((c) => ({ ...c })),
      },
      loss: { start, end, lastQuarter },
      flags: [],
      ok: true,
    };
    report.flags = this.flags(report);
    report.ok = report.flags.every((f) => f.severity !== 'warning');
    return report;
  }

  private flags(r: AutoReport): AutoFlag[] {
    const flags: AutoFlag[] = [];
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
    const applied = this.trace.count;
    if (applied < MIN_STEPS) {
      flags.push({
        id: 'tooFewSteps',
        severity: 'info',
        message: `${applied} steps with a finite loss: too few to tell whether the loss is still falling.`,
        action: 'Ask again after more steps.',
      });
      return flags;
    }
    const { start, end, lastQuarter } = r.loss;
    if (start && end) {
      const whole = change(start, end);
      if (!(whole.relativeFall > FALL && beyond(whole.z, 1))) {
        flags.push({
          id: 'notLearning',
          severity: 'warning',
          message:
            `The training loss did not fall: ${fmt(start.mean)} over ${stepsOf(start)}, ` +
            `${fmt(end.mean)} over ${stepsOf(end)}.`,
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
      } else if (r.regime === 'deterministic' && Math.abs(relativeFall) < 1e-6) {
        flags.push({
          id: 'converged',
          severity: 'info',
          message: `The loss stopped changing (${where}): a minimum, or the float32 floor of this problem.`,
          action: 'Nothing to do; more steps would not help.',
        });
      }
    }
    const rose = r.scale.counts.lossRose ?? 0;
    if (rose > 0) {
      const first = r.scale.changes.find((c) => c.reason === 'lossRose');
      flags.push({
        id: 'guardFired',
        severity: 'info',
        message:
          `The smoothed training loss rose to twice its value at the calibration ${rose} time${rose > 1 ? 's' : ''}` +
          `${first ? ` (first at step ${first.step})` : ''}; each time the scale was halved.`,
        action:
          'Nothing to do if the loss fell afterwards; if it happened again and again, look for outliers or ' +
          'a loss that changes with the data order.',
      });
    }
    return flags;
  }
}

function change(before: LossWindow, after: LossWindow): AutoLossChange {
  const diff = before.mean - after.mean;
  const se = Math.sqrt((before.se || 0) ** 2 + (after.se || 0) ** 2);
  const z = se > 0 ? diff / se : null;
  return { before, after, relativeFall: diff / Math.max(Math.abs(before.mean), 1e-30), z };
}

/** "step 3" or "steps 3-8". */
function stepsOf(w: LossWindow): string {
  return w.fromStep === w.toStep ? `step ${w.fromStep}` : `steps ${w.fromStep}-${w.toStep}`;
}

/** The difference is beyond the noise in direction `sign` (any difference counts without a spread). */
function beyond(z: number | null, sign: 1 | -1): boolean {
  return z === null || sign * z > Z;
}

function fmt(v: number): string {
  return Number.isFinite(v) ? v.toPrecision(4) : String(v);
}

function pct(v: number): string {
  return `${(100 * v).toFixed(v < 0.1 ? 1 : 0)}%`;
}

/** The report as lines of text, for a log or a terminal. */
export function formatAutoReport(report: AutoReport): string {
  const lines = [
    `auto: ${report.ok ? 'no warning' : 'warnings below'}; ${report.steps} steps (${report.skipped} skipped), ` +
      `${report.regime} loss, scale ${report.scale.calibrated === null ? '' : `calibrated ${fmt(report.scale.calibrated)}, `}now ${fmt(report.scale.current)}`,
  ];
  const counts = Object.entries(report.scale.counts);
  if (counts.length > 0) lines.push(`  scale changes: ${counts.map(([k, n]) => `${k} ${n}`).join(', ')}`);
  const { start, end } = report.loss;
  if (start && end) {
    lines.push(
      `  training loss: ${fmt(start.mean)} (${stepsOf(start)}) -> ${fmt(end.mean)} (${stepsOf(end)})`,
    );
  }
  for (const f of report.flags) lines.push(`  ${f.severity}: ${f.message} ${f.action}`);
  return lines.join('\n');
}
