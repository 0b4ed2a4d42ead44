import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { codeSummary, codeVersion } from '../../src/bench/codeVersion.js';
import { benchReport } from '../../src/bench/report.js';
import { runOne } from '../../src/bench/runner.js';
import { encodeRecord, readStore } from '../../src/bench/store.js';
import { planRuns } from '../../src/bench/suites.js';
import { sweep } from '../../src/bench/sweep.js';
import { taskByName } from '../../src/bench/tasks/index.js';
import { useBackend } from '../helpers/tf.js';

const dir = mkdtempSync(join(tmpdir(), 'lrfree-code-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the code version of benchmark runs', () => {
  it('is the package version plus a 12-digit source hash, stable within a process', () => {
    const v = codeVersion();
    expect(v).toMatch(/^\d+\.\d+\.\d+\+[0-9a-f]{12}$/);
    expect(codeVersion()).toBe(v);
  });

  it('summarises a store by code, most runs first, older records as unrecorded', () => {
    expect(codeSummary([{ code: 'a' }, { code: 'b' }, { code: 'b' }, {}])).toBe(
      'b (2 runs), a (1 run), unrecorded (1 run)',
    );
    expect(codeSummary([])).toBe('');
  });

  it('is stored with every run; a resumed sweep counts the stored runs made by other code', async () => {
    await useBackend('cpu');
    const linreg = taskByName('linreg');
    const a = await runOne(linreg, 'sgd@0.1', 1, 'quick');
    expect(a.code).toBe(codeVersion());
    const b = await runOne(linreg, 'sgd@0.1', 2, 'quick');
    const store = join(dir, 'runs.jsonl');
    // One run as this code made it, one as other code did, one from before codes were recorded.
    const { code: _drop, ...unrecorded } = b;
    appendFileSync(store, `${encodeRecord(a)}\n${encodeRecord({ ...b, code: '0.0.1+000000000000' })}\n`);
    const c = await runOne(linreg, 'sgd@0.1', 3, 'quick');
    appendFileSync(store, `${encodeRecord({ ...unrecorded, key: c.key, seed: 3 })}\n`);
    const plan = planRuns({
      suite: 'quick',
      tasks: ['linreg'],
      optimizers: ['sgd@0.1'],
      seeds: [1, 2, 3, 4],
    });
    expect(plan.slice(0, 3).map((r) => r.key)).toEqual([a.key, b.key, c.key]);
    let seen: number[] = [];
    const { ran } = await sweep({
      runs: plan,
      store,
      workers: 0,
      backend: 'cpu',
      onResume: (done, total, other) => {
        seen = [done, total, other];
      },
    });
    expect(seen).toEqual([3, 4, 2]);
    expect(ran).toBe(1);
    const { records } = readStore(store);
    expect(records.at(-1)!.code).toBe(codeVersion());
    expect(benchReport(records, { source: store }).markdown).toContain(
      `Code: ${codeVersion()} (2 runs), 0.0.1+000000000000 (1 run), unrecorded (1 run).`,
    );
  });
});
