import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runOne } from '../../src/bench/runner.js';
import { mergeStores, readStore } from '../../src/bench/store.js';
import { parseShard, planRuns } from '../../src/bench/suites.js';
import { sweep } from '../../src/bench/sweep.js';
import { taskByName } from '../../src/bench/tasks/index.js';
import '../../src/index.js';
import { useBackend } from '../helpers/tf.js';

const dir = mkdtempSync(join(tmpdir(), 'lrfree-sweep-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The parts of a record that must be reproducible (wall times are not). */
const deterministic = (r: ReturnType<typeof readStore>['records'][number]) => ({
  key: r.key,
  steps: r.steps,
  cost: r.cost,
  L: r.L,
  losses: r.trace.map((p) => p.loss),
  etas: r.trace.map((p) => p.eta),
  final: r.final,
});

describe('benchmark sweeps', () => {
  it('a seed reproduces a run bit-identically on cpu', async () => {
    await useBackend('cpu');
    for (const [task, opt] of [
      ['linreg', 'sgd@0.1'],
      ['quadratic', 'adam'],
    ] as const) {
      const a = await runOne(taskByName(task), opt, 3, 'quick');
      const b = await runOne(taskByName(task), opt, 3, 'quick');
      expect(deterministic(b)).toEqual(deterministic(a));
      const other = await runOne(taskByName(task), opt, 4, 'quick');
      expect(other.L).not.toBe(a.L);
    }
  });

  it('shards 0/2 and 1/2, merged, equal the unsharded sweep', async () => {
    await useBackend('cpu');
    const plan = {
      suite: 'quick' as const,
      tasks: ['rosenbrock', 'linreg'],
      optimizers: ['sgd@0.001', 'sgd@0.01', 'adam@0.01'],
      seeds: [1, 2],
    };
    const all = planRuns(plan);
    expect(all).toHaveLength(12);
    const s0 = planRuns({ ...plan, shard: parseShard('0/2') });
    const s1 = planRuns({ ...plan, shard: parseShard('1/2') });
    expect(s0.length + s1.length).toBe(12);
    expect(new Set([...s0, ...s1].map((r) => r.key)).size).toBe(12);
    await sweep({ runs: all, store: join(dir, 'all.jsonl'), workers: 0, backend: 'cpu' });
    await sweep({ runs: s0, store: join(dir, 's0.jsonl'), workers: 0, backend: 'cpu' });
    await sweep({ runs: s1, store: join(dir, 's1.jsonl'), workers: 0, backend: 'cpu' });
    // Runs execute in a fixed shuffled order (for a fair ETA), yet every planned run is stored once.
    const storedKeys = readFileSync(join(dir, 'all.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { key: string }).key);
    expect([...storedKeys].sort()).toEqual(all.map((r) => r.key).sort());
    expect(storedKeys).not.toEqual(all.map((r) => r.key));
    const merged = mergeStores([join(dir, 's0.jsonl'), join(dir, 's1.jsonl'), join(dir, 's0.jsonl')]);
    expect(merged.duplicates).toHaveLength(s0.length);
    const unsharded = mergeStores([join(dir, 'all.jsonl')]).records;
    expect(merged.records.map(deterministic)).toEqual(unsharded.map(deterministic));
    expect(() => parseShard('2/2')).toThrow(/0 <= i < n/);
  });

  it('survives kill -9 mid-sweep: restart completes the plan, nothing lost or duplicated', async () => {
    const store = join(dir, 'killed.jsonl');
    const args = [
      '--import',
      'tsx',
      'src/cli/main.ts',
      'bench',
      '--tasks',
      'rosenbrock,linreg,quadratic',
      '--optimizers',
      'sgd@0.001,sgd@0.003,sgd@0.01,adam@0.001,adam@0.01',
      '--seeds',
      '1,2',
      '--workers',
      '0',
      '--backend',
      'cpu',
      '-q',
      '-o',
      store,
      '--report',
      join(dir, 'killed-report'),
    ];
    const start = () => spawn(process.execPath, args, { stdio: 'ignore' });
    const child: ChildProcess = start();
    // Wait for a few completed runs, then kill -9 while the sweep is running.
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (existsSync(store) && readStore(store).records.length >= 3) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const before = readStore(store).records.length;
    expect(before).toBeGreaterThanOrEqual(3);
    expect(before).toBeLessThan(30);
    // A crash in the middle of a write leaves a torn line: simulate it.
    appendFileSync(store, '{"key":"quick|torn');
    expect(readStore(store).torn).toBe(true);
    const again = start();
    const code = await new Promise((r) => again.once('exit', r));
    expect(code).toBe(0);
    const { records, torn } = readStore(store);
    expect(torn).toBe(false);
    const keys = records.map((r) => r.key);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.sort()).toEqual(
      planRuns({
        suite: 'quick',
        tasks: ['rosenbrock', 'linreg', 'quadratic'],
        optimizers: ['sgd@0.001', 'sgd@0.003', 'sgd@0.01', 'adam@0.001', 'adam@0.01'],
        seeds: [1, 2],
      })
        .map((r) => r.key)
        .sort(),
    );
    expect(readFileSync(join(dir, 'killed-report', 'report.html'), 'utf8')).toMatch(/Task: quadratic/);
  });
});
