import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { codeVersion } from '../src/bench/codeVersion.js';
import type { RunRecord } from '../src/bench/record.js';
import { readStore } from '../src/bench/store.js';
import {
  demoHeadline,
  demoOptimizers,
  demoSummary,
  ownVerdict,
  runDemo,
  setAsideOtherCode,
} from '../src/cli/demo.js';

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

describe('the demo headline: auto() against the grid-tuned scheduled baseline', () => {
  it('shows both results and the compute of the whole grid beside auto()', async () => {
    const dir = join(out, 'headline');
    const { comparisons, records } = await runDemo({
      out: dir,
      tasks: ['linreg'],
      optimizers: ['adamw@0.01+cosine', 'adamw@0.03+cosine', 'auto'],
      workers: 0,
      backend: 'wasm',
      quiet: true,
    });
    const text = demoHeadline(comparisons, records);
    const grid = records.filter((r) => r.optimizer.startsWith('adamw@'));
    const gridCost = grid.reduce((s, r) => s + r.cost, 0);
    const mine = records.find((r) => r.optimizer === 'auto')!;
    expect(grid).toHaveLength(2);
    // auto's probes are charged: more forwards than backwards.
    expect(mine.forwards).toBeGreaterThan(0);
    expect(text).toMatch(/^auto\(\) with no settings against the grid-tuned scheduled baseline/);
    expect(text).toMatch(/linreg +adamw\+cosine \(tuned: 0\.0[13]/);
    expect(text).toContain(`${gridCost} (2 runs)`);
    expect(text).toContain(`${((100 * mine.cost) / gridCost).toFixed(0)}%`);
    expect(readFileSync(join(dir, 'results.md'), 'utf8')).toContain('## The headline');
    // Every run stores its optimizer's own report; the headline shows auto's.
    expect(mine.optimizerReport!.flags.every((f) => f.message.length > 20)).toBe(true);
    expect(grid.every((r) => typeof r.optimizerReport?.ok === 'boolean')).toBe(true);
    expect(text).toContain("auto's own report");
    expect(text).toContain(ownVerdict([mine]));
    // The default list: both scheduled grids, the rivals and auto().
    expect(demoOptimizers()).toEqual(
      expect.arrayContaining(['momentum@0.1+cosine', 'adamw@0.001+cosine', 'sfAdamW-algoperf', 'auto']),
    );
  });
});

describe('a demo answers for the code that runs it', () => {
  it('moves a store with runs of other code aside, keeps one of this code', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lrfree-demo-aside-'));
    try {
      const store = join(dir, 'results.jsonl');
      writeFileSync(store, `${JSON.stringify({ key: 'quick|linreg|adam|1', code: '0.0.9+abc' })}\n`);
      const aside = setAsideOtherCode(store, true);
      expect(aside).toBe(join(dir, 'results.0.0.9+abc.jsonl'));
      expect(existsSync(store)).toBe(false);
      expect(readFileSync(aside!, 'utf8')).toContain('0.0.9+abc');
      writeFileSync(store, `${JSON.stringify({ key: 'quick|linreg|adam|1', code: codeVersion() })}\n`);
      expect(setAsideOtherCode(store, true)).toBeUndefined();
      expect(existsSync(store)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the headline's own-report column", () => {
  const withFlags = (...flags: [string, 'warning' | 'info'][]) =>
    ({
      optimizerReport: {
        ok: flags.every(([, s]) => s !== 'warning'),
        flags: flags.map(([id, severity]) => ({ id, severity, message: id })),
      },
    }) as RunRecord;

  it('says ok, or which warnings on how many runs, with the information flags in parentheses', () => {
    expect(ownVerdict([])).toBe('-');
    expect(ownVerdict([withFlags()])).toBe('ok');
    expect(ownVerdict([withFlags(['stillFalling', 'info'])])).toBe('ok (stillFalling)');
    expect(ownVerdict([withFlags(['notLearning', 'warning'], ['guardFired', 'info'])])).toBe(
      'warning: notLearning (guardFired)',
    );
    expect(
      ownVerdict([
        withFlags(['skippedSteps', 'warning']),
        withFlags(),
        withFlags(['skippedSteps', 'warning']),
      ]),
    ).toBe('warning: skippedSteps 2 of 3');
  });
});

describe('the lrfree command', () => {
  const cli = (...args: string[]) =>
    execFileSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8' });

  it('prints its version and help', () => {
    expect(cli('--version').trim()).toBe('0.1.0');
    // commander wraps the description to the terminal width: match across the wrap.
    const help = cli('--help');
    expect(help).toMatch(/demo \[options\]\s+The quick benchmark suite[\s\S]*?MNIST/);
    // The environment variables ready() reads, each with what it takes.
    expect(help).toMatch(/LRFREE_BACKEND=wasm\|cpu\|tensorflow/);
    expect(help).toMatch(/LRFREE_THREADS=1\.\.8/);
    expect(help).toMatch(/LRFREE_FMA=0 +wasm matrix products without/);
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
