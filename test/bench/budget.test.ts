import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { assertSameBudget, plannedSteps, runOne } from '../../src/bench/runner.js';
import { encodeRecord } from '../../src/bench/store.js';
import { sweep } from '../../src/bench/sweep.js';
import { taskByName } from '../../src/bench/tasks/index.js';
import { useBackend } from '../helpers/tf.js';

const dir = mkdtempSync(join(tmpdir(), 'lrfree-budget-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('stored runs made under another budget', () => {
  it('records the budget, and a sweep refuses to mix a stale run with new ones', async () => {
    await useBackend('cpu');
    const linreg = taskByName('linreg');
    const record = await runOne(linreg, 'sgd@0.1', 1, 'quick');
    expect(record.budget).toBe(linreg.budget.quick);
    expect(record.steps).toBe(linreg.budget.quick);
    expect(() => assertSameBudget(record, linreg, 'x.jsonl')).not.toThrow();

    // The same run as an older lrfree with a longer budget would have stored it.
    const stale = { ...record, budget: record.budget! + 50, steps: record.steps + 50 };
    const store = join(dir, 'runs.jsonl');
    appendFileSync(store, `${encodeRecord(stale)}\n`);
    const before = readFileSync(store, 'utf8');
    const plan = [
      { key: record.key, task: 'linreg', optimizer: 'sgd@0.1', seed: 1, suite: 'quick' as const },
    ];
    await expect(sweep({ runs: plan, store, workers: 0, backend: 'cpu' })).rejects.toThrow(
      `made with ${linreg.budget.quick + 50} steps, but the quick budget of linreg is now ${linreg.budget.quick}`,
    );
    expect(readFileSync(store, 'utf8')).toBe(before); // nothing lost, nothing appended
  });

  it('reads the budget of older records from their step count unless they ended early', () => {
    const old = { steps: 300, diverged: false } as Parameters<typeof plannedSteps>[0];
    expect(plannedSteps(old, 100)).toBe(300);
    expect(plannedSteps({ ...old, diverged: true, steps: 12 }, 100)).toBe(100);
    expect(plannedSteps({ ...old, refused: 'too big', steps: 0 }, 100)).toBe(100);
    expect(plannedSteps({ ...old, budget: 250 }, 100)).toBe(250);
  });
});
