/**
 * Starts TF.js's threaded SIMD wasm build (`tfjs-backend-wasm-threaded-simd`, XNNPACK over pthreadpool) in
 * Node, where TF.js 4.22 does not start it on its own. Three things stand in the way, each worked around for
 * the duration of the backend's start only, with everything put back afterwards:
 *
 * 1. TF.js says Node has no thread support (`WASM_HAS_MULTITHREAD_SUPPORT` is false under `IS_NODE`): the
 *    flag is set to true (and left so: it then describes the backend that runs).
 * 2. The pthread worker script and the main script the workers import are handed over as `blob:` URLs, which
 *    Node's `Worker` rejects (`ERR_WORKER_PATH`): `Blob` and `URL.createObjectURL` are wrapped so that both
 *    scripts are written to a temporary folder as `.cjs` files and their paths are handed over instead. The
 *    main script is a function cut out of TF.js's CommonJS bundle; it gets the bundle's module variables
 *    (`require$$0` = fs, ...) back as a prefix. The folder is removed once the backend has started (the
 *    workers are created and have loaded both scripts by then).
 * 3. The thread pool is capped at `emscripten_num_logical_cores() / 2` (backend.cc assumes hyper-threading),
 *    which Node answers with `os.cpus().length`: 1 thread on a 2-core machine whatever
 *    `setThreadsCount` asks. `os.cpus` reports `2 * threads` entries while the module starts.
 *
 * The pthread workers are then unref'd, so that a script ends when its own work does (they block in
 * `Atomics.wait` between kernels and would otherwise keep Node alive).
 */
import * as tf from '@tensorflow/tfjs';
import { nodeImport } from '../core/platform.js';
import { LrfreeConfigError } from '../core/validate.js';
import { sharedModuleBytes } from './wasm/simd/instance.js';
import { startMatMulPool } from './wasm/simd/pool.js';

/** TF.js creates 8 pthread workers up front and caps its pool there (tfjs-backend-wasm's cc/BUILD). */
export const MAX_WASM_THREADS = 8;

/** What lrfree uses of the `@tensorflow/tfjs-backend-wasm` module. */
export interface WasmModuleLike {
  setThreadsCount?(n: number): void;
  getThreadsCount?(): number;
}

/** The part of the emscripten module that holds the pthread workers. */
interface WithPThreads {
  wasm?: { PThread?: { unusedWorkers?: { unref?(): void }[]; runningWorkers?: { unref?(): void }[] } };
}

interface NodeOs {
  cpus(): unknown[];
  availableParallelism?(): number;
  tmpdir(): string;
}
interface NodeFsTemp {
  mkdtempSync(prefix: string): string;
  writeFileSync(path: string, data: string): void;
  rmSync(path: string, options: { recursive: boolean; force: boolean }): void;
}

/** Cores available to this process (Node), capped at what TF.js's pool can use; 1 outside Node. */
export async function defaultWasmThreads(): Promise<number> {
  try {
    const os = await nodeImport<NodeOs>('node:os', 'ready');
    const cores = os.availableParallelism?.() ?? os.cpus().length;
    return Math.max(1, Math.min(MAX_WASM_THREADS, cores));
  } catch {
    return 1;
  }
}

/** Checks a user-given thread count: a whole number from 1 to {@link MAX_WASM_THREADS}. */
export function checkWasmThreads(threads: unknown): number {
  if (
    typeof threads !== 'number' ||
    !Number.isInteger(threads) ||
    threads < 1 ||
    threads > MAX_WASM_THREADS
  ) {
    throw new LrfreeConfigError(
      `ready: threads must be a whole number from 1 to ${MAX_WASM_THREADS} (TF.js's wasm thread pool holds at most ${MAX_WASM_THREADS}), got ${String(threads)}. Omit it to use the cores available.`,
    );
  }
  return threads;
}

/** The text of a Blob's parts, for the string parts TF.js builds its scripts from. */
function partsText(parts: unknown): string {
  return Array.isArray(parts) ? parts.map((p) => (typeof p === 'string' ? p : '')).join('') : '';
}

/** The start of the main script TF.js puts in a Blob for its workers. */
const MAIN_SCRIPT_HEAD = 'var WasmBackendModuleThreadedSimd';

/**
 * The module variables of TF.js's CommonJS bundle that the cut-out main script refers to (the bundle's
 * `require('fs')`, `require('path')`, `require('perf_hooks')`, `require('os')` and rollup's global).
 */
