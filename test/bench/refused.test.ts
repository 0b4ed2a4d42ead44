import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { compare } from '../../src/bench/compare.js';
import { taskTable } from '../../src/bench/report.js';
import { runOne } from '../../src/bench/runner.js';
import { readStore } from '../../src/bench/store.js';
import { sweep } from '../../src/bench/sweep.js';
import { taskByName } from '../../src/bench/tasks/index.js';
import { LrfreeConfigError } from '../../src/core/validate.js';
import * as lrfree from '../../src/index.js';
import { registerOptimizer } from '../../src/optimizers/catalog.js';
import { useBackend } from '../helpers/tf.js';

const dir = mkdtempSync(join(tmpdir(), 'lrfree-refused-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// An optimizer that refuses at its third step, as Newton refuses a model above maxParams at its first.
let steps = 0;
registerOptimizer({
  name: 'testRefuser',
  description: 'refuses every task (test only)',
  family: 'composed',
  make: () =>
    lrfree.optimizer({
      direction: lrfree.directions.sgd(),
      step: {
        kind: 'testRefuser',
        config: {},
        slotNames: [],
        needsLoss: false,
        initSlots: () => [],
        initScalars: () => ({}),
        choose: () => {
          steps += 1;
          if (steps % 3 === 0) throw new LrfreeConfigError('testRefuser: this task is too big; use another.');
          return { eta: 0.01 };
        },
      },
    }),
});

describe('refused runs', () => {
  // Catches runOne creating the task (model, data) before the optimizer and losing it when the optimizer's
  // constructor throws.
  it('a spec that throws at construction leaves no tensor of the task behind', async () => {
    await useBackend('cpu');
    const before = tf.memory().numTensors;
    await expect(runOne(taskByName('linreg'), 'sgd@-1', 1, 'quick')).rejects.toThrow(/sgd/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('are recorded with the reason, shown in the table, and not retried on resume', async () => {
    await useBackend('cpu');
    const record = await runOne(taskByName('linreg'), 'testRefuser', 1, 'quick');
    expect(record.refused).toBe('testRefuser: this task is too big; use another.');
    expect(record.steps).toBe(2);
    expect(record.diverged).toBe(false);
    expect(record.elapsedMs).toBeGreaterThanOrEqual(record.wallMs);

    const store = join(dir, 'runs.jsonl');
    const runs = ['testRefuser', 'sgd@0.1'].map((optimizer) => ({
      key: `quick|linreg|${optimizer}|1`,
      task: 'linreg',
      optimizer,
      seed: 1,
      suite: 'quick' as const,
    }));
    const first = await sweep({ runs, store, workers: 0 });
    expect(first).toEqual({ ran: 2, failed: [], postponed: [] });
    const again = await sweep({ runs, store, workers: 0 });
    expect(again.ran).toBe(0);

    const [table] = compare(readStore(store).records).map(taskTable);
    const row = table.rows.find((r) => r[0] === 'testRefuser')!;
    expect(row[2]).toBe('refused: testRefuser: this task is too big');
    expect(row.slice(3).every((cell) => cell === '-')).toBe(true);
    const tuned = table.rows.find((r) => String(r[0]).includes('sgd (tuned'))!;
    expect(Number.isFinite(Number(String(tuned[2]).split(' ')[0]))).toBe(true);
  });
});
