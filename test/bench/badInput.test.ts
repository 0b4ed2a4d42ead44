import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runBench } from '../../src/cli/bench.js';
import '../../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'lrfree-badinput-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bad input never touches the store', () => {
  const existing = join(dir, 'existing.jsonl');
  const fresh = join(dir, 'fresh.jsonl');
  const content = '{"key":"standard|linreg|sls|1","note":"not a real record, must stay byte for byte"}\n';
  writeFileSync(existing, content);

  const cases: [string, Parameters<typeof runBench>[0]['tasks'], string[] | undefined, RegExp][] = [
    [
      'an unknown task',
      ['linreg', 'nosuch-task'],
      ['sls'],
      /unknown task 'nosuch-task'; known: quadratic, rosenbrock, linreg/,
    ],
    [
      'an unknown optimizer',
      ['linreg'],
      ['sls', 'nosuch'],
      /unknown optimizer 'nosuch'; known: sgd, momentum, adam/,
    ],
    ['an unknown schedule', ['linreg'], ['adamw@1e-3+linear'], /unknown schedule 'linear'; known: cosine/],
    [
      'a schedule on a method without a rate',
      ['linreg'],
      ['sls+cosine'],
      /a schedule follows a learning rate of/,
    ],
  ];
  for (const [what, tasks, optimizers, message] of cases) {
    it(`${what}: a clear error naming the valid ones, the store untouched`, async () => {
      for (const out of [existing, fresh]) {
        await expect(
          runBench({ suite: 'quick', tasks, optimizers, seeds: [1], out, workers: 0, quiet: true }),
        ).rejects.toThrow(message);
      }
      expect(readFileSync(existing, 'utf8')).toBe(content);
      expect(existsSync(fresh)).toBe(false);
    });
  }
});
