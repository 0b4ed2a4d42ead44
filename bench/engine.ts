/**
 * Engine benchmark (not part of npm test): training-step times of the MLPs, the benchmark's Fashion CNN and
 * char-LSTM and the char-transformer in lrfree's wasm on 1 and N threads, TF.js's stock wasm, and PyTorch CPU
 * on 1 and N threads, measured side by side in one run and printed as ratios. lrfree's wasm runs twice per
 * thread count: stepping with `tf.train.adam` (as stock wasm does) and with lrfree's own `adam` (the same
 * algorithm through lrfree's optimizer core and fused Adam kernel: what a user of lrfree trains with).
 * PyTorch steps with `torch.optim.Adam`. All read the loss back every step.
 *
 *   npx tsx bench/engine.ts                      # 5 rounds of ~0.4 s per cell, N = cores available
 *   npx tsx bench/engine.ts --rounds 3 --ms 200 --threads 2 --tasks mlp-784-128-128-10
 *   LRFREE_FMA=0 npx tsx bench/engine.ts         # lrfree's product without relaxed SIMD's fused multiply-add
 *   npx tsx bench/engine.ts --fma-compare        # adds lrfree.adam at 1 thread without it, side by side
 *
 * Each engine runs in its own long-lived process (bench/engine-peer.ts; bench/engine_torch.py on
 * /usr/bin/python3, or $LRFREE_TORCH_PYTHON), asked in turn for ~ms milliseconds of steps of one task, so
 * that all engines see the same machine load. Rounds interleave the engines (the order rotates per round);
 * a cell is the median step time of its round, a row shows the median over rounds, and each ratio is the
 * median (min-max) over rounds of the ratio within a round. Only one engine computes at a time.
 */
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { createInterface, type Interface } from 'node:readline';
import { defaultWasmThreads } from '../src/backend/wasmThreads.js';
import { ENGINE_TASKS, type EngineTaskName } from './engine-tasks.js';

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const ROUNDS = Number(opt('rounds') ?? 5);
const BUDGET_MS = Number(opt('ms') ?? 400);
const N = Number(opt('threads') ?? (await defaultWasmThreads()));
const TASKS = ENGINE_TASKS.filter((t) => !opt('tasks') || opt('tasks')!.split(',').includes(t.name));
const PYTHON = process.env.LRFREE_TORCH_PYTHON ?? '/usr/bin/python3';

type Reply = { ms: number[]; cpuMs: number } | { error: string };
/** Per-round values of one cell: median wall ms per step, CPU ms per step (all threads). */
interface Cell {
  wall: number[];
  cpu: number[];
}

/** One engine in its own process, answering one request at a time. */
class Peer {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: Interface;
  private readonly waiting: { resolve: (v: unknown) => void; reject: (e: Error) => void }[] = [];
  readonly started: Promise<unknown>;

  constructor(
    readonly label: string,
    /** Threads this engine computes on (for the load sampling). */
    readonly threads: number,
    command: string,
    argv: string[],
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.child = spawn(command, argv, { stdio: ['pipe', 'pipe', 'pipe'], env });
    this.child.stderr.on('data', (d) => process.stderr.write(`[${label}] ${d}`));
    this.lines = createInterface({ input: this.child.stdout });
    this.lines.on('line', (line) => this.waiting.shift()?.resolve(JSON.parse(line)));
    this.child.once('exit', (code) => {
      for (const w of this.waiting.splice(0)) w.reject(new Error(`${label} exited (${code})`));
    });
    this.started = this.next();
  }

