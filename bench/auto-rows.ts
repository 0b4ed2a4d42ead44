/**
 * auto()'s rows on the standard suite beside the store's tuned references, from a side store of auto runs
 * (docs/auto.md, "Standard suite"): the store's own auto rows of those tasks are replaced by the side store's,
 * so every ratio is paired by seed with the same reference runs. Not part of npm test.
 *
 *   npx tsx bench/auto-rows.ts <suite store.jsonl> <auto runs.jsonl>
 */
import { compare } from '../src/bench/compare.js';
import { rankedSummary, withInterval } from '../src/bench/report.js';
import { readStore } from '../src/bench/store.js';
import { inPlanOrder } from '../src/bench/suites.js';

const [storePath, autoPath] = process.argv.slice(2);
if (!storePath || !autoPath) {
  console.error('usage: npx tsx bench/auto-rows.ts <suite store.jsonl> <auto runs.jsonl>');
  process.exit(2);
}
const fresh = readStore(autoPath).records.filter((r) => r.optimizer === 'auto');
const tasks = new Set(fresh.map((r) => r.task));
const records = inPlanOrder([
  ...readStore(storePath).records.filter((r) => tasks.has(r.task) && r.optimizer !== 'auto'),
  ...fresh,
]);
const comparisons = compare(records);
console.log(
  '| task | reference | its test loss | auto test loss | loss / reference | reached | auto cost to target | reference fastest / paid |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const c of comparisons) {
  const ref = c.rows.find((r) => r.name === c.reference);
  const a = c.rows.find((r) => r.name === 'auto');
  if (!a || !ref) continue;
  const v = a.vsRef;
  console.log(
    `| ${c.task} | ${c.reference} | ${withInterval(ref.testLoss)} | ${withInterval(a.testLoss)} | ` +
      `${v ? `${v.estimate.toPrecision(3)} [${v.low.toPrecision(3)}, ${v.high.toPrecision(3)}] ${v.verdict}` : '-'} | ` +
      `${a.reached}/${a.seeds} | ${a.costToTarget} | ${ref.tunedCostToTarget ?? '-'} / ${ref.paidCostToTarget ?? '-'} |`,
  );
}
console.log(
  '\n| rank | method | tasks reaching the target | score B (external tuning) | score B (tuning paid) | better / inconclusive / worse |',
);
console.log('| --- | --- | --- | --- | --- | --- |');
for (const [i, r] of rankedSummary(comparisons).slice(0, 12).entries()) {
  console.log(
    `| ${i + 1} | ${r.method} | ${r.reached}/${r.tasks} | ${r.score.toFixed(3)} | ${r.scorePaid.toFixed(3)} | ${r.better} / ${r.inconclusive} / ${r.worse} |`,
  );
}
