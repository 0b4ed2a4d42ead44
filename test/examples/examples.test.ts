/**
 * Every code example a reader sees — each `@example` in the TSDoc of src/ and each ```ts block of README.md
 * and docs/**\/*.md — is type-checked and run (issue #19 item 8). The harness (./extract.ts, ./generate.ts)
 * writes each block to lrfree-out/examples/ with the prelude of names examples assume (./prelude.ts: a tiny
 * MNIST-shaped model and data); `tsc` checks them all at once, then each runs on the cpu backend in a temp
 * working folder (examples that save write there). Blocks marked `skip: <reason>` are not compiled and
 * `no-run: <reason>` are compiled only; both are listed and counted here, none is skipped silently.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRELUDE_NAMES as GENERATOR_NAMES, type Generated, generateExamples } from './generate.js';

const ROOT = resolve('.');
const OUT = join(ROOT, 'lrfree-out', 'examples');
const examples: Generated[] = generateExamples(ROOT, OUT);
const compiled = examples.filter((e) => !e.skip);
const runnable = compiled.filter((e) => !e.noRun);

describe('documentation examples', () => {
  let cwd: string;
  const startDir = process.cwd();

  beforeAll(async () => {
    process.env.LRFREE_BACKEND = 'cpu';
    await tf.setBackend('cpu');
    cwd = mkdtempSync(join(tmpdir(), 'lrfree-examples-'));
  });

  afterAll(() => {
    process.chdir(startDir);
    if (cwd) rmSync(cwd, { recursive: true, force: true });
  });

  it('are found, and every skipped or compile-only block gives its reason', () => {
    expect(examples.length).toBeGreaterThan(100);
    const skipped = examples.filter((e) => e.skip);
    const noRun = examples.filter((e) => e.noRun);
    console.log(
      `examples: ${examples.length} found, ${runnable.length} run, ${noRun.length} compiled only, ${skipped.length} skipped`,
    );
    for (const e of skipped) console.log(`  skipped ${e.id} (line ${e.line}): ${e.skip}`);
    for (const e of noRun) console.log(`  compiled only ${e.id} (line ${e.line}): ${e.noRun}`);
    for (const e of [...skipped, ...noRun]) expect((e.skip ?? e.noRun ?? '').length, e.id).toBeGreaterThan(5);
    // A new skip is a decision: raise these bounds in the same commit, with the reason in the block.
    expect(skipped.length).toBeLessThanOrEqual(1);
    expect(noRun.length).toBeLessThanOrEqual(2);
  });

  it('the prelude names are the same in prelude.ts and generate.ts', async () => {
    const { PRELUDE_NAMES } = await import('./prelude.js');
    expect(GENERATOR_NAMES).toEqual(PRELUDE_NAMES);
  });

  it('type-check (tsc on all generated blocks)', () => {
    const tsc = spawnSync(
      process.execPath,
      [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', OUT],
      {
        encoding: 'utf8',
      },
    );
    // Each error line names the generated file, whose first line names the block and its source line.
    expect(`${tsc.stdout}${tsc.stderr}`).toBe('');
    expect(tsc.status).toBe(0);
  }, 600_000);

  for (const e of runnable) {
    it(`runs ${e.id} (line ${e.line})`, async () => {
      process.chdir(cwd);
      try {
        await import(e.path);
      } finally {
        process.chdir(startDir);
        // An example may switch the backend (patchWasm's does): the next one starts on cpu again.
        if (tf.getBackend() !== 'cpu') await tf.setBackend('cpu');
      }
    });
  }
});
