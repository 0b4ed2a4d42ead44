/**
 * Runs the standard suite in phases, so finished tasks can be reported while the rest still runs and a
 * session that stops leaves whole tasks behind, not 20% of every task:
 *
 *   1. per task (cheapest first): the tuned scheduled grids, the fixed rows, Alrao wrapped, Adam and every
 *      learning-rate-free optimizer except auto (grid extensions run inside each call);
 *   2. auto on every task (last among the primary rows, so it is judged on the newest code);
 *   3. the secondary constant-rate grids, per task.
 *
 * Resumable: run the same command again and stored runs are skipped. Each phase is one `lrfree bench` call
 * on the same store, so `--shard i/n` can be passed through for several machines.
 *
 *   npx tsx scripts/standard-suite.ts runs/std-v2.jsonl [--workers 1] [--shard 0/2] [--phase 1,2,3]
 *     [--time-limit <minutes>]
 *
 * Runs go longest first (`--order longest-first`). With `--time-limit`, no run is started that is expected
 * to end after it (a machine session that ends kills the runs in flight); run the script again to go on.
 */
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { BENCH_GRIDS, gridSpec } from '../src/bench/specs.js';
import { defaultOptimizers, suiteDefaults } from '../src/bench/suites.js';
import { taskByName } from '../src/bench/tasks/index.js';
import { BENCH_POSTPONED } from '../src/cli/bench.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    workers: { type: 'string', default: '1' },
    shard: { type: 'string' },
    phase: { type: 'string', default: '1,2,3' },
    tasks: { type: 'string' },
    'time-limit': { type: 'string' },
  },
});
const store = positionals[0] ?? 'runs/std-v2.jsonl';
const phases = new Set(values.phase.split(',').map(Number));

const constant = new Set(
  BENCH_GRIDS.filter((g) => !g.scheduled).flatMap((g) => g.etas.map((eta) => gridSpec(g, eta))),
);
const all = defaultOptimizers('standard');
const primary = all.filter((o) => !constant.has(o) && o !== 'auto');
const secondary = all.filter((o) => constant.has(o));
// Cheapest first: a task's cost is roughly its standard budget times its per-step cost, relative to the
// MNIST MLP's step (wasm, 1 thread, docs/backends.md's engine table: CNN ~3x, LSTM ~15x, transformer ~25x;
// the toy problems are far cheaper than one MLP step).
const weight: Record<string, number> = {
  rosenbrock: 0.05,
  quadratic: 0.05,
  'fashion-cnn': 3,
  'char-lstm': 15,
  'char-transformer': 25,
};
const tasks = (values.tasks?.split(',') ?? suiteDefaults('standard').tasks).sort(
  (a, b) =>
    taskByName(a).budget.standard * (weight[a] ?? 1) - taskByName(b).budget.standard * (weight[b] ?? 1),
);

const deadline = values['time-limit'] ? Date.now() + Number(values['time-limit']) * 60_000 : undefined;
if (deadline !== undefined && !(deadline > Date.now())) {
  console.error(`--time-limit ${values['time-limit']}: give a positive number of minutes.`);
  process.exit(2);
}

function bench(taskList: string[], optimizers: string[]): void {
  // Longest first: a session that ends kills the runs in flight; long runs started early finish.
  const args = ['--import', 'tsx', 'src/cli/main.ts', 'bench', '--suite', 'standard', '-o', store];
  args.push('--order', 'longest-first');
  args.push('--tasks', taskList.join(','), '--optimizers', optimizers.join(','), '--workers', values.workers);
  if (values.shard) args.push('--shard', values.shard);
  if (deadline !== undefined)
    args.push('--time-limit', String(Math.max(0.01, (deadline - Date.now()) / 60_000)));
  console.log(`\n== ${new Date().toISOString()} ${taskList.join(',')}: ${optimizers.length} optimizers`);
  try {
    execFileSync(process.execPath, args, { stdio: 'inherit' });
  } catch (e) {
    if ((e as { status?: number }).status !== BENCH_POSTPONED) throw e;
    console.log(
      `\n== ${new Date().toISOString()} time limit: runs postponed; run this script again to go on`,
    );
    process.exit(0);
  }
}

if (phases.has(1)) for (const t of tasks) bench([t], primary);
if (phases.has(2)) bench(tasks, ['auto']);
if (phases.has(3)) for (const t of tasks) bench([t], secondary);
console.log(`\n== ${new Date().toISOString()} done`);
