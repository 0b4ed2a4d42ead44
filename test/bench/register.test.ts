/**
 * `lrfree bench --register <module>`: a user's module that registers its own optimizer is imported before
 * the specs are checked and by every worker thread, so the sweep runs it beside the built-in ones.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readStore } from '../../src/bench/store.js';
import { runBench } from '../../src/cli/bench.js';
import '../../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'lrfree-register-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FIXTURE = 'test/fixtures/registerHalfSgd.ts';
const common = {
  suite: 'quick' as const,
  tasks: ['linreg'],
  optimizers: ['test-half-sgd', 'sgd@0.05'],
  seeds: [1],
  backend: 'cpu' as const,
  quiet: true,
};

describe('bench --register', () => {
  it('runs a registered optimizer in process and in a worker thread, the same as the built-in spec it wraps', async () => {
    const results: Record<string, number>[] = [];
    for (const workers of [0, 1]) {
      const out = join(dir, `w${workers}.jsonl`);
      await runBench({ ...common, register: [FIXTURE], out, workers });
      const records = readStore(out).records;
      expect(records.map((r) => r.optimizer).sort()).toEqual(['sgd@0.05', 'test-half-sgd']);
      results.push(Object.fromEntries(records.map((r) => [r.optimizer, r.final.validation.loss])));
    }
    // The registered optimizer is SGD at 0.05: the same run as the spec sgd@0.05, in process and in a worker.
    for (const r of results) expect(r['test-half-sgd']).toBe(r['sgd@0.05']);
    expect(results[1]['test-half-sgd']).toBe(results[0]['test-half-sgd']);
  }, 120_000);

  it('refuses a missing module by name, before the store is created', async () => {
    const out = join(dir, 'missing.jsonl');
    await expect(runBench({ ...common, register: ['no/such/module.js'], out, workers: 0 })).rejects.toThrow(
      /--register no\/such\/module\.js: no such file/,
    );
    expect(existsSync(out)).toBe(false);
  });
});
