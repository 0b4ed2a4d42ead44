/**
 * A small hand-written mutation tester for the step rules (src/steps/) and directions (src/directions/).
 * One mutant at a time: flip a comparison (< <=, > >=, === !==), swap + and -, * and /, or alter a numeric
 * constant (0 -> 1, n -> 2n) in one place outside strings and comments; run that file's covering tests
 * (FILE_TESTS) one file at a time with a timeout, stopping at the first failure (the mutant is killed);
 * restore the file in `finally` (and on SIGINT/SIGTERM/SIGHUP, after killing the test run).
 * Results are cached in scripts/mutation-results.json keyed by the file's content hash, so a run can be
 * interrupted and resumed, and filtered to some files.
 *
 *   npx tsx scripts/mutate.ts                            # every file, every mutant (slow: hours)
 *   npx tsx scripts/mutate.ts --file perLayer --max 40   # files whose path contains 'perLayer', <= 40 mutants
 *   npx tsx scripts/mutate.ts --list --file armijo       # list the mutants, run nothing
 *   npx tsx scripts/mutate.ts --report                   # the table (markdown) from the cached results
 *   npx tsx scripts/mutate.ts --survivors --file polyak  # cached surviving mutants of the files
 *   npx tsx scripts/mutate.ts --retry-survivors --file armijo  # re-run only the cached survivors (after new tests)
 *
 * Options: --root <dir> (a copy of the repository to mutate, default: this one), --timeout <s> (per
 * test run, default 300), --max <n> (mutants per file, evenly spread, default all).
 * Never leaves a mutated file behind: the original is written back in `finally` and on SIGINT/SIGTERM.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Each mutated file and the tests that cover it (direct unit tests first, oracles after). */
export const FILE_TESTS: Record<string, string[]> = {
  'src/steps/armijo.ts': [
    'test/lineSearch/armijo.test.ts',
    'test/lineSearch/perLayer.test.ts',
    'test/lineSearch/fullBatch.test.ts',
    'test/lineSearch/adamOracle.test.ts',
  ],
  'src/steps/constant.ts': ['test/steps/rules.test.ts', 'test/baselines.test.ts', 'test/schedules.test.ts'],
  'src/steps/goldstein.ts': ['test/steps/rules.test.ts', 'test/lineSearch/armijo.test.ts'],
  'src/steps/keepStepping.ts': ['test/steps/rules.test.ts', 'test/moreDescent/keepStepping.test.ts'],
  'src/steps/lineSearchCommon.ts': [
    'test/lineSearch/armijo.test.ts',
    'test/lineSearch/perLayer.test.ts',
    'test/lineSearch/polyak.test.ts',
    'test/lineSearch/fullBatch.test.ts',
    'test/lineSearch/adamOracle.test.ts',
  ],
  'src/steps/parabolic.ts': ['test/steps/rules.test.ts', 'test/moreDescent/parabolic.test.ts'],
  'src/steps/perLayer.ts': [
    'test/lineSearch/perLayer.test.ts',
    'test/lineSearch/plaslsPaper.test.ts',
    'test/lineSearch/adamOracle.test.ts',
  ],
  'src/steps/polyak.ts': ['test/lineSearch/polyak.test.ts'],
  'src/steps/scheduled.ts': ['test/steps/rules.test.ts', 'test/baselines.test.ts', 'test/schedules.test.ts'],
  'src/steps/smoothedArmijo.ts': [
    'test/lineSearch/smoothedArmijo.test.ts',
    'test/lineSearch/adamOracle.test.ts',
  ],
  'src/steps/vault.ts': ['test/steps/rules.test.ts', 'test/moreDescent/vault.test.ts'],
  'src/steps/walk.ts': ['test/steps/rules.test.ts', 'test/moreDescent/walk.test.ts'],
  'src/directions/adam.ts': [
    'test/directions/basics.test.ts',
    'test/baselines.test.ts',
    'test/lineSearch/adamOracle.test.ts',
    'test/backend/fusedAdam.test.ts',
  ],
  'src/directions/adamMoments.ts': [
    'test/backend/fusedAdam.test.ts',
    'test/baselines.test.ts',
    'test/lineSearch/adamOracle.test.ts',
  ],
  'src/directions/momentum.ts': [
    'test/directions/basics.test.ts',
    'test/baselines.test.ts',
    'test/moreDescent/parabolic.test.ts',
  ],
  'src/directions/newton.ts': [
    'test/directions/newtonHessian.test.ts',
    'test/directions/newtonArmijo.test.ts',
    'test/moreDescent/newtonLm.test.ts',
    'test/moreDescent/newton.test.ts',
  ],
  'src/directions/newtonSolvers.ts': [
    'test/directions/basics.test.ts',
    'test/moreDescent/newton.test.ts',
    'test/moreDescent/newtonLm.test.ts',
  ],
  'src/directions/sgd.ts': [
    'test/directions/basics.test.ts',
    'test/baselines.test.ts',
    'test/lineSearch/armijo.test.ts',
  ],
};

