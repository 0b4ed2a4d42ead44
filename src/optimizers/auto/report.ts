/**
 * auto()'s part of the report every optimizer gives (core/runReport.ts): what it found about the loss
 * (the regime), the scale the calibration chose, and every later change of the scale with its reason; a
 * flag when the guard fired. Nothing here touches tensors.
 */
import type { ReportFlag, TrainingReport } from '../../core/runReport.js';
import { AUTO_REASONS, AUTO_REGIMES } from './constants.js';

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

/** What `AutoOptimizer.report()` returns: the report of every optimizer, and auto's own findings. */
export interface AutoReport extends TrainingReport {
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
}

/** The changes listed in a report (counted beyond). */
export const MAX_CHANGES = 100;

const REASON_NAMES = new Map<number, AutoReasonName>(
  (Object.entries(AUTO_REASONS) as [keyof typeof AUTO_REASONS, number][])
    .filter(([name]) => name !== 'none')
    .map(([name, code]) => [code, name as AutoReasonName]),
);

/** auto's record of its scale: the calibration and each later change. */
export class AutoScaleJournal {
  private steps = 0;
  private calibrated: number | null = null;
  private readonly counts: Partial<Record<AutoReasonName, number>> = {};
  private readonly changes: AutoScaleChange[] = [];

  /** Records the step just taken (its `info.reason` and `info.next`) and the scale before it. */
  record(step: { skipped: boolean; info: Readonly<Record<string, number>> }, scaleBefore: number): void {
    this.steps += 1;
    if (step.skipped) return;
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

  /** `base` (the optimizer's report) with auto's findings added. */
  report(base: TrainingReport, regimeCode: number, scale: number): AutoReport {
    const regime =
      regimeCode === AUTO_REGIMES.deterministic
        ? 'deterministic'
        : regimeCode === AUTO_REGIMES.noisy
          ? 'noisy'
          : 'unknown';
    const counts = { ...this.counts };
    const flags = [...base.flags];
    const rose = counts.lossRose ?? 0;
    if (rose > 0)
      flags.push(
        guardFlag(
          rose,
          this.changes.find((c) => c.reason === 'lossRose'),
        ),
      );
    const changed = Object.entries(counts);
    return {
      ...base,
      flags,
      ok: flags.every((f) => f.severity !== 'warning'),
      details: [
        ...base.details,
        `${regime} loss; scale ${this.calibrated === null ? '' : `calibrated ${fmt(this.calibrated)}, `}now ${fmt(scale)}` +
          (changed.length > 0 ? `; changes: ${changed.map(([k, n]) => `${k} ${n}`).join(', ')}` : ''),
      ],
      regime,
      scale: {
        calibrated: this.calibrated,
        current: scale,
        counts,
        changes: this.changes.map((c) => ({ ...c })),
      },
    };
  }
}

function guardFlag(times: number, first: AutoScaleChange | undefined): ReportFlag {
  return {
    id: 'guardFired',
    severity: 'info',
    message:
      `The smoothed training loss rose to twice its value at the calibration ${times} time${times > 1 ? 's' : ''}` +
      `${first ? ` (first at step ${first.step})` : ''}; each time the scale was halved.`,
    action:
      'Nothing to do if the loss fell afterwards; if it happened again and again, look for outliers or ' +
      'a loss that changes with the data order.',
  };
}

function fmt(v: number): string {
  return v.toPrecision(4);
}
