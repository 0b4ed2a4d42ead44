/**
 * The robustness bench's yardstick (bench/auto-robustness.ts): Adam re-tuned for each change. For every
 * task and change, the learning rate of the `adam@<lr>` runs with the lowest mean log test loss over
 * seeds is chosen, on the test loss itself (there is no validation split here, so this is the best a grid
 * could do: a bound on re-tuning, in Adam's favour). Printed: the chosen rate, the re-tuned run over the
 * re-tuned unchanged run (does even re-tuning stay within 10%?), and auto over the re-tuned Adam of the
 * same change (paired by seed).
 */
import { mean, pairedLog } from './auto-stats.js';

/** What this summary reads of a robustness line. */
export interface RobustLine {
  task: string;
  optimizer: string;
  change: string;
  seed: number;
  diverged: boolean;
  testLoss: number;
}

const lrOf = (optimizer: string) => /^adam@(.+)$/.exec(optimizer)?.[1];

/** The grid point with the lowest mean log test loss (a diverged seed: +Infinity) and its lines by seed. */
function retuned(lines: readonly RobustLine[]): { lr: string; bySeed: Map<number, number> } | undefined {
  const byLr = new Map<string, RobustLine[]>();
  for (const l of lines) {
    const lr = lrOf(l.optimizer);
    if (lr !== undefined) byLr.set(lr, [...(byLr.get(lr) ?? []), l]);
  }
  let best: { lr: string; score: number; rs: RobustLine[] } | undefined;
  for (const [lr, rs] of byLr) {
    const score = mean(rs.map((r) => (r.diverged ? Number.POSITIVE_INFINITY : Math.log(r.testLoss))));
    if (!best || score < best.score) best = { lr, score, rs };
  }
  if (!best || !Number.isFinite(best.score)) return undefined;
  return { lr: best.lr, bySeed: new Map(best.rs.map((r) => [r.seed, r.testLoss])) };
}

/** Per-seed ratios a / b over the seeds both have. */
function paired(a: Map<number, number>, b: Map<number, number>): number[] {
  return [...a.keys()].filter((s) => b.has(s)).map((s) => (a.get(s) as number) / (b.get(s) as number));
}

/** Per-seed ratios as printed in the robustness tables. */
export const fmtRatios = (qs: readonly number[]) => qs.map((q) => q.toFixed(3)).join(', ');
/** `mean [lo, hi] verdict` of the ratios' logs, or '' when fewer than 2 or any not finite and positive. */
export const interval = (qs: readonly number[]) =>
  qs.length >= 2 && qs.every((q) => Number.isFinite(q) && q > 0) ? pairedLog(qs.map(Math.log)) : '';

/**
 * Prints the re-tuned Adam table for `changes` (in order), when the lines hold an `adam@<lr>` grid; `of`
 * names the optimizer compared with it (default auto).
 */
export function printRetuned(
  lines: readonly RobustLine[],
  tasks: readonly string[],
  changes: readonly string[],
  of = 'auto',
): void {
  if (!lines.some((l) => lrOf(l.optimizer) !== undefined)) return;
  console.log(
    `\nAdam re-tuned for each change (rate chosen on the test loss itself: a bound on re-tuning), and ${of} against it:\n`,
  );
  console.log(
    `| task | change | rates tried | rate chosen | re-tuned / re-tuned unchanged, per seed | log ratio mean [95% CI] | all within 10% | ${of} / re-tuned Adam, per seed | log ratio mean [95% CI] |`,
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const task of tasks) {
    const at = (change: string) => lines.filter((l) => l.task === task && l.change === change);
    const base = retuned(at('unchanged'));
    if (!base) continue;
    for (const change of changes) {
      const here = at(change);
      const rates = [...new Set(here.map((l) => lrOf(l.optimizer)).filter((x) => x !== undefined))].sort(
        (a, b) => Number(a) - Number(b),
      );
      const tuned = retuned(here);
      if (!tuned) {
        if (rates.length > 0)
          console.log(`| ${task} | ${change} | ${rates.join(', ')} | every rate diverged | | | | | |`);
        continue;
      }
      const self = paired(tuned.bySeed, base.bySeed);
      const ours = new Map(
        here
          .filter((l) => l.optimizer === of)
          .map((l) => [l.seed, l.diverged ? Number.POSITIVE_INFINITY : l.testLoss] as const),
      );
      const vs = paired(ours, tuned.bySeed);
      const edge =
        tuned.lr === rates[0] ? ' (bottom edge)' : tuned.lr === rates[rates.length - 1] ? ' (top edge)' : '';
      const within = self.length > 0 && self.every((q) => Math.abs(q - 1) <= 0.1) ? 'yes' : 'no';
      console.log(
        `| ${task} | ${change} | ${rates.join(', ')} | ${tuned.lr}${edge} | ${change === 'unchanged' ? '' : fmtRatios(self)} | ${change === 'unchanged' ? '' : interval(self)} | ${change === 'unchanged' ? '' : within} | ${fmtRatios(vs)} | ${interval(vs)} |`,
      );
    }
  }
}
