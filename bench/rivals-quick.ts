/**
 * Quick side-by-side of self-tuning methods on the quick-suite tasks (not part of npm test): every
 * (task, optimizer, seed) through the benchmark runner (`runOne`, evaluation at each method's evaluation
 * point), one JSON line per run appended to the output file, then a summary: per task and optimizer the
 * median final test loss over seeds and the number of diverged runs, and per task the paired difference
 * of log final test loss against a reference optimizer with a percentile-bootstrap 95% interval.
 * Not the benchmark v2 (being built separately): a first look with few seeds.
 *
 *   npx tsx bench/rivals-quick.ts --out /tmp/rivals.jsonl --seeds 1,2,3 --opt auto,scheduleFreePlus,adam
 *   npx tsx bench/rivals-quick.ts --suite standard --tasks mnist-mlp --seeds 1 --opt auto   (one longer look)
 *   npx tsx bench/rivals-quick.ts --summary /tmp/rivals.jsonl --ref scheduleFreeAdamW
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import '@tensorflow/tfjs-backend-wasm';
import { ready } from '../src/backend/ready.js';
import { type RunRecord, runOne } from '../src/bench/runner.js';
import { suiteDefaults } from '../src/bench/suites.js';
import type { Suite } from '../src/bench/task.js';
import { taskByName } from '../src/bench/tasks/index.js';
import '../src/index.js';
import { bootstrap, median } from './auto-stats.js';
import './auto-variants.js';

function arg(name: string, fallback?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}

interface Line {
  task: string;
  optimizer: string;
  seed: number;
  diverged: boolean;
  testLoss: number;
  testMetric?: number;
  toTargetSteps: number;
  steps: number;
  wallMs: number;
  lastEta: number | number[];
}

async function run(): Promise<void> {
  const out = arg('out', '/tmp/rivals-quick.jsonl')!;
  const seeds = (arg('seeds', '1,2,3') as string).split(',').map(Number);
  const opts = (arg('opt', 'scheduleFreePlus,prodigyScheduleFree,scheduleFreeAdamW,adam') as string).split(
    ',',
  );
  const suite = (arg('suite') ?? 'quick') as Suite;
  const tasks = (arg('tasks') ?? suiteDefaults(suite).tasks.join(',')).split(',');
  await ready({ backend: (arg('backend', 'cpu') as 'cpu' | 'wasm') ?? 'cpu', quiet: true });
  const done = new Set(
    existsSync(out)
      ? readFileSync(out, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => {
            const r = JSON.parse(l) as Line;
            return `${r.task}|${r.optimizer}|${r.seed}`;
          })
      : [],
  );
  for (const t of tasks) {
    const task = taskByName(t);
    for (const seed of seeds) {
      for (const o of opts) {
        if (done.has(`${t}|${o}|${seed}`)) continue;
        const r: RunRecord = await runOne(task, o, seed, suite);
        const line: Line = {
          task: t,
          optimizer: o,
          seed,
          diverged: r.diverged,
          testLoss: r.final.test.loss,
          testMetric: r.final.test.metric,
          toTargetSteps: r.toTarget.steps,
          steps: r.steps,
          wallMs: r.wallMs,
          lastEta: r.trace.at(-1)?.eta ?? 0,
        };
        appendFileSync(out, `${JSON.stringify(line)}\n`);
        console.log(t, o, seed, r.diverged ? 'DIVERGED' : r.final.test.loss.toPrecision(4));
      }
    }
  }
}

function summary(file: string, ref: string): void {
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Line);
  const tasks = [...new Set(lines.map((l) => l.task))];
  const opts = [...new Set(lines.map((l) => l.optimizer))];
  console.log(
    `| task | optimizer | seeds | diverged | median test loss | median test metric | log(loss/${ref}) mean [95% CI] |`,
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const t of tasks) {
    for (const o of opts) {
      const rs = lines.filter((l) => l.task === t && l.optimizer === o);
      if (rs.length === 0) continue;
      const div = rs.filter((r) => r.diverged || !Number.isFinite(r.testLoss)).length;
      const med = median(rs.map((r) => (r.diverged ? Number.POSITIVE_INFINITY : r.testLoss)));
      const metrics = rs.map((r) => r.testMetric).filter((m): m is number => m !== undefined);
      const medM = metrics.length ? median(metrics).toFixed(4) : '';
      let paired = '';
      if (o !== ref) {
        const d: number[] = [];
        for (const r of rs) {
          const b = lines.find((l) => l.task === t && l.optimizer === ref && l.seed === r.seed);
          if (b && !r.diverged && !b.diverged) d.push(Math.log(r.testLoss / b.testLoss));
        }
        if (d.length === rs.length && d.length >= 2) {
          const [lo, hi] = bootstrap(d);
          const m = d.reduce((a, b) => a + b, 0) / d.length;
          paired = `${m.toFixed(3)} [${lo.toFixed(3)}, ${hi.toFixed(3)}]${lo > 0 ? ' worse' : hi < 0 ? ' better' : ' inconclusive'}`;
        } else if (div > 0) paired = 'diverged';
      }
      console.log(
        `| ${t} | ${o} | ${rs.length} | ${div} | ${Number.isFinite(med) ? med.toPrecision(4) : 'inf'} | ${medM} | ${paired} |`,
      );
    }
  }
}

const sumFile = arg('summary');
if (sumFile) summary(sumFile, arg('ref', 'scheduleFreeAdamW')!);
else await run();
