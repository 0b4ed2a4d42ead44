/**
 * lrfree's matrix product on an engine with relaxed SIMD accumulates by fused multiply-add (the
 * kernelsRelaxed module, scripts/wasm.ts) and gives the float64 product within float32 round-off. In Node 20
 * relaxed SIMD is behind `--experimental-wasm-relaxed-simd`: `ready()` sets that V8 flag itself unless
 * `fusedMultiplyAdd: false` / `LRFREE_FMA=0`, which keep the mul + add module (even where the engine has
 * relaxed SIMD). Each case in its own process (a wasm backend starts once per process).
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

interface Probe {
  accumulation: string;
  info: Record<string, unknown>;
  log: string;
  maxErr: number;
  outputs: number[][];
  /** Whether V8 validates relaxed SIMD in the probe's process after ready(), and before it. */
  engine: boolean;
  engineBefore: boolean;
}

function run(commandLineFlag: boolean, fma: string) {
  return spawnSync(
    process.execPath,
    [
      ...(commandLineFlag ? ['--experimental-wasm-relaxed-simd'] : []),
      '--import',
      'tsx',
      'test/backend/relaxedProbe.ts',
    ],
    {
      encoding: 'utf8',
      timeout: 100_000,
      env: { ...process.env, LRFREE_THREADS: '', LRFREE_BACKEND: '', LRFREE_FMA: fma },
    },
  );
}

function probe(commandLineFlag: boolean, fma: string): Probe {
  const r = run(commandLineFlag, fma);
  expect(r.status, r.stderr).toBe(0);
  return { ...(JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Probe), log: r.stderr };
}

describe('relaxed SIMD fused multiply-add in the matrix product', () => {
  it('is on by default (ready() sets the V8 flag), off with LRFREE_FMA=0, and gives the same products within round-off', () => {
    const plain = probe(false, '0');
    const fused = probe(false, '');
    // Off even where the engine has relaxed SIMD from the command line.
    const offWithFlag = probe(true, '0');
    const onWithFlag = probe(true, '1');
    expect(plain.accumulation).toBe('mul-add');
    // No V8 flag set when it is off (Node 20: still no relaxed SIMD; Node 22+ have it either way).
    expect(plain.engine).toBe(plain.engineBefore);
    expect(fused.accumulation).toBe('relaxed-madd');
    expect(fused.engine).toBe(true);
    expect(offWithFlag.accumulation).toBe('mul-add');
    expect(onWithFlag.accumulation).toBe('relaxed-madd');
    expect(offWithFlag.outputs).toEqual(plain.outputs);
    expect(onWithFlag.outputs).toEqual(fused.outputs);
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

  it('refuses a bad LRFREE_FMA with an error that says what is allowed', () => {
    const r = run(false, 'yes');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/LRFREE_FMA = "yes" is not allowed; LRFREE_FMA must be 0 or 1/);
  }, 120_000);
});
