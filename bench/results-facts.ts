/**
 * The numbers the hand-written summary of docs/results.md quotes, computed from a results store so the prose
 * can be checked and rewritten after every sweep: per task the reference (best tuned warm-up + cosine row),
 * the target, the best row by median test loss, and the rows whose paired ratio to the reference is better /
 * inconclusive / worse (95% bootstrap over seeds); with `--rows`, those rows' ratio, targets reached and cost
 * to target beside the reference's, and the geometric mean over tasks of the cost-to-target ratio (issue 18's
 * goal); the ranked summary; the suite's total time.
 *
 *   npx tsx bench/results-facts.ts runs/std-v2.jsonl [--tasks a,b] [--rows auto,sfAdamW-algoperf]
 */

import { compare } from '../src/bench/compare.js';
import { rankedSummary, withInterval } from '../src/bench/report.js';
import { readStore } from '../src/bench/store.js';
import { inPlanOrder } from '../src/bench/suites.js';

const usage = 'usage: npx tsx bench/results-facts.ts <results.jsonl> [--tasks a,b] [--rows name,name]';
const argv = process.argv.slice(2);
const flag = (name: string) => {
  const at = argv.indexOf(name);
  return at > 0 ? argv[at + 1]?.split(',') : undefined;
};
const source = argv[0];
const known = (a: string, i: number) =>
  i === 0 || ['--tasks', '--rows'].includes(a) || ['--tasks', '--rows'].includes(argv[i - 1]);
if (!source || source.startsWith('-') || !argv.every(known)) {
  const help = argv.includes('--help') || argv.includes('-h');
  (help ? console.log : console.error)(usage);
  process.exit(help ? 0 : 2);
}
const onlyTasks = flag('--tasks');
const rowNames = flag('--rows') ?? [];
const records = inPlanOrder(readStore(source).records).filter(
  (r) => !onlyTasks || onlyTasks.includes(r.task),
);
const comparisons = compare(records);
const fmt = (x: number | undefined) =>
  x === undefined ? '-' : Number.isFinite(x) ? `${Math.round(x)}` : 'miss';
/** Per `--rows` name: its cost to target over the reference's fastest trial, per task (Infinity: a miss). */
const costRatios = new Map<string, { task: string; ratio: number }[]>();
for (const c of comparisons) {
  const rows = c.rows.filter((r) => !r.refused);
  const best = [...rows].sort((a, b) => a.testLoss.estimate - b.testLoss.estimate)[0];
  const by = (v: string) =>
    rows.filter((r) => r.vsRef?.verdict === v && r.name !== c.reference).map((r) => r.name);
  console.log(
    `${c.task}: reference ${c.reference ?? '-'}; target ${c.target ? `${c.target.on} ${c.target.value}` : '-'}; ` +
      `best ${best?.method} test loss ${best ? withInterval(best.testLoss) : '-'}; ` +
      `better than the reference: ${by('better').join(', ') || 'none'}; inconclusive: ${by('inconclusive').length}; worse: ${by('worse').length}`,
  );
  const reference = rows.find((r) => r.name === c.reference);
  for (const name of rowNames) {
    const r = rows.find((x) => x.method === name || x.name === name);
    if (!r) continue;
    const ratio = r.vsRef ? `${withInterval(r.vsRef)} ${r.vsRef.verdict}` : '-';
    const ref = reference
      ? ` (reference fastest ${fmt(reference.tunedCostToTarget ?? reference.costToTarget)})`
      : '';
    console.log(
      `  ${r.name}: test loss ${withInterval(r.testLoss)}; vs reference ${ratio}; reached ${r.reached}/${r.seeds}; ` +
        `failed ${r.failures}/${r.seeds}; cost to target ${fmt(r.costToTarget)}${ref}`,
    );
    const fastest = reference?.tunedCostToTarget ?? reference?.costToTarget;
    if (fastest !== undefined && Number.isFinite(fastest) && fastest > 0) {
      costRatios.set(name, [
        ...(costRatios.get(name) ?? []),
        { task: c.task, ratio: r.costToTarget / fastest },
      ]);
    }
  }
}
// The goal's number: the geometric mean over tasks of cost to target / the reference's fastest trial.
for (const [name, ratios] of costRatios) {
  const reached = ratios.filter((x) => Number.isFinite(x.ratio));
  const missed = ratios.filter((x) => !Number.isFinite(x.ratio)).map((x) => x.task);
  const geomean = Math.exp(reached.reduce((a, x) => a + Math.log(x.ratio), 0) / Math.max(1, reached.length));
  console.log(
    `${name}: cost to target / the reference's fastest trial, geometric mean ${missed.length ? 'Infinity' : geomean.toFixed(3)}` +
      ` over ${ratios.length} tasks${missed.length ? ` (${geomean.toFixed(3)} over the ${reached.length} reached by the median seed; missed: ${missed.join(', ')})` : ''}; ` +
      ratios.map((x) => `${x.task} ${Number.isFinite(x.ratio) ? x.ratio.toFixed(2) : 'miss'}`).join(', '),
  );
}
for (const s of rankedSummary(comparisons).slice(0, 12))
  console.log(
    `${s.method}: reached ${s.reached}/${s.tasks}, score ${s.score.toFixed(3)}, paid ${s.scorePaid.toFixed(3)}`,
  );
const sum = (f: (r: (typeof records)[number]) => number) => records.reduce((a, r) => a + f(r), 0);
console.log(
  `${records.length} runs; inside steps ${(sum((r) => r.wallMs) / 3.6e6).toFixed(2)} h, whole runs ` +
    `${(sum((r) => r.elapsedMs ?? 0) / 3.6e6).toFixed(2)} h summed over runs`,
);
