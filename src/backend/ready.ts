/**
 * Backend choice: `await ready()` picks the best backend present and says which, once. In Node: `tensorflow`
 * (tfjs-node, native) when `@tensorflow/tfjs-node` is installed, else `wasm`, else `cpu`. In a browser:
 * `webgpu` (when `@tensorflow/tfjs-backend-webgpu` was imported by the page), else `webgl`, else `wasm`
 * (its `.wasm` files must be served: see {@link ReadyOptions.wasmPaths}), else `cpu`. A user may force one.
 */
import * as tf from '@tensorflow/tfjs';
import { isNode, nodeImport } from '../core/platform.js';
import { LrfreeConfigError } from '../core/validate.js';
import { patchCpu, patchWasm } from './patchWasm.js';
import { turnOnRelaxedSimd } from './relaxedSimd.js';
import { allowFusedMultiplyAdd, productAccumulation, simdKernels } from './wasm/simd/instance.js';
import {
  checkWasmThreads,
  defaultWasmThreads,
  startThreadedWasm,
  type WasmModuleLike,
} from './wasmThreads.js';

/** Backends lrfree knows how to pick. */
export type BackendName = 'tensorflow' | 'wasm' | 'cpu' | 'webgl' | 'webgpu';

/** Options of {@link ready}. */
export interface ReadyOptions {
  /** Force a backend instead of picking the best present one. Env `LRFREE_BACKEND` does the same. */
  backend?: BackendName;
  /** Print nothing (default: one line naming the backend, the first time). */
  quiet?: boolean;
  /** Register lrfree's missing/fast kernels on wasm and its fast conv filter gradient on cpu (default true). */
  patch?: boolean;
  /**
   * Where the wasm backend fetches its `.wasm` files, passed to `setWasmPaths` of
   * `@tensorflow/tfjs-backend-wasm` before the backend starts: a folder URL ending in `/` (serve
   * `node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm` there, e.g. from Vite's `public/`), or a map
   * from file name to URL. Not needed in Node, where the files are read from the package. Without it, a
   * bundled page looks for the files next to the bundle; when they are missing, wasm fails to start and
   * `ready()` moves on to `cpu`.
   */
  wasmPaths?: string | Record<string, string>;
  /**
   * Threads of the wasm backend (XNNPACK's pool), 1 to 8. Default: the cores available to the process
   * (`os.availableParallelism()`, at most 8) in Node; TF.js's own choice in a browser (threads need a
   * cross-origin-isolated page there). `1` keeps the single-threaded SIMD build. Env `LRFREE_THREADS` does
   * the same in Node. Takes effect when the wasm backend starts, i.e. at the first `ready()` that picks it;
   * {@link backendInfo} says what runs.
   */
  threads?: number;
  /**
   * Let lrfree's matrix product on wasm accumulate by relaxed SIMD's fused multiply-add (default true):
   * about 1.25x faster products, different from the multiply-then-add path by float32 round-off. Browsers
   * and Node 22+ have relaxed SIMD on; in Node 20, whose V8 has it behind `--experimental-wasm-relaxed-simd`,
   * lrfree sets that V8 flag for the process (`node:v8`) before its kernels compile. `false` (or env
   * `LRFREE_FMA=0` in Node) keeps the multiply-then-add product and sets no flag, e.g. to reproduce an
   * earlier run bit for bit. Decided once per process, when the wasm backend starts;
   * {@link backendInfo}'s `fusedMultiplyAdd` says what runs.
   */
  fusedMultiplyAdd?: boolean;
}

/** What {@link ready} chose: the backend and, on wasm, its thread count and whether it runs SIMD. */
export interface BackendInfo {
  backend: BackendName;
  /** Threads the backend computes on (wasm: XNNPACK's pool; 1 for cpu; undefined when unknown). */
  threads?: number;
  /** Whether the wasm build in use has SIMD (undefined off wasm). */
  simd?: boolean;
  /**
   * True when lrfree's matrix product on wasm accumulates by fused multiply-adds (relaxed SIMD; see
   * {@link ReadyOptions.fusedMultiplyAdd}), about 1.25x faster and different from the multiply-then-add
   * path by float32 round-off; undefined otherwise.
   */
  fusedMultiplyAdd?: boolean;
}

let info: BackendInfo | undefined;

let announced = false;

