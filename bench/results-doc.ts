/**
 * Writes the benchmark tables of a results store into docs/results.md, between the markers
 * `<!-- v2-tables:start -->` and `<!-- v2-tables:end -->` (the claims have their own markers, see claims.ts;
 * the v1 tables are archived in docs/results-v1.md).
 *
 *   npx tsx bench/results-doc.ts runs/std-v2.jsonl [--wall "6 h 40 min on 2 cores"] [--tasks a,b] [--markers name]
 *
 * `--tasks` keeps only those tasks (a sweep still running: publish the tasks it finished); `--markers name`
 * writes between `<!-- name:start -->` and `<!-- name:end -->` instead.
 *
 * `--wall` is the sweep's wall time as measured outside (the store records each run's own time, not the
 * sweep's); it is written beside the code version. Bad arguments write nothing.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { benchReport } from '../src/bench/report.js';
import { readStore } from '../src/bench/store.js';
import { inPlanOrder } from '../src/bench/suites.js';

const path = 'docs/results.md';
const usage =
  'usage: npx tsx bench/results-doc.ts <results.jsonl> [--wall "<sweep wall time>"] [--tasks a,b] [--markers name]';
const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  console.log(usage);
  process.exit(0);
}
const source = argv[0];
const flagValue = (flag: string) => {
  const at = argv.indexOf(flag);
  return { at, value: at > 0 ? argv[at + 1] : undefined };
};
const flags = ['--wall', '--tasks', '--markers'].map(flagValue);
const [wall, onlyTasks, markers] = flags.map((f) => f.value);
const extra = argv.filter((_a, i) => i > 0 && !flags.some((f) => f.at > 0 && (i === f.at || i === f.at + 1)));
if (
  !source ||
  source.startsWith('-') ||
  !existsSync(source) ||
  extra.length > 0 ||
  flags.some((f) => f.at > 0 && (!f.value || f.value.startsWith('--')))
) {
  console.error(usage);
  process.exit(2);
}
const keep = onlyTasks?.split(',');
const records = inPlanOrder(readStore(source).records).filter((r) => !keep || keep.includes(r.task));
if (records.length === 0) {
  console.error(`no runs of ${keep?.join(', ') ?? 'any task'} in ${source}`);
  process.exit(2);
}
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
  `${stepHours.toFixed(2)} hours inside optimizer steps, summed over runs` +
  `${wall ? `; sweep wall time ${wall}` : ''}.`;
const start = `<!-- ${markers ?? 'v2-tables'}:start -->`;
const end = `<!-- ${markers ?? 'v2-tables'}:end -->`;
const doc = readFileSync(path, 'utf8');
if (!doc.includes(start) || !doc.includes(end))
  throw new Error(`${path} lacks the markers ${start} ... ${end}`);
writeFileSync(
  path,
  doc.replace(new RegExp(`${start}[\\s\\S]*${end}`), `${start}\n${summary}\n\n${markdown}\n${end}`),
);
console.log(summary);
