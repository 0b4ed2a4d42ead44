/**
 * `lrfree report <store> --tasks a,b`: the report of a sweep still running covers only the tasks it
 * finished; a task the store does not hold is refused by name. Runs on the committed standard-suite
 * snapshot's linreg and quadratic runs (extracted to a temporary store).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runTsx, snapshotStore } from '../helpers/snapshot.js';

const dir = mkdtempSync(join(tmpdir(), 'lrfree-report-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const report = (...args: string[]) => runTsx('src/cli/main.ts', 'report', ...args);

describe('lrfree report --tasks', () => {
  it('reports only the tasks named, and refuses a task the store does not hold', () => {
    const store = snapshotStore(dir, 'two-tasks.jsonl', ['linreg', 'quadratic']).path;
    const out = join(dir, 'linreg-only');
    const r = report(store, '-o', out, '--tasks', 'linreg');
    expect(r.status, r.stderr).toBe(0);
    const md = readFileSync(join(out, 'results.md'), 'utf8');
    expect(md).toMatch(/linreg/);
    expect(md).not.toMatch(/quadratic/);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toMatch(/linreg/);
    expect(html).not.toMatch(/Task: quadratic/);

    const both = join(dir, 'both');
    expect(report(store, '-o', both).status).toBe(0);
    expect(readFileSync(join(both, 'results.md'), 'utf8')).toMatch(/quadratic/);
    expect(readFileSync(join(both, 'report.html'), 'utf8')).toMatch(/Task: quadratic/);

    const bad = report(store, '-o', join(dir, 'bad'), '--tasks', 'linreg,no-such-task');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/report: no runs of no-such-task in .*two-tasks\.jsonl \(its tasks: .*linreg/);
  });
});