/** Loads a CommonJS package by name in Node (tfjs-node registers its backend as it loads). */
async function tryRequire(name: string): Promise<boolean> {
  if (!isNode) return false;
  try {
    const { createRequire } = await nodeImport<{ createRequire(url: string): (id: string) => unknown }>(
      'node:module',
      'ready',
    );
    createRequire(import.meta.url)(name);
    return true;
  } catch {
    return false;
  }
}

/** Registers the wasm backend (an import with side effects), once; sets where its `.wasm` files are. */
async function loadWasm(wasmPaths: ReadyOptions['wasmPaths']): Promise<WasmModuleLike | null> {
  try {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    if (wasmPaths !== undefined) {
      if (typeof wasmPaths === 'string') wasm.setWasmPaths(wasmPaths);
      else wasm.setWasmPaths(wasmPaths);
    }
    return tf.findBackendFactory('wasm') !== null ? (wasm as WasmModuleLike) : null;
  } catch {
    return null;
  }
}

/** Whether the fused multiply-add product is allowed: the option, else `LRFREE_FMA` (Node), else true. */
function fusedMultiplyAddAllowed(options: ReadyOptions): boolean {
  if (options.fusedMultiplyAdd !== undefined) {
    if (typeof options.fusedMultiplyAdd !== 'boolean')
      throw new LrfreeConfigError(
        `ready: fusedMultiplyAdd = ${JSON.stringify(options.fusedMultiplyAdd)} is not allowed; fusedMultiplyAdd must be true or false.`,
      );
    return options.fusedMultiplyAdd;
  }
  const env = isNode ? process.env.LRFREE_FMA : undefined;
  if (env === undefined || env === '') return true;
  if (env === '0' || env === '1') return env === '1';
  throw new LrfreeConfigError(
    `ready: LRFREE_FMA = ${JSON.stringify(env)} is not allowed; LRFREE_FMA must be 0 or 1 (or unset).`,
  );
}

/** The thread count asked for: the option, else `LRFREE_THREADS` (Node), else undefined (the default). */
function requestedThreads(options: ReadyOptions): number | undefined {
  if (options.threads !== undefined) return checkWasmThreads(options.threads);
  const env = isNode ? process.env.LRFREE_THREADS : undefined;
  return env ? checkWasmThreads(Number(env)) : undefined;
}

/**
 * Starts the wasm backend: in Node with more than one thread through {@link startThreadedWasm} (falling
 * back to one thread, with a warning, when that fails); otherwise TF.js's own start, unchanged.
 */
async function startWasm(wasm: WasmModuleLike, threads: number | undefined): Promise<boolean> {
  const setWasm = () => tf.setBackend('wasm').catch(() => false);
  if (!isNode) {
    if (threads !== undefined) wasm.setThreadsCount?.(threads);
    return setWasm();
  }
  const n = threads ?? (await defaultWasmThreads());
  if (n === 1) return setWasm();
  const ok = await startThreadedWasm(n, wasm, setWasm).catch(() => false);
  if (ok) return true;
  console.error(`lrfree: the threaded wasm backend did not start; using 1 thread.`);
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  return setWasm();
}

/** Threads and SIMD of the wasm backend that runs; `patched`: lrfree's kernels registered on it. */
function wasmInfo(wasm: WasmModuleLike | null, patched: boolean): BackendInfo {
  let threads: number | undefined;
  try {
    threads = wasm?.getThreadsCount?.();
  } catch {
    threads = undefined;
  }
  const simd = tf.env().getFlags().WASM_HAS_SIMD_SUPPORT;
  const fma = patched && simdKernels(tf.backend()) !== undefined && productAccumulation() === 'relaxed-madd';
  return {
    backend: 'wasm',
    threads,
    simd: typeof simd === 'boolean' ? simd : undefined,
    ...(fma ? { fusedMultiplyAdd: true } : {}),
  };
}

/**
 * What the last {@link ready} chose: backend, threads and SIMD (undefined before `ready()`).
 *
 * @example
 * ```ts
 * import * as lrfree from 'lrfree';
 * await lrfree.ready({ quiet: true });
 * const { backend, threads, simd } = lrfree.backendInfo()!; // e.g. 'wasm', 2, true
 * ```
 */
export function backendInfo(): BackendInfo | undefined {
  return info && { ...info };
}

