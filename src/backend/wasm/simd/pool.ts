/**
 * Helper threads for lrfree's matrix product on TF.js's threaded wasm build (Node). XNNPACK's own thread
 * pool only runs XNNPACK's operators; lrfree's `matmul_packed` (kernels.wat) runs on the calling thread. On
 * a shared memory, `threads - 1` worker threads each instantiate the same kernel module on that memory and
 * wait (Atomics.wait, no spinning) for a block of rows: the calling thread computes the first block, the
 * helpers the others, and the call returns when all are done. Each output element is still one sum over k
 * in order, so the result is bit-identical to one thread's. Small products stay on the calling thread: a
 * wake-up costs tens of microseconds, and much more when the machine is oversubscribed.
 */
import { nodeImport } from '../../../core/platform.js';
import type { BackendWithMemory, SimdKernels } from './instance.js';

/**
 * Products below this many multiply-adds (m * k * n) run on the calling thread alone. Measured on 2 cores
 * (docs/backends.md, "Threads"): 128x784x128 (12.8 M) runs 1.3-1.4x faster split in two, 128x128x128
 * (2.1 M) 1.3-1.8x slower (a helper's wake-up costs about 0.1 ms).
 */
export const SPLIT_MIN_MACS = 1 << 23;

/**
 * Int32 slots per helper in the control buffer: [job, done, a, p, c, m, k, n, sai, sak, scratch, ready].
 */
const SLOTS = 16;

/** What a helper runs (CommonJS, evaluated): instantiate, then one job per bump of slot 0. */
const HELPER = `const { workerData } = require('node:worker_threads');
const { memory, bytes, control, index } = workerData;
const kernels = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports;
const c = new Int32Array(control, index * ${SLOTS * 4}, ${SLOTS});
let seen = Atomics.load(c, 0);
Atomics.store(c, 11, 1);
for (;;) {
  Atomics.wait(c, 0, seen);
  seen = Atomics.load(c, 0);
  kernels.matmul_packed(c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10]);
  Atomics.store(c, 1, seen);
  Atomics.notify(c, 1);
}`;

interface NodeWorker {
  unref(): void;
}
interface WorkerThreads {
  Worker: new (code: string, options: { eval: true; workerData: unknown }) => NodeWorker;
}

/** The helpers of one shared memory. */
export interface MatMulPool {
  /** Helper threads (the calling thread computes too). */
  helpers: number;
  /** Helpers that have started and take work (the others' rows run on the calling thread meanwhile). */
  readyHelpers(): number;
  /**
   * `kernels.matmul_packed(a, p, c, m, k, n, sai, sak, scratch)` split by rows over the calling thread and
   * the helpers; `scratch` must hold 128 bytes per thread (the calling thread's first, then one per helper).
   */
  matmul(
    kernels: SimdKernels,
    a: number,
    p: number,
    c: number,
    m: number,
    k: number,
    n: number,
    sai: number,
    sak: number,
    scratch: number,
  ): void;
}

const pools = new WeakMap<WebAssembly.Memory, MatMulPool>();

function memoryOf(backend: unknown): WebAssembly.Memory | undefined {
  const wasm = (backend as BackendWithMemory | undefined)?.wasm;
  const memory = wasm?.asm?.memory ?? wasm?.wasmMemory;
  return memory instanceof WebAssembly.Memory ? memory : undefined;
}

/** The helper pool of `backend`'s memory, if {@link startMatMulPool} made one. */
export function matMulPool(backend: unknown): MatMulPool | undefined {
  const memory = memoryOf(backend);
  return memory && pools.get(memory);
}

/**
 * Starts `helpers` helper threads on `backend`'s shared memory running `bytes` (the shared-memory kernel
 * module), unref'd so that they never keep Node alive. False (and nothing started) when the memory is not
 * shared, `helpers` < 1, or this is not Node.
 */
export async function startMatMulPool(
  backend: unknown,
  bytes: Uint8Array,
  helpers: number,
): Promise<boolean> {
  const memory = memoryOf(backend);
  if (!memory || helpers < 1 || !(memory.buffer instanceof SharedArrayBuffer)) return false;
  if (pools.has(memory)) return true;
  const { Worker } = await nodeImport<WorkerThreads>('node:worker_threads', 'ready');
  const control = new SharedArrayBuffer(helpers * SLOTS * 4);
  const slots = Array.from({ length: helpers }, (_, i) => new Int32Array(control, i * SLOTS * 4, SLOTS));
  for (let index = 0; index < helpers; index++) {
    new Worker(HELPER, { eval: true, workerData: { memory, bytes, control, index } }).unref();
  }
  let job = 0;
  pools.set(memory, {
    helpers,
    readyHelpers: () => slots.filter((s) => Atomics.load(s, 11) === 1).length,
    matmul(kernels, a, p, c, m, k, n, sai, sak, scratch) {
      // Row blocks of a multiple of 4 rows (the kernel's tile height), the calling thread's first.
      const threads = helpers + 1;
      const per = Math.ceil(m / threads / 4) * 4;
      job++;
      const used: Int32Array[] = [];
      const mine: number[] = []; // first rows of blocks the calling thread computes itself
      for (let h = 0; h < helpers; h++) {
        const first = (h + 1) * per;
        if (first >= m) break;
        const s = slots[h];
        // A helper that has not started yet (its first seconds) leaves its block to the calling thread.
        if (Atomics.load(s, 11) !== 1) {
          mine.push(first);
          continue;
        }
        s[2] = a + first * sai;
        s[3] = p;
        s[4] = c + first * n * 4;
        s[5] = Math.min(per, m - first);
        s[6] = k;
        s[7] = n;
        s[8] = sai;
        s[9] = sak;
        s[10] = scratch + (h + 1) * 128;
        Atomics.store(s, 0, job);
        Atomics.notify(s, 0);
        used.push(s);
      }
      kernels.matmul_packed(a, p, c, Math.min(per, m), k, n, sai, sak, scratch);
      for (const first of mine) {
        const rows = Math.min(per, m - first);
        kernels.matmul_packed(a + first * sai, p, c + first * n * 4, rows, k, n, sai, sak, scratch);
      }
      for (const s of used) {
        for (let done = Atomics.load(s, 1); done !== job; done = Atomics.load(s, 1)) Atomics.wait(s, 1, done);
      }
    },
  });
  return true;
}
