/**
 * The numbers the hand-written summary of docs/results.md quotes, computed from a results store so the prose
 * can be checked and rewritten after every sweep: per task the best method, the best tuned baseline, and the
 * learning-rate-free methods within 10% of that baseline's test loss; the performance-profile scores with
 * tuning free and paid; the suite's total time.
 *
 *   npx tsx bench/results-facts.ts lrfree-out/standard.jsonl
 */
import { compare, profile } from '../src/bench/compare.js';
import { readStore } from '../src/bench/store.js';
import { inPlanOrder } from '../src/bench/suites.js';

const source = process.argv[2];
if (!source) throw new Error('usage: npx tsx bench/results-facts.ts <results.jsonl>');
const records = inPlanOrder(readStore(source).records);
const fmt = (x: number) => (Math.abs(x) >= 1e-3 || x === 0 ? x.toPrecision(3) : x.toExponential(2));
const comparisons = compare(records);
for (const c of comparisons) {
  const rows = c.rows.filter((r) => !r.refused && Number.isFinite(r.testLoss.mean));
  const best = [...rows].sort((a, b) => a.testLoss.mean - b.testLoss.mean)[0];
  const tuned = rows.filter((r) => r.tuned).sort((a, b) => a.testLoss.mean - b.testLoss.mean)[0];
  const free = c.rows.filter((r) => !r.tuned && !/^adam$/.test(r.spec));
  const within = free.filter((r) => r.testLoss.mean <= 1.1 * tuned.testLoss.mean);
  const metric = (r: (typeof rows)[number]) =>
    r.testMetric ? ` / ${c.metricName} ${r.testMetric.mean.toFixed(3)}` : '';
  console.log(
    `${c.task}: best ${best.method} ${fmt(best.testLoss.mean)}${metric(best)}; ` +
      `best tuned ${tuned.method} ${fmt(tuned.testLoss.mean)}${metric(tuned)}; ` +
      `lr-free within 10% of it: ${within.length}/${free.length} (${within.map((r) => r.method).join(', ')})`,
  );
}
for (const tuningInclusive of [false, true]) {
  const { scores } = profile(comparisons, { tuningInclusive });
  const top = Object.entries(scores)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 10)
    .map(([m, s]) => `${m} ${s.toFixed(3)}`);
  console.log(`profile scores (tuning ${tuningInclusive ? 'paid' : 'free'}): ${top.join(', ')}`);
}
const sum = (f: (r: (typeof records)[number]) => number) => records.reduce((a, r) => a + f(r), 0);
const elapsed = sum((r) => r.elapsedMs ?? 0);
console.log(
  `${records.length} runs; inside steps ${(sum((r) => r.wallMs) / 3.6e6).toFixed(2)} h, whole runs ` +
    `${(elapsed / 3.6e6).toFixed(2)} h summed over runs (${records.filter((r) => r.elapsedMs === undefined).length} without elapsedMs)`,
);
