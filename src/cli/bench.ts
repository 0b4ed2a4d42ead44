/** `lrfree bench`, `lrfree bench merge`, `lrfree report`. */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { codeVersion } from '../bench/codeVersion.js';
import { EXTENSION_CAP, gridExtensions } from '../bench/extend.js';
import { importRegistrations, registrationUrls } from '../bench/register.js';
import { benchReport } from '../bench/report.js';
import type { RunRecord } from '../bench/runner.js';
import { runKey } from '../bench/runner.js';
import { RUN_ORDERS, type RunOrder } from '../bench/runOrder.js';
import { checkBenchSpec } from '../bench/specs.js';
import { encodeRecord, mergeStores, readStore } from '../bench/store.js';
import { defaultOptimizers, type PlannedRun, parseShard, planRuns, suiteDefaults } from '../bench/suites.js';
import { sweep } from '../bench/sweep.js';
import type { Suite } from '../bench/task.js';
import { taskByName } from '../bench/tasks/index.js';
import { LrfreeConfigError } from '../core/validate.js';
import { writeReport } from '../report/html.js';
import { progress } from './progress.js';

const list = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** Writes report.html, results.json and results.md for the records of a store; returns the html path. */
export async function writeBenchReport(records: RunRecord[], dir: string, source: string): Promise<string> {
  if (records.length === 0)
    throw new LrfreeConfigError(`${source} holds no completed runs; run 'lrfree bench' first.`);
  const { report, markdown, comparisons } = benchReport(records, { source });
  const { html } = await writeReport(dir, report, comparisons);
  writeFileSync(join(dir, 'results.md'), markdown);
  return html;
}

/** Options of {@link runBench}. */
export interface BenchOptions {
  suite: Suite;
  tasks?: string[];
  optimizers?: string[];
  seeds?: number[];
  out: string;
  workers?: number;
  shard?: string;
  /** Order of the pending runs (default 'shuffled'). */
  order?: string;
  /** Start no run expected to end more than this many minutes after the call (see SweepOptions.deadline). */
  timeLimit?: number;
  backend?: 'wasm' | 'cpu' | 'tensorflow';
  report?: string;
  quiet?: boolean;
  /** Modules that register the user's own optimizers (`registerOptimizer`), imported before the specs are checked. */
  register?: string[];
}

/** The exit code of `lrfree bench` when `--time-limit` left runs for the next call (EX_TEMPFAIL). */
export const BENCH_POSTPONED = 75;

/**
 * Runs a sweep with progress and (unsharded, and when no run was postponed by `--time-limit`) writes the
 * report. Returns the report path if written.
 */
