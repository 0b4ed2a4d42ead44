import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const claims = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'bench/claims.ts', ...args], {
    encoding: 'utf8',
    timeout: 120_000,
  });

describe('bench/claims.ts command line', () => {
  it('--help prints help and writes nothing; bad arguments never overwrite docs/results.md', () => {
    const doc = 'docs/results.md';
    const before = readFileSync(doc, 'utf8');
    const mtime = statSync(doc).mtimeMs;
    const help = claims('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/usage: npx tsx bench\/claims\.ts/);
    expect(help.stdout).toMatch(/ids: newton, /);
    for (const bad of [['--bogus'], ['--only'], ['--only', 'nosuch'], ['--reuse', 'no/such/file.jsonl']]) {
      const r = claims(...bad);
      expect(r.status, bad.join(' ')).toBe(2);
      expect(r.stderr).toMatch(
        /claims: (unknown argument|--only needs|unknown claim 'nosuch'; known: newton|--reuse: no such file)/,
      );
    }
    const resultsDoc = (...args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'bench/results-doc.ts', ...args], {
        encoding: 'utf8',
        timeout: 120_000,
      });
    expect(resultsDoc('--help').status).toBe(0);
    for (const bad of [
      [],
      ['no/such/store.jsonl'],
      ['docs/results.md', '--wall'],
      ['docs/results.md', '--tasks'],
    ]) {
      expect(resultsDoc(...bad).status, bad.join(' ')).toBe(2);
    }
    expect(readFileSync(doc, 'utf8')).toBe(before);
    expect(statSync(doc).mtimeMs).toBe(mtime);
  }, 300_000);
});