/** The log line of {@link ready}. */
function describe(i: BackendInfo): string {
  const parts = [
    i.simd === undefined ? undefined : i.simd ? 'SIMD' : 'no SIMD',
    i.threads === undefined || i.backend !== 'wasm'
      ? undefined
      : `${i.threads} thread${i.threads === 1 ? '' : 's'}`,
    i.fusedMultiplyAdd ? 'fused multiply-add' : undefined,
  ].filter(Boolean);
  return `lrfree: using TF.js backend '${i.backend}'${parts.length ? ` (${parts.join(', ')})` : ''}`;
}

/** The order `ready()` tries backends in, when none is forced. */
export function backendCandidates(node: boolean = isNode): BackendName[] {
  return node ? ['tensorflow', 'wasm', 'cpu'] : ['webgpu', 'webgl', 'wasm', 'cpu'];
}

/** The cpu backend prints an "install tfjs-node" banner on first use; we chose already, so mute it. */
function muteCpuBanner(): void {
  const cpu = tf.findBackend('cpu') as unknown as { firstUse?: boolean } | null;
  if (cpu && 'firstUse' in cpu) cpu.firstUse = false;
}

/**
 * Initialises TF.js on the best available backend and returns its name. On wasm in Node it runs TF.js's
 * threaded SIMD build on {@link ReadyOptions.threads} threads (default: the cores available); the log line
 * and {@link backendInfo} say which backend, how many threads and whether SIMD.
 *
 * @example
 * ```ts
 * import * as lrfree from 'lrfree';
 * const backend = await lrfree.ready();            // 'wasm' here, 'tensorflow' with tfjs-node
 * await lrfree.ready({ backend: 'cpu', quiet: true });
 * // In a page: await lrfree.ready({ wasmPaths: '/tfjs-wasm/' }) serves wasm from your own folder.
 * ```
 */
export async function ready(options: ReadyOptions = {}): Promise<BackendName> {
  const forced =
    options.backend ?? (isNode ? (process.env.LRFREE_BACKEND as BackendName | undefined) : undefined);
  const candidates: BackendName[] = forced ? [forced] : backendCandidates();
  const threads = requestedThreads(options);
  const fma = fusedMultiplyAddAllowed(options);
  for (const name of candidates) {
    if (name === 'webgpu' && !tf.findBackendFactory('webgpu')) {
      if (forced)
        throw new LrfreeConfigError(
          "ready: backend 'webgpu' needs @tensorflow/tfjs-backend-webgpu imported first (import '@tensorflow/tfjs-backend-webgpu').",
        );
      continue;
    }
    if (name === 'tensorflow' && !tf.findBackendFactory('tensorflow')) {
      if (!(await tryRequire('@tensorflow/tfjs-node'))) {
        if (forced)
          throw new LrfreeConfigError("ready: backend 'tensorflow' needs @tensorflow/tfjs-node installed.");
        continue;
      }
    }
    const wasm = name === 'wasm' ? await loadWasm(options.wasmPaths) : null;
    if (name === 'wasm' && !wasm) {
      if (forced)
        throw new LrfreeConfigError("ready: backend 'wasm' could not load @tensorflow/tfjs-backend-wasm.");
      continue;
    }
    muteCpuBanner();
    // Before the kernels compile (the threaded start compiles them for its helper threads).
    if (wasm && !allowFusedMultiplyAdd(fma)) {
      console.error(
        `lrfree: fusedMultiplyAdd = ${fma} ignored: the wasm product was chosen earlier in this process (once per process).`,
      );
    } else if (wasm && fma) await turnOnRelaxedSimd();
    if (tf.getBackend() !== name || !tf.findBackend(name)) {
      const ok =
        wasm && !tf.findBackend('wasm')
          ? await startWasm(wasm, threads)
          : await tf.setBackend(name).catch(() => false);
      if (!ok) {
        if (forced) throw new LrfreeConfigError(`ready: backend '${name}' failed to initialise.`);
        continue;
      }
    }
    await tf.ready();
    muteCpuBanner();
    if (name === 'wasm' && options.patch !== false) patchWasm();
    if (name === 'cpu' && options.patch !== false) patchCpu();
    info =
      name === 'wasm'
        ? wasmInfo(wasm, options.patch !== false)
        : { backend: name, threads: name === 'cpu' ? 1 : undefined };
    if (!announced && !options.quiet) {
      announced = true;
      console.error(describe(info));
    }
    return name;
  }
  throw new LrfreeConfigError(
    `ready: no TF.js backend could be initialised (tried ${candidates.join(', ')}).`,
  );
}