export interface Mutant {
  line: number;
  col: number;
  op: string;
  from: string;
  to: string;
}

interface Result extends Mutant {
  killed: boolean;
  /** `test` (a test failed), `timeout`, or `survived`. */
  how: 'test' | 'timeout' | 'survived';
  seconds: number;
  /**
   * Set by hand (with the reason) for a surviving mutant that no test can kill because it behaves like
   * the original (docs/mutation.md lists each). The report counts it apart.
   */
  equivalent?: string;
}

interface Cache {
  [file: string]: { hash: string; tests: string[]; results: Record<string, Result> };
}

const key = (m: Mutant) => `${m.line}:${m.col}:${m.op}:${m.to}`;

/**
 * Positions of code (not strings, template literals, comments) in each line, for a whole file. Block
 * comments and template literals may span lines.
 */
function codeMask(lines: string[]): boolean[][] {
  let inBlock = false;
  let inTemplate = false;
  return lines.map((line) => {
    const mask = new Array<boolean>(line.length).fill(false);
    let quote: string | null = inTemplate ? '`' : null;
    for (let i = 0; i < line.length; i++) {
      const c = line[i];
      if (inBlock) {
        if (c === '*' && line[i + 1] === '/') {
          inBlock = false;
          i += 1;
        }
        continue;
      }
      if (quote) {
        if (c === '\\') i += 1;
        else if (c === quote) quote = null;
        continue;
      }
      if (c === '/' && line[i + 1] === '/') break;
      if (c === '/' && line[i + 1] === '*') {
        inBlock = true;
        i += 1;
        continue;
      }
      if (c === "'" || c === '"' || c === '`') {
        quote = c;
        continue;
      }
      mask[i] = true;
    }
    inTemplate = quote === '`';
    return mask;
  });
}

const SWAPS: [RegExp, string, (s: string) => string][] = [
  [/ <= /g, 'cmp', () => ' < '],
  [/ < /g, 'cmp', () => ' <= '],
  [/ >= /g, 'cmp', () => ' > '],
  [/ > /g, 'cmp', () => ' >= '],
  [/ === /g, 'eq', () => ' !== '],
  [/ !== /g, 'eq', () => ' === '],
  [/ \+ /g, 'arith', () => ' - '],
  [/ - /g, 'arith', () => ' + '],
  [/ \* /g, 'arith', () => ' / '],
  [/ \/ /g, 'arith', () => ' * '],
  [/ && /g, 'logic', () => ' || '],
  [/ \|\| /g, 'logic', () => ' && '],
];