export async function runBench(o: BenchOptions): Promise<string | undefined> {
  if (!['quick', 'standard', 'full'].includes(o.suite)) {
    throw new LrfreeConfigError(`--suite '${o.suite}': use quick, standard or full.`);
  }
  const defaults = suiteDefaults(o.suite);
  // The user's optimizers first, so their catalog names pass the checks below (workers import them too).
  const register = registrationUrls(o.register ?? []);
  await importRegistrations(register);
  // Every name is checked before the store is opened: a typo never creates or touches it.
  for (const spec of o.optimizers ?? []) checkBenchSpec(spec);
  for (const t of o.tasks ?? []) taskByName(t);
  for (const s of o.seeds ?? []) {
    if (!Number.isInteger(s)) throw new LrfreeConfigError(`--seeds: '${s}' is not an integer.`);
  }
  const shard = o.shard ? parseShard(o.shard) : undefined;
  const order = (o.order ?? 'shuffled') as RunOrder;
  if (!RUN_ORDERS.includes(order)) {
    throw new LrfreeConfigError(`--order '${o.order}' is not allowed; use one of ${RUN_ORDERS.join(', ')}.`);
  }
  if (o.timeLimit !== undefined && !(Number.isFinite(o.timeLimit) && o.timeLimit > 0)) {
    throw new LrfreeConfigError(
      `--time-limit ${o.timeLimit} is not allowed; --time-limit must be a positive number of minutes.`,
    );
  }
  const deadline = o.timeLimit === undefined ? undefined : Date.now() + o.timeLimit * 60_000;
  const seeds = o.seeds ?? defaults.seeds;
  const runs = planRuns({
    suite: o.suite,
    tasks: o.tasks ?? defaults.tasks,
    optimizers: o.optimizers ?? defaultOptimizers(o.suite),
    seeds,
    shard,
  });
  const t0 = performance.now();
  const keys = new Set(runs.map((r) => r.key));
  let phase: PlannedRun[] = runs;
  let failedAll = 0;
  let postponedAll = 0;
  // Phase 0 is the plan; each further phase extends the grids whose best point is an edge (extend.ts),
  // computed from the store, so a resumed sweep redoes none of it. A shard sees only part of the seeds:
  // extension waits for an unsharded run over the merged store.
  for (let round = 0; round <= 2 * EXTENSION_CAP && phase.length > 0; round++) {
    const label = round === 0 ? `bench ${o.suite}` : `bench ${o.suite} (grid extension ${round})`;
    const bar = progress(label, phase.length, o.quiet);
    const { failed, postponed } = await sweep({
      runs: phase,
      store: o.out,
      workers: o.workers,
      backend: o.backend,
      order,
      deadline,
      register,
      onResume: (done, total, fromOtherCode) => {
        if (done > 0 && !o.quiet)
          process.stderr.write(`resuming: ${done}/${total} runs already in ${o.out}\n`);
        if (fromOtherCode > 0) {
          process.stderr.write(
            `note: ${fromOtherCode} of them were made by other code than this (${codeVersion()}); they are reused, ` +
              'not rerun. Start a new store (--out) to measure this code alone.\n',
          );
        }
        bar.update(done);
      },
      onRun: (done, _total, r) => bar.update(done, { info: `${r.task} ${r.optimizer} s${r.seed}` }),
      onError: (key, message) => process.stderr.write(`run ${key} failed: ${message}\n`),
    });
    failedAll += failed.length;
    bar.stop(
      `${phase.length - failed.length - postponed.length}/${phase.length} runs in ${((performance.now() - t0) / 1000).toFixed(0)}s`,
    );
    if (postponed.length > 0) {
      postponedAll = postponed.length;
      break; // the grid extensions need the whole phase
    }
    if (shard) break;
    const stored = readStore(o.out).records.filter((r) => r.suite === o.suite);
    const extensions = gridExtensions(
      stored.filter((r) => keys.has(r.key)),
      seeds,
    );
    phase = extensions.flatMap((e) =>
      seeds.map((seed) => ({
        key: runKey(e.task, e.spec, seed, o.suite),
        task: e.task,
        optimizer: e.spec,
        seed,
        suite: o.suite,
      })),
    );
    for (const r of phase) keys.add(r.key);
    if (phase.length > 0 && !o.quiet)
      process.stderr.write(
        `edge-best grids extended: ${extensions.map((e) => `${e.task} ${e.spec} (${e.direction})`).join(', ')}\n`,
      );
  }
  if (failedAll > 0 && !o.quiet)
    process.stderr.write(`${failedAll} runs failed with errors (retried on resume)\n`);
  if (postponedAll > 0) {
    process.stderr.write(
      `${postponedAll} runs postponed: expected to end after the time limit; run the same command again to do them.\n`,
    );
    process.exitCode = BENCH_POSTPONED;
    return undefined;
  }
  if (o.shard && !o.report) return undefined;
  const records = readStore(o.out).records.filter((r) => keys.has(r.key));
  return writeBenchReport(records, o.report ?? dirname(o.out), o.out);
}

