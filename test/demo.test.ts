import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readStore } from '../src/bench/store.js';
import { demoSummary, runDemo } from '../src/cli/demo.js';

const out = mkdtempSync(join(tmpdir(), 'lrfree-demo-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('demo (the README main job), on a slice of the quick suite', () => {
  it('tunes the grids, runs the others, learns MNIST, and writes a self-contained report with charts', async () => {
    const { comparisons, html, store } = await runDemo({
      out,
      tasks: ['linreg', 'mnist-mlp'],
      optimizers: ['sgd@0.01', 'sgd@0.1', 'adam@0.001', 'adam@0.01', 'adam'],
      workers: 0,
      backend: 'wasm',
      quiet: true,
    });
    expect(readStore(store).records).toHaveLength(10);
    const mnist = comparisons.find((c) => c.task === 'mnist-mlp')!;
    const tunedSgd = mnist.rows.find((r) => r.tuned && r.spec.startsWith('sgd@'))!;
    // Tuned on validation: the larger rate wins on 100 MNIST steps; its 2 points are its trials (a partial
    // grid, hand-picked: not extended).
    expect(tunedSgd.spec).toBe('sgd@0.1');
    expect(tunedSgd.trials).toEqual(['sgd@0.01', 'sgd@0.1']);
    expect(tunedSgd.cost).toBe(300);
    // Better than chance (10%) after 100 steps.
    expect(tunedSgd.testMetric!.estimate).toBeGreaterThan(0.6);
    expect(mnist.rows.find((r) => r.method === 'adam')!.vsRef!.estimate).toBeGreaterThan(0);
    const page = readFileSync(html, 'utf8');
    // Who reaches the target, two profiles, one curve chart per task.
    expect(page.match(/<svg/g)!.length).toBeGreaterThanOrEqual(5);
    expect(page.indexOf('Ranked summary')).toBeLessThan(page.indexOf('Task: linreg'));
    expect(page).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
    expect(readFileSync(join(out, 'results.md'), 'utf8')).toMatch(/### mnist-mlp/);
    expect(demoSummary(comparisons)).toMatch(/sgd \(tuned: 0\.1, top edge\)/);
  });
});

describe('the lrfree command', () => {
  const cli = (...args: string[]) =>
    execFileSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8' });

  it('prints its version and help', () => {
    expect(cli('--version').trim()).toBe('0.1.0');
    // commander wraps the description to the terminal width: match across the wrap.
    expect(cli('--help')).toMatch(/demo \[options\]\s+The quick benchmark suite[\s\S]*?MNIST/);
    expect(cli('list')).toMatch(/^sgd +baseline/m);
  });

  it('names an unknown optimizer and lists the known ones', () => {
    let message = '';
    try {
      cli('demo', '--optimizers', 'nope', '--tasks', 'linreg', '-q', '--workers', '0', '-o', join(out, 'x'));
    } catch (e) {
      message = String((e as { stderr: string }).stderr);
    }
    expect(message).toMatch(/unknown optimizer 'nope'; known: sgd, momentum, adam/);
  });
});