/** Every mutant of a source text, in file order. */
export function mutants(src: string): Mutant[] {
  const lines = src.split('\n');
  const mask = codeMask(lines);
  const out: Mutant[] = [];
  lines.forEach((line, li) => {
    const t = line.trim();
    if (t.startsWith('import ') || t.startsWith('export *') || t.startsWith('export type')) return;
    if (/^(export )?(interface|type) /.test(t)) return;
    const code = (i: number, len: number) => {
      for (let j = i; j < i + len; j++) if (!mask[li][j]) return false;
      return true;
    };
    for (const [re, op, to] of SWAPS) {
      for (const m of line.matchAll(re)) {
        const i = m.index ?? 0;
        if (!code(i, m[0].length)) continue;
        // `a => b`-style generics and arrow functions never match (spaces on both sides are required).
        out.push({ line: li + 1, col: i + 1, op, from: m[0], to: to(m[0]) });
      }
    }
    // Numeric literals (not part of identifiers, not array indices like [0] on the left of '=').
    for (const m of line.matchAll(/(?<![\w.$])(\d+(?:\.\d+)?(?:e[-+]?\d+)?)(?![\w.])/g)) {
      const i = m.index ?? 0;
      if (!code(i, m[0].length)) continue;
      const v = Number(m[1]);
      const to = v === 0 ? '1' : String(v * 2);
      out.push({ line: li + 1, col: i + 1, op: 'const', from: m[1], to });
    }
  });
  return out;
}

/** The source with one mutant applied. */
export function apply(src: string, m: Mutant): string {
  const lines = src.split('\n');
  const l = lines[m.line - 1];
  const i = m.col - 1;
  if (l.slice(i, i + m.from.length) !== m.from) throw new Error(`mutant does not match at ${key(m)}`);
  lines[m.line - 1] = l.slice(0, i) + m.to + l.slice(i + m.from.length);
  return lines.join('\n');
}

/** `n` mutants evenly spread over the list (all when n >= length). */
function spread<T>(xs: T[], n: number): T[] {
  if (n >= xs.length) return xs;
  return Array.from({ length: n }, (_, j) => xs[Math.floor((j * xs.length) / n)]);
}

function args(argv: string[]) {
  const o = {
    files: [] as string[],
    max: Number.POSITIVE_INFINITY,
    timeout: 300,
    root: '',
    list: false,
    report: false,
    survivors: false,
    retrySurvivors: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--file') o.files.push(argv[++i]);
    else if (a === '--max') o.max = Number(argv[++i]);
    else if (a === '--timeout') o.timeout = Number(argv[++i]);
    else if (a === '--root') o.root = argv[++i];
    else if (a === '--list') o.list = true;
    else if (a === '--report') o.report = true;
    else if (a === '--survivors') o.survivors = true;
    else if (a === '--retry-survivors') o.retrySurvivors = true;
    else throw new Error(`unknown argument ${a}`);
  }
  return o;
}

const HERE = fileURLToPath(new URL('.', import.meta.url));
const CACHE = join(HERE, 'mutation-results.json');

function loadCache(): Cache {
  return existsSync(CACHE) ? (JSON.parse(readFileSync(CACHE, 'utf8')) as Cache) : {};
}

/** Markdown table of the cached results for the current file contents. */
export function report(cache: Cache, root: string): string {
  const rows = [
    '| file | mutants | killed | equivalent | % killed of the others | tests |',
    '|---|---:|---:|---:|---:|---|',
  ];
  for (const file of Object.keys(FILE_TESTS)) {
    const c = cache[file];
    if (!c) continue;
    const hash = createHash('sha1')
      .update(readFileSync(join(root, file)))
      .digest('hex');
    const rs = Object.values(c.results);
    const killed = rs.filter((r) => r.killed).length;
    const equivalent = rs.filter((r) => !r.killed && r.equivalent).length;
    const stale = c.hash === hash ? '' : ' (stale: file changed since)';
    const others = rs.length - equivalent;
    const pct = others ? ((100 * killed) / others).toFixed(0) : '-';
    rows.push(
      `| ${file}${stale} | ${rs.length} | ${killed} | ${equivalent} | ${pct} | ${c.tests.map((t) => t.replace('test/', '')).join(', ')} |`,
    );
  }
  return rows.join('\n');
}

