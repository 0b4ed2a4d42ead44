/**
 * lrfree's matrix product on an engine with relaxed SIMD (Node 20 behind `--experimental-wasm-relaxed-simd`)
 * accumulates by fused multiply-add (the kernelsRelaxed module, scripts/wasm.ts) and gives the float64
 * product within float32 round-off; without relaxed SIMD it keeps the mul + add module. Each in its own
 * process (a wasm backend starts once per process).
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

interface Probe {
  accumulation: string;
  info: Record<string, unknown>;
  log: string;
  maxErr: number;
  outputs: number[][];
}

function probe(relaxed: boolean): Probe {
  const run = spawnSync(
    process.execPath,
    [
      ...(relaxed ? ['--experimental-wasm-relaxed-simd'] : []),
      '--import',
      'tsx',
      'test/backend/relaxedProbe.ts',
    ],
    { encoding: 'utf8', timeout: 100_000, env: { ...process.env, LRFREE_THREADS: '', LRFREE_BACKEND: '' } },
  );
  expect(run.status, run.stderr).toBe(0);
  return { ...(JSON.parse(run.stdout.trim().split('\n').at(-1)!) as Probe), log: run.stderr };
}

describe('relaxed SIMD fused multiply-add in the matrix product', () => {
  it('is used where the engine has it, gives the same products within round-off, and is not used elsewhere', () => {
    const plain = probe(false);
    const fused = probe(true);
    expect(plain.accumulation).toBe('mul-add');
    expect(fused.accumulation).toBe('relaxed-madd');
    // backendInfo() and ready()'s log line say so (and say nothing where it does not run).
    expect(plain.info).toEqual({ backend: 'wasm', threads: 1, simd: true });
    expect(fused.info).toEqual({ backend: 'wasm', threads: 1, simd: true, fusedMultiplyAdd: true });
    expect(plain.log).toMatch(/lrfree: using TF.js backend 'wasm' \(SIMD, 1 thread\)\n/);
    expect(fused.log).toMatch(/lrfree: using TF.js backend 'wasm' \(SIMD, 1 thread, fused multiply-add\)/);
    // Sums of up to 784 float32 terms against a float64 sum of the same terms.
    expect(plain.maxErr).toBeLessThan(1e-5);
    expect(fused.maxErr).toBeLessThan(1e-5);
    expect(fused.outputs.map((o) => o.length)).toEqual(plain.outputs.map((o) => o.length));
    // One rounding fewer per term: some elements differ, none by more than round-off.
    let differing = 0;
    fused.outputs.forEach((o, c) => {
      o.forEach((v, i) => {
        const w = plain.outputs[c][i];
        if (v !== w) differing++;
        expect(Math.abs(v - w) / (1 + Math.abs(w))).toBeLessThan(1e-5);
      });
    });
    expect(differing).toBeGreaterThan(0);
  }, 240_000);
});
