/**
 * The numbers the hand-written summary of docs/results.md quotes, computed from a results store so the prose
 * can be checked and rewritten after every sweep: per task the reference (best tuned warm-up + cosine row),
 * the target, the best row by median test loss, and the rows whose paired ratio to the reference is better /
 * inconclusive / worse (95% bootstrap over seeds); the ranked summary; the suite's total time.
 *
 *   npx tsx bench/results-facts.ts runs/std-v2.jsonl
 */

import { compare } from '../src/bench/compare.js';
import { rankedSummary, withInterval } from '../src/bench/report.js';
import { readStore } from '../src/bench/store.js';
import { inPlanOrder } from '../src/bench/suites.js';

const source = process.argv[2];
if (!source || source.startsWith('-')) {
  console.error('usage: npx tsx bench/results-facts.ts <results.jsonl>');
  process.exit(source === '--help' || source === '-h' ? 0 : 2);
}
const records = inPlanOrder(readStore(source).records);
const comparisons = compare(records);
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
