/**
 * Threaded wasm in Node (src/backend/wasmThreads.ts): the same numbers as one thread, no leaks, a clean
 * exit; thread counts checked; lrfree's SIMD kernels on a shared memory.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { KERNELS_WASM_BASE64 } from '../../src/backend/wasm/simd/kernels.wasm.js';
import { withSharedMemoryImport } from '../../src/backend/wasm/simd/sharedMemory.js';
import { checkWasmThreads } from '../../src/backend/wasmThreads.js';
import { relErr } from './compare.js';

interface Probe {
  info: { backend: string; threads: number; simd: boolean; fusedMultiplyAdd?: boolean };
  pthreads: boolean;
  fusedAdam: boolean;
  matMulHelpers: number;
  tensorsLeft: number;
  outputs: Record<string, number[]>;
}

/** Runs threadsProbe.ts in its own process; fails (with its stderr) if it errs or does not end by itself. */
function probe(threads: number): Probe {
  const run = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'test/backend/threadsProbe.ts', String(threads)],
    {
      encoding: 'utf8',
      timeout: 100_000,
      maxBuffer: 64 * 1024 * 1024, // the numbers are a few MB of JSON
      env: { ...process.env, LRFREE_THREADS: '', LRFREE_BACKEND: '' },
    },
  );
  expect(run.signal, `probe(${threads}) did not exit by itself (hanging workers?): ${run.stderr}`).toBeNull();
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout.trim().split('\n').at(-1)!) as Probe;
}

describe('threaded wasm in Node', () => {
  it('gives the numbers of one thread (matmul, conv and its gradients, Adam steps), leaks nothing and exits', () => {
    const one = probe(1);
    const two = probe(2);
    // ready() turns relaxed SIMD on (Node 20: the V8 flag) before the helper threads compile the kernels.
    expect(one.info).toEqual({ backend: 'wasm', threads: 1, simd: true, fusedMultiplyAdd: true });
    expect(two.info).toEqual({ backend: 'wasm', threads: 2, simd: true, fusedMultiplyAdd: true });
    // threads: 1 is TF.js's own single-threaded start; 2 runs the threaded build.
    expect(one.pthreads).toBe(false);
    expect(two.pthreads).toBe(true);
    // lrfree's SIMD kernels run on both heaps (the threaded one is shared) and match the op path exactly.
    expect(one.fusedAdam).toBe(true);
    expect(two.fusedAdam).toBe(true);
    for (const p of [one, two]) {
      for (const k of ['m', 'v', 'd', 's']) {
        expect(p.outputs[`adam ${k} (fused kernel)`]).toEqual(p.outputs[`adam ${k} (ops)`]);
      }
    }
    // lrfree's matrix product splits rows over a helper thread on 2 threads (started and taking work before
    // the probe computes); each element is the same sum in the same order, so the products are
    // bit-identical to one thread's.
    expect(one.matMulHelpers).toBe(0);
    expect(two.matMulHelpers).toBe(1);
    for (const name of Object.keys(one.outputs).filter((n) => n.startsWith('matMul '))) {
      expect(two.outputs[name], name).toEqual(one.outputs[name]);
    }
    expect(one.tensorsLeft).toBe(0);
    expect(two.tensorsLeft).toBe(0);
    expect(Object.keys(two.outputs)).toEqual(Object.keys(one.outputs));
    expect(Object.keys(one.outputs).length).toBeGreaterThanOrEqual(10);
    for (const [name, ref] of Object.entries(one.outputs)) {
      expect(ref.length, name).toBeGreaterThan(0);
      // Float32 round-off of sums of a few hundred terms (the threads split the output, not the sums).
      expect(relErr(two.outputs[name], ref), name).toBeLessThan(1e-5);
    }
  }, 240_000);

  it('refuses thread counts TF.js cannot run, naming the range', () => {
    for (const bad of [0, -1, 1.5, 9, Number.NaN, '2']) {
      expect(() => checkWasmThreads(bad)).toThrow(/threads must be a whole number from 1 to 8/);
    }
    expect(checkWasmThreads(1)).toBe(1);
    expect(checkWasmThreads(8)).toBe(8);
  });
});

describe("lrfree's SIMD kernels on a shared memory", () => {
  const bytes = Uint8Array.from(atob(KERNELS_WASM_BASE64), (c) => c.charCodeAt(0));

  /** Runs the adam kernel on `memory` for fixed inputs and returns m, v and the direction. */
  function adam(memory: WebAssembly.Memory, code: Uint8Array<ArrayBuffer>): Float32Array[] {
    const k = new WebAssembly.Instance(new WebAssembly.Module(code), { env: { memory } })
      .exports as unknown as {
      adam(...args: number[]): void;
    };
    const n = 37; // not a multiple of 4: the scalar tail runs too
    const heap = new Float32Array(memory.buffer);
    for (let i = 0; i < 3 * n; i++) heap[i] = Math.sin(i + 1);
    const b1 = 0.9;
    const b2 = 0.999;
    // g, m0, v0 at 0, n, 2n; m, v, d, s out at 3n.., 6n (byte offsets)
    k.adam(0, 4 * n, 8 * n, 12 * n, 16 * n, 20 * n, 24 * n, 1, n, b1, 1 - b1, b2, 1 - b2, 0.1, 0.01, 1e-8);
    return [3, 4, 5, 6].map((i) => heap.slice(i * n, (i + 1) * n));
  }

  it('load on a shared memory after the import rewrite and compute what they compute on an unshared one', () => {
    const shared = new WebAssembly.Memory({ initial: 1, maximum: 16, shared: true });
    expect(shared.buffer).toBeInstanceOf(SharedArrayBuffer);
    // The module as compiled refuses a shared memory; the rewritten one takes it.
    expect(
      () => new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory: shared } }),
    ).toThrow();
    const twin = withSharedMemoryImport(bytes);
    expect(WebAssembly.validate(twin)).toBe(true);
    const got = adam(shared, twin);
    const ref = adam(new WebAssembly.Memory({ initial: 1 }), bytes);
    for (const [i, g] of got.entries()) expect(Array.from(g)).toEqual(Array.from(ref[i]));
    expect(ref[2].some((d) => d !== 0)).toBe(true);
  });

  it('leave the rest of the module as it was (only the import section changes)', () => {
    const twin = withSharedMemoryImport(bytes);
    // Same exports, and a second rewrite changes nothing more.
    const exports = (b: Uint8Array<ArrayBuffer>) =>
      WebAssembly.Module.exports(new WebAssembly.Module(b)).map((e) => e.name);
    expect(exports(twin)).toEqual(exports(bytes));
    expect(Array.from(withSharedMemoryImport(twin))).toEqual(Array.from(twin));
  });
});