  /** The next line this engine writes, parsed. */
  private next(): Promise<unknown> {
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  ask(task: EngineTaskName, ms: number): Promise<Reply> {
    const reply = this.next() as Promise<Reply>;
    this.child.stdin.write(`${JSON.stringify({ task, ms })}\n`);
    return reply;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.stdin.end();
    });
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Why PyTorch cannot be used, or undefined when `PYTHON -c 'import torch'` works. */
function torchMissing(): string | undefined {
  const r = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (r.status === 0) return undefined;
  return `PyTorch not found for ${PYTHON} (${(r.error?.message ?? r.stderr).trim().split('\n').at(-1)}). Install Debian's CPU build with \`apt-get install python3-torch\` (or point LRFREE_TORCH_PYTHON at a python3 that has torch); the other columns follow.`;
}

/** V8's wasm flags this script was started with (e.g. --experimental-wasm-relaxed-simd) reach the peers. */
const WASM_FLAGS = process.execArgv.filter((a) => a.startsWith('--experimental-wasm'));
const tsx = (engine: string, threads: number, optimizer: 'tf' | 'lrfree' = 'tf'): [string, string[]] => [
  process.execPath,
  [...WASM_FLAGS, '--import', 'tsx', 'bench/engine-peer.ts', engine, String(threads), optimizer],
];
const missing = torchMissing();
const T1 = 'PyTorch 1T';
const TN = `PyTorch ${N}T`;
const L1 = 'lrfree wasm 1T tf.train.adam';
const LN = `lrfree wasm ${N}T tf.train.adam`;
const A1 = 'lrfree wasm 1T lrfree.adam';
const AN = `lrfree wasm ${N}T lrfree.adam`;
const S1 = 'stock wasm 1T tf.train.adam';
const M1 = 'lrfree wasm 1T lrfree.adam, mul-add product';
const FMA_COMPARE = args.includes('--fma-compare');
const peers: Peer[] = [
  new Peer(L1, 1, ...tsx('lrfree', 1)),
  new Peer(A1, 1, ...tsx('lrfree', 1, 'lrfree')),
  new Peer(S1, 1, ...tsx('stock', 1)),
  ...(FMA_COMPARE
    ? [new Peer(M1, 1, ...tsx('lrfree', 1, 'lrfree'), { ...process.env, LRFREE_FMA: '0' })]
    : []),
  ...(N > 1 ? [new Peer(LN, N, ...tsx('lrfree', N)), new Peer(AN, N, ...tsx('lrfree', N, 'lrfree'))] : []),
  ...(missing
    ? []
    : [
        new Peer('PyTorch 1T', 1, PYTHON, ['bench/engine_torch.py', '1']),
        ...(N > 1 ? [new Peer(`PyTorch ${N}T`, N, PYTHON, ['bench/engine_torch.py', String(N)])] : []),
      ]),
];
const ready = await Promise.all(peers.map((p) => p.started));

/**
 * Runnable threads on the whole machine right now (/proc/loadavg's 4th field, "running/total"), or undefined
 * off Linux. Unlike the load average, which still counts processes that stopped a minute ago, this is the
 * state at the moment of sampling.
 */
function runnable(): number | undefined {
  try {
    return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[3].split('/')[0]);
  } catch {
    return undefined;
  }
}
/** Runnable threads other than this script and the engine being timed, sampled every 100 ms of the run. */
const others: number[] = [];
/** Per sample: did the runnable threads (the timed engine's included) outnumber the cores? */
const crowded: boolean[] = [];
let busy: Peer | undefined;
const sampler = setInterval(() => {
  const r = runnable();
  // The sampler itself is running while it reads; the engine being timed runs its own threads.
  if (r === undefined || !busy) return;
  others.push(Math.max(0, r - 1 - busy.threads));
  crowded.push(r - 1 > os.cpus().length);
}, 100);

const load0 = os.loadavg();
const cpu = os.cpus();
console.log(`# Engine benchmark, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`);
console.log(
  `\n${cpu.length} x ${cpu[0]?.model ?? 'cpu'}, node ${process.version}; ${ROUNDS} rounds of ~${BUDGET_MS} ms per cell, N = ${N}; Adam steps, loss read each step.`,
);
for (const [i, p] of peers.entries()) console.log(`- ${p.label}: ${JSON.stringify(ready[i])}`);
if (missing) console.log(`\n${missing}`);

// times[task][peer] = per-round values, or the error text
const times = new Map<string, Map<string, Cell | string>>();
for (let round = 0; round < ROUNDS; round++) {
  for (const task of TASKS) {
    const row = times.get(task.name) ?? new Map<string, Cell | string>();
    times.set(task.name, row);
    for (let k = 0; k < peers.length; k++) {
      const peer = peers[(k + round) % peers.length];
      const before = row.get(peer.label);
      if (typeof before === 'string') continue; // this engine cannot run it
      busy = peer;
      const reply = await peer.ask(task.name, BUDGET_MS);
      busy = undefined;
      if ('error' in reply) row.set(peer.label, reply.error);
      else {
        const c = before ?? { wall: [], cpu: [] };
        c.wall.push(median(reply.ms));
        c.cpu.push(reply.cpuMs);
        row.set(peer.label, c);
      }
    }
  }
  process.stderr.write(`round ${round + 1}/${ROUNDS} done\n`);
}
const load1 = os.loadavg();
clearInterval(sampler);

const fmt = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
type Measure = 'wall' | 'cpu';
/** "median ms" of a cell, or its error. */
const cell = (v: Cell | string | undefined, m: Measure) =>
  v === undefined ? 'n/a' : typeof v === 'string' ? v : `${fmt(median(v[m]))} ms`;
/** Ratio a/b per round: " (median x, min-max)". */
const ratio = (a: Cell | string | undefined, b: Cell | string | undefined, m: Measure) => {
  if (typeof a !== 'object' || typeof b !== 'object') return '';
  const r = a[m].map((x, i) => x / b[m][i]).sort((x, y) => x - y);
  return ` (${median(r).toFixed(2)}x, ${r[0].toFixed(2)}-${r.at(-1)!.toFixed(2)})`;
};

