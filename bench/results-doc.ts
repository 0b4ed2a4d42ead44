/**
 * Writes the benchmark tables of a results store into docs/results.md, between the markers
 * `<!-- tables:start -->` and `<!-- tables:end -->` (the claims have their own markers, see claims.ts).
 *
 *   npx tsx bench/results-doc.ts lrfree-out/standard.jsonl
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { benchReport } from '../src/bench/report.js';
import { readStore } from '../src/bench/store.js';
import { inPlanOrder } from '../src/bench/suites.js';

const path = 'docs/results.md';
const source = process.argv[2];
if (!source) throw new Error('usage: npx tsx bench/results-doc.ts <results.jsonl>');
const records = inPlanOrder(readStore(source).records);
const tasks = [...new Set(records.map((r) => r.task))];
const seeds = [...new Set(records.map((r) => r.seed))].sort((a, b) => a - b);
const optimizers = new Set(records.map((r) => r.optimizer));
const suites = [...new Set(records.map((r) => r.suite))];
const backends = [...new Set(records.map((r) => r.backend))];
const stepHours = records.reduce((a, r) => a + r.wallMs, 0) / 3.6e6;
const { markdown } = benchReport(records, { source });
const summary =
  `${records.length} runs (suite ${suites.join(', ')}; ${tasks.length} tasks: ${tasks.join(', ')}; ` +
  `${optimizers.size} optimizer specs; seeds ${seeds.join(', ')}; backend ${backends.join(', ')}); ` +
  `${stepHours.toFixed(2)} hours inside optimizer steps, summed over runs.`;
const start = '<!-- tables:start -->';
const end = '<!-- tables:end -->';
const doc = readFileSync(path, 'utf8');
if (!doc.includes(start) || !doc.includes(end))
  throw new Error(`${path} lacks the markers ${start} ... ${end}`);
writeFileSync(
  path,
  doc.replace(new RegExp(`${start}[\\s\\S]*${end}`), `${start}\n${summary}\n\n${markdown}\n${end}`),
);
console.log(summary);