/** Runs one vitest file; resolves to `fail`, `pass` or `timeout`. */
function runTest(root: string, test: string, timeoutS: number, onChild: (c?: ChildProcess) => void) {
  return new Promise<'fail' | 'pass' | 'timeout'>((done) => {
    const child = spawn('npx', ['vitest', 'run', '--bail=1', test], {
      cwd: root,
      stdio: 'ignore',
      detached: true,
    });
    onChild(child);
    const timer = setTimeout(() => {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
      onChild(undefined);
      done('timeout');
    }, timeoutS * 1000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      onChild(undefined);
      done(code === 0 ? 'pass' : 'fail');
    });
  });
}

async function main(): Promise<void> {
  const o = args(process.argv.slice(2));
  const repo = resolve(HERE, '..');
  const root = o.root ? resolve(o.root) : repo;
  const cache = loadCache();
  if (o.report) {
    console.log(report(cache, root));
    return;
  }
  const files = Object.keys(FILE_TESTS).filter(
    (f) => o.files.length === 0 || o.files.some((s) => f.includes(s)),
  );
  if (o.survivors) {
    for (const f of files) {
      for (const r of Object.values(cache[f]?.results ?? {}).filter((x) => !x.killed)) {
        const eq = r.equivalent ? ` (equivalent: ${r.equivalent})` : '';
        console.log(`${f}:${r.line}:${r.col} ${r.op} '${r.from.trim()}' -> '${r.to.trim()}'${eq}`);
      }
    }
    return;
  }
  let current: { path: string; original: string } | undefined;
  let child: ChildProcess | undefined;
  const restore = () => {
    if (current) writeFileSync(current.path, current.original);
    current = undefined;
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      if (child?.pid) process.kill(-child.pid, 'SIGKILL');
      restore();
      process.exit(130);
    });
  }
  for (const file of files) {
    const path = join(root, file);
    const original = readFileSync(path, 'utf8');
    const hash = createHash('sha1').update(original).digest('hex');
    const tests = FILE_TESTS[file];
    if (!cache[file] || cache[file].hash !== hash) cache[file] = { hash, tests, results: {} };
    // The tests of the latest run (killed mutants stay killed when tests are added in front).
    if (!o.list) cache[file].tests = tests;
    const all = mutants(original);
    const chosen = spread(all, o.max);
    if (o.list) {
      for (const m of chosen)
        console.log(`${file}:${m.line}:${m.col} ${m.op} '${m.from.trim()}' -> '${m.to.trim()}'`);
      continue;
    }
    console.log(`${file}: ${all.length} mutants, running ${chosen.length}`);
    for (const m of chosen) {
      const done = cache[file].results[key(m)];
      if (o.retrySurvivors ? !done || done.killed || done.equivalent : done) continue;
      const t0 = Date.now();
      let how: Result['how'] = 'survived';
      try {
        current = { path, original };
        writeFileSync(path, apply(original, m));
        // One test file at a time, stopping at the first that fails (the direct unit tests come first).
        for (const test of tests) {
          const r = await runTest(root, test, o.timeout, (c) => {
            child = c;
          });
          if (r !== 'pass') {
            how = r === 'timeout' ? 'timeout' : 'test';
            break;
          }
        }
      } finally {
        restore();
      }
      const res: Result = { ...m, killed: how !== 'survived', how, seconds: (Date.now() - t0) / 1000 };
      cache[file].results[key(m)] = res;
      writeFileSync(CACHE, `${JSON.stringify(cache, null, 2)}\n`); // then `npx biome format --write` it
      console.log(
        `  ${m.line}:${m.col} ${m.op} '${m.from.trim()}' -> '${m.to.trim()}': ${how} (${res.seconds.toFixed(0)} s)`,
      );
    }
    if (readFileSync(path, 'utf8') !== original) throw new Error(`${file} was not restored`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