const heads = [T1, L1, A1, ...(FMA_COMPARE ? [M1] : []), S1, ...(N > 1 ? [TN, LN, AN] : [])];
function table(m: Measure): void {
  console.log(`| training step | ${heads.join(' | ')} |`);
  console.log(`|---|${heads.map(() => '---').join('|')}|`);
  for (const task of TASKS) {
    const get = (l: string) => times.get(task.name)!.get(l);
    const cells = [
      cell(get(T1), m),
      cell(get(L1), m) + ratio(get(L1), get(T1), m),
      cell(get(A1), m) + ratio(get(A1), get(T1), m),
      ...(FMA_COMPARE ? [cell(get(M1), m) + ratio(get(M1), get(T1), m)] : []),
      cell(get(S1), m) + ratio(get(S1), get(T1), m),
      ...(N > 1
        ? [
            cell(get(TN), m),
            cell(get(LN), m) + ratio(get(LN), get(TN), m),
            cell(get(AN), m) + ratio(get(AN), get(TN), m),
          ]
        : []),
    ];
    console.log(`| ${task.label} | ${cells.join(' | ')} |`);
  }
}
console.log(
  "\nOptimizers: PyTorch steps with torch.optim.Adam (eps 1e-8), the `tf.train.adam` columns with TF.js's Adam (eps 1e-7),",
);
console.log(
  "the `lrfree.adam` columns with lrfree's adam (eps 1e-7; its fused wasm kernel and finiteness guard); all lr 1e-3.",
);
console.log('\n## Wall-clock time per step\n');
console.log('Median over rounds; in brackets the ratio to PyTorch at the same thread count (stock wasm: to');
console.log('PyTorch 1T), median and range over rounds.\n');
table('wall');
console.log('\n## CPU time per step (all threads of the process)\n');
console.log(
  'Less sensitive to other load than wall-clock time for 1 thread; for N threads it is the total work',
);
console.log("(spinning threads count), not the step's latency.\n");
table('cpu');
if (N > 1) {
  console.log(`\nlrfree wasm ${N} threads / 1 thread, wall-clock time (median and range over rounds):`);
  for (const task of TASKS) {
    const r = ratio(times.get(task.name)!.get(LN), times.get(task.name)!.get(L1), 'wall');
    const a = ratio(times.get(task.name)!.get(AN), times.get(task.name)!.get(A1), 'wall');
    if (r || a) console.log(`- ${task.label}: tf.train.adam${r}, lrfree.adam${a}`);
  }
}
if (FMA_COMPARE) {
  console.log(
    '\nlrfree.adam at 1 thread, fused multiply-add product / mul-add product, wall-clock time (median and range over rounds):',
  );
  for (const task of TASKS) {
    const r = ratio(times.get(task.name)!.get(A1), times.get(task.name)!.get(M1), 'wall');
    if (r) console.log(`- ${task.label}:${r}`);
  }
}
console.log('\nlrfree.adam / tf.train.adam on lrfree wasm, wall-clock time (median and range over rounds):');
for (const task of TASKS) {
  const row = times.get(task.name)!;
  const one = ratio(row.get(A1), row.get(L1), 'wall');
  const many = N > 1 ? ratio(row.get(AN), row.get(LN), 'wall') : '';
  if (one || many) console.log(`- ${task.label}: 1T${one}${many ? `, ${N}T${many}` : ''}`);
}
// What BLAS the PyTorch peers run on: Debian's python3-torch takes whatever libblas.so.3 points at.
for (const [i, p] of peers.entries()) {
  const r = (ready[i] as { ready?: { blas?: string; path?: string } }).ready;
  if (!r?.blas) continue;
  console.log(`\n${p.label} runs on BLAS: ${r.blas}${r.path ? ` (${r.path})` : ''}.`);
  if (r.blas === 'reference')
    console.log(
      "That is netlib's reference BLAS (plain loops): PyTorch runs far below its usual speed (about 10x slower on these products), so every ratio above flatters lrfree. Install an optimised one (`apt-get install libopenblas0-openmp`, which the alternatives system then selects) and re-run.",
    );
}
const sorted = [...others].sort((a, b) => a - b);
const pct = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
// Oversubscribed: in at least a quarter of the samples, the timed engine's threads and the others
// outnumbered the cores.
const contended = crowded.filter(Boolean).length / Math.max(1, crowded.length);
console.log(
  sorted.length
    ? `\nOther runnable threads while an engine was timed (/proc/loadavg's running count, less this script and the engine's own threads; ${sorted.length} samples every 100 ms): median ${pct(0.5)}, 90th percentile ${pct(0.9)}, max ${sorted.at(-1)} on ${cpu.length} cores. ${
        contended >= 0.25
          ? `In ${(100 * contended).toFixed(0)}% of the samples they and the timed engine's threads outnumbered the cores: the machine was oversubscribed, every time is inflated, and threads that meet at a barrier in every kernel suffer most when one of them is descheduled. Treat these ratios as inconclusive.`
          : 'The machine was quiet enough for these ratios.'
      }`
    : '\n(No /proc/loadavg here: the load during the run is unknown.)',
);
console.log(
  `Load average (1 min, which still counts processes stopped in the last minute) ${load0[0].toFixed(1)} at the start, ${load1[0].toFixed(1)} at the end.`,
);
await Promise.all(peers.map((p) => p.close()));
