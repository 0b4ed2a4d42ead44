/**
 * Quick side-by-side of self-tuning methods on the quick-suite tasks (not part of npm test): every
 * (task, optimizer, seed) through the benchmark runner (`runOne`, evaluation at each method's evaluation
 * point), one JSON line per run appended to the output file, then a summary: per task and optimizer the
 * median final test loss over seeds and the number of diverged runs, and per task the paired difference
 * of log final test loss against a reference optimizer with a percentile-bootstrap 95% interval.
 * Not the benchmark v2 (being built separately): a first look with few seeds.
 *
 *   npx tsx bench/rivals-quick.ts --out /tmp/rivals.jsonl --seeds 1,2,3 --opt auto,scheduleFreePlus,adam
 *   npx tsx bench/rivals-quick.ts --summary /tmp/rivals.jsonl --ref scheduleFreeAdamW
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import '@tensorflow/tfjs-backend-wasm';
import { ready } from '../src/backend/ready.js';
import { type RunRecord, runOne } from '../src/bench/runner.js';
import { suiteDefaults } from '../src/bench/suites.js';
import { taskByName } from '../src/bench/tasks/index.js';
import { mulberry32 } from '../src/core/rng.js';
import '../src/index.js';
import { auto } from '../src/optimizers/auto.js';
import { registerOptimizer } from '../src/optimizers/catalog.js';

// Ablation variants of the auto() prototype (docs/auto.md).
for (const [name, opts] of [
  ['auto:noCheck', { probeEvery: 1e9 }],
  ['auto:checkEveryStep', { probeEvery: 1 }],
  ['auto:noClip', { clip: false }],
] as const) {
  registerOptimizer({
    name,
    description: `auto() ablation ${name}`,
    family: 'lr-free',
    make: ({ seed, stepsPerEpoch }) => auto({ seed, stepsPerEpoch, ...opts }),
  });
}

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
  const tasks = (arg('tasks') ?? suiteDefaults('quick').tasks.join(',')).split(',');
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
        const r: RunRecord = await runOne(task, o, seed, 'quick');
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

function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  const n = s.length;
  return n === 0 ? Number.NaN : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/** Percentile bootstrap 95% interval of the mean of `d` (resampling seeds). */
function bootstrap(d: number[], draws = 4000): [number, number] {
  const r = mulberry32(7);
  const means: number[] = [];
  for (let b = 0; b < draws; b++) {
    let s = 0;
    for (let i = 0; i < d.length; i++) s += d[Math.floor(r() * d.length)];
    means.push(s / d.length);
  }
  means.sort((a, b) => a - b);
  return [means[Math.floor(0.025 * draws)], means[Math.floor(0.975 * draws)]];
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