const MAIN_SCRIPT_PRELUDE =
  "var require$$0=require('fs'),require$$1=require('path'),require$$3=require('perf_hooks'),require$$4=require('os'),commonjsGlobal=globalThis;";

/**
 * A pthread worker that never runs a thread: it answers TF.js's "load" at once. Were it ever asked to run
 * one, it says so on stderr (the thread would then never start).
 */
const IDLE_WORKER = `const { parentPort } = require('worker_threads');
parentPort.on('message', (m) => {
  if (m && m.cmd === 'load') parentPort.postMessage({ cmd: 'loaded' });
  else if (m && m.cmd === 'run') process.stderr.write('lrfree: an idle wasm worker was asked to run a thread\\n');
});`;

/**
 * Runs `start` (which must start the wasm backend: `tf.setBackend('wasm')`) with the shims that let TF.js's
 * threaded build start in Node, asking for `threads` threads; puts everything back afterwards, whether
 * `start` succeeded or not. Node only; `wasmModule` is the imported `@tensorflow/tfjs-backend-wasm`.
 */
export async function startThreadedWasm<T>(
  threads: number,
  wasmModule: WasmModuleLike,
  start: () => Promise<T>,
): Promise<T> {
  const [os, fs, path] = await Promise.all([
    // The module object itself (`default`): a namespace object's properties cannot be assigned.
    nodeImport<{ default: NodeOs }>('node:os', 'ready').then((m) => m.default),
    nodeImport<NodeFsTemp>('node:fs', 'ready'),
    nodeImport<{ join(...p: string[]): string }>('node:path', 'ready'),
  ]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lrfree-wasm-threads-'));
  const mainPath = path.join(dir, 'main.cjs');
  let workers = 0;

  const realBlob = globalThis.Blob;
  const realCreate = URL.createObjectURL;
  const realCpus = os.cpus;

  /** A Blob that remembers its text; TF.js's main script is written out as it is made. */
  class ScriptBlob extends realBlob {
    readonly text0: string;
    constructor(parts?: BlobPart[], options?: BlobPropertyBag) {
      super(parts, options);
      this.text0 = partsText(parts);
      if (this.text0.startsWith(MAIN_SCRIPT_HEAD))
        fs.writeFileSync(mainPath, MAIN_SCRIPT_PRELUDE + this.text0);
    }
  }
  try {
    globalThis.Blob = ScriptBlob as typeof Blob;
    URL.createObjectURL = (obj: Blob) => {
      if (!(obj instanceof ScriptBlob)) return realCreate(obj);
      // The pthread worker script, once per worker of TF.js's pool of 8. The pool hands out its last workers
      // first, and `threads` threads take `threads - 1` workers (the calling thread is one): the first
      // 8 - (threads - 1) get an idle stand-in, which spares loading the whole module in workers that
      // never run (seconds on a busy machine).
      const index = workers++;
      const file = path.join(dir, `worker${index}.cjs`);
      fs.writeFileSync(
        file,
        index < MAX_WASM_THREADS - (threads - 1)
          ? IDLE_WORKER
          : // Its own createObjectURL (for the main script, which reaches the worker as a structured clone
            // of the Blob) must answer with the file written above.
            `URL.createObjectURL=()=>${JSON.stringify(mainPath)};URL.revokeObjectURL=()=>{};${obj.text0}`,
      );
      return file;
    };
    os.cpus = () => {
      const real = realCpus.call(os);
      return Array.from({ length: 2 * threads }, (_, i) => real[i % Math.max(1, real.length)]);
    };
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
    wasmModule.setThreadsCount?.(threads);
    const result = await start();
    unrefWorkers(tf.findBackend('wasm'));
    // lrfree's own matrix product splits its rows over threads - 1 helpers of its own.
    if (result) await startMatMulPool(tf.findBackend('wasm'), sharedModuleBytes(), threads - 1);
    return result;
  } finally {
    globalThis.Blob = realBlob;
    URL.createObjectURL = realCreate;
    os.cpus = realCpus;
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Lets Node exit while the pthread workers wait for work (they are ended with the process). */
function unrefWorkers(backend: unknown): void {
  const pthread = (backend as WithPThreads | undefined)?.wasm?.PThread;
  for (const w of [...(pthread?.unusedWorkers ?? []), ...(pthread?.runningWorkers ?? [])]) w.unref?.();
}
