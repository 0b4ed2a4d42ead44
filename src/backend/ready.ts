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
}

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
async function loadWasm(wasmPaths: ReadyOptions['wasmPaths']): Promise<boolean> {
  if (tf.findBackendFactory('wasm') && wasmPaths === undefined) return true;
  try {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    if (wasmPaths !== undefined) {
      if (typeof wasmPaths === 'string') wasm.setWasmPaths(wasmPaths);
      else wasm.setWasmPaths(wasmPaths);
    }
    return tf.findBackendFactory('wasm') !== null;
  } catch {
    return false;
  }
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
 * Initialises TF.js on the best available backend and returns its name.
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
    if (name === 'wasm' && !(await loadWasm(options.wasmPaths))) {
      if (forced)
        throw new LrfreeConfigError("ready: backend 'wasm' could not load @tensorflow/tfjs-backend-wasm.");
      continue;
    }
    muteCpuBanner();
    if (tf.getBackend() !== name || !tf.findBackend(name)) {
      const ok = await tf.setBackend(name).catch(() => false);
      if (!ok) {
        if (forced) throw new LrfreeConfigError(`ready: backend '${name}' failed to initialise.`);
        continue;
      }
    }
    await tf.ready();
    muteCpuBanner();
    if (name === 'wasm' && options.patch !== false) patchWasm();
    if (name === 'cpu' && options.patch !== false) patchCpu();
    if (!announced && !options.quiet) {
      announced = true;
      console.error(`lrfree: using TF.js backend '${name}'`);
    }
    return name;
  }
  throw new LrfreeConfigError(
    `ready: no TF.js backend could be initialised (tried ${candidates.join(', ')}).`,
  );
}