/** Registers the bench commands on the CLI. */
export function registerBenchCommands(program: Command): void {
  const bench = program
    .command('bench')
    // `bench merge ... -o file` is merge's -o, not bench's (with the program's positional options).
    .enablePositionalOptions()
    .description(
      'Run a benchmark sweep: tasks x optimizers x seeds, resumable, shardable; then write the report.',
    )
    .option(
      '--suite <name>',
      'quick (minutes), standard (many CPU-hours; resumable, shardable), full',
      'quick',
    )
    .option('--tasks <names>', "comma-separated task names (default: the suite's)", list)
    .option(
      '--optimizers <specs>',
      "comma-separated specs: catalog names, sgd/momentum/nesterov/adam/adamw@eta[+cosine], fixed rows (default: the suite's grids, fixed rows and every lr-free optimizer)",
      list,
    )
    .option('--seeds <list>', 'comma-separated seeds', (v) => list(v).map(Number))
    .option(
      '-o, --out <file>',
      'results store (JSON Lines, appended, resumable)',
      'lrfree-out/bench/results.jsonl',
    )
    .option('--workers <n>', 'worker threads (0 = in process)', (v) => Number.parseInt(v, 10))
    .option('--shard <i/n>', 'run only shard i of n (0-based), e.g. $SLURM_ARRAY_TASK_ID/$N')
    .option(
      '--time-limit <minutes>',
      'start no run expected (from the store) to end later than this: for machines whose sessions end; run again to do the rest',
      Number,
    )
    .option(
      '--order <order>',
      'run order: shuffled (default; the ETA is then fair) or longest-first (expected from the store: long runs start early, for sweeps a session may cut short; the ETA reads high at first)',
    )
    .option(
      '--register <modules>',
      "comma-separated modules that register your own optimizers with lrfree's registerOptimizer(), so --optimizers can name them",
      list,
    )
    .option('--report <dir>', 'report folder (default: beside the store)')
    .option('--backend <name>', 'force a backend: wasm, cpu or tensorflow')
    .option('-q, --quiet', 'no progress output')
    .action(async (opts) => {
      process.once('SIGINT', () => {
        process.stderr.write(
          `\ninterrupted: completed runs are in ${opts.out}; run the same command again to resume.\n`,
        );
        process.exit(130);
      });
      const html = await runBench({ ...opts, suite: opts.suite as Suite });
      if (html) console.log(`report: ${html}`);
    });
  bench
    .command('merge')
    .description('Merge result stores (e.g. one per shard) into one, each run once.')
    .argument('<stores...>', 'JSON Lines stores')
    .requiredOption('-o, --out <file>', 'merged store')
    .action((stores: string[], opts: { out: string }) => {
      const { records, duplicates } = mergeStores(stores);
      writeFileSync(opts.out, records.map((r) => `${encodeRecord(r)}\n`).join(''));
      console.log(
        `${records.length} runs -> ${opts.out}${duplicates.length ? ` (${duplicates.length} duplicates dropped)` : ''}`,
      );
    });
  program
    .command('report')
    .description('Write the HTML report (and results.md) of a results store.')
    .argument('<store>', 'JSON Lines results store')
    .option('-o, --out <dir>', 'report folder', 'lrfree-out/report')
    .option(
      '--tasks <names>',
      'comma-separated task names to report (default: every task in the store)',
      list,
    )
    .action(async (store: string, opts: { out: string; tasks?: string[] }) => {
      const all = readStore(store).records;
      const records = opts.tasks ? all.filter((r) => opts.tasks!.includes(r.task)) : all;
      const missing = (opts.tasks ?? []).filter((t) => !all.some((r) => r.task === t));
      if (missing.length > 0) {
        const have = [...new Set(all.map((r) => r.task))].join(', ');
        throw new Error(
          `report: no runs of ${missing.join(', ')} in ${store} (its tasks: ${have || 'none'})`,
        );
      }
      console.log(`report: ${await writeBenchReport(records, opts.out, store)}`);
    });
}
