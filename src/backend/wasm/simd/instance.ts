/**
 * Instantiates lrfree's SIMD kernels (kernels.wat) on TF.js's own wasm memory, once per memory (a re-created
 * backend has a new one). The kernels then read and write tensors where they are, by heap offset.
 */
import { KERNELS_WASM_BASE64 } from './kernels.wasm.js';
import { KERNELS_RELAXED_WASM_BASE64 } from './kernelsRelaxed.wasm.js';
import { withSharedMemoryImport } from './sharedMemory.js';

/** The module's exports (signatures in kernels.wat; pointers are byte offsets, counts are floats). */
export interface SimdKernels {
  /** Adam's moments and direction (kernels.wat); returns 1 when an element of m or v is NaN or infinite. */
  adam(
    g: number,
    m0: number,
    v0: number,
    mOut: number,
    vOut: number,
    dOut: number,
    sOut: number,
    withS: number,
    n: number,
    b1: number,
    ob1: number,
    b2: number,
    ob2: number,
    c1: number,
    c2: number,
    eps: number,
  ): number;
  bias_clamp(
    out: number,
    bias: number,
    rows: number,
    cols: number,
    biasMode: number,
    lo: number,
    hi: number,
  ): void;
  /**
   * Packs B[k, n] (B[kk, j] at byte offset b + kk * sbk + j * sbn) into panels of 8 columns at `dst`:
   * ceil(n / 8) * k * 8 floats, zeros past column n.
   */
  pack_b(b: number, dst: number, k: number, n: number, sbk: number, sbn: number): void;
  /**
   * C[m, n] (row-major, contiguous) = A @ B, A[i, kk] at byte offset a + i * sai + kk * sak, B packed by
   * `pack_b` at `p`; `scratch` is 128 free bytes.
   */
  matmul_packed(
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
  /**
   * out[i] = x[i] op y[i mod period] over n floats (y[i mod period] op x[i] when yFirst = 1); op 0 add,
   * 1 sub, 2 mul, 3 div; n a multiple of period.
   */
  binary(op: number, x: number, y: number, out: number, n: number, period: number, yFirst: number): void;
  /** out[i] = sqrt(x[i]) (op 0) or x[i] * x[i] (op 1, unused: stock Square is as fast) over n floats. */
  unary(op: number, x: number, out: number, n: number): void;
  /** out[j] = sum over i of x[i, j] for a row-major [rows, cols] x, in float32, rows in order. */
  col_sum(x: number, out: number, rows: number, cols: number): void;
  /** auto()'s pass 1: v = v0*b2 + g*g*ob2 into vOut; returns the sum of v/c2 (float32 terms, float64 sum). */
  auto_moments(g: number, v0: number, vOut: number, n: number, b2: number, ob2: number, c2: number): number;
  /** auto()'s pass 2: u = g/(sqrt(v/c2) + eps) into uOut; returns the sum of u*u (float32 terms, float64 sum). */
  auto_direction(g: number, v: number, uOut: number, n: number, c2: number, eps: number): number;
  /**
   * auto()'s pass 3 (flags: 1 scale u by 1/rms in place, 2 step z along u, 4 weight decay, 8 average x,
   * 16 y interpolates x and z): z, x, the update d = y - yNew and the committed point y - d.
   */
  auto_sf(
    u: number,
    z0: number,
    x0: number,
    y: number,
    zOut: number,
    xOut: number,
    dOut: number,
    ycOut: number,
    n: number,
    flags: number,
    rms: number,
    eta: number,
    etaWd: number,
    c: number,
    oc: number,
    beta: number,
    obeta: number,
  ): void;
  /** 1 when any of the n floats at x is NaN or infinite, else 0. */
  any_non_finite(x: number, n: number): number;
  /** The sum of the squares of the n floats at x, in float32 and in order (as stock Sum of Square). */
  sum_squares(x: number, n: number): number;
  /**
   * out[i] = a*d[i] + base[i] over n floats, the product rounded first (a Multiply then an Add); returns 1
   * when an element of out is NaN or infinite.
   */
  axpy(d: number, base: number, out: number, n: number, a: number): number;
}

/**
 * The part of the wasm backend this needs: where its memory is (exported by the single-threaded builds,
 * created in JS and imported by the threaded one).
 */
export interface BackendWithMemory {
  wasm?: { asm?: { memory?: unknown }; wasmMemory?: unknown };
}

let bytes: Uint8Array<ArrayBuffer> | undefined;
let accumulation: ProductAccumulation | undefined;
let allowRelaxed = true;
let sharedBytes: Uint8Array<ArrayBuffer> | undefined;
const instances = new WeakMap<WebAssembly.Memory, SimdKernels | null>();

const decode = (base64: string) => Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));

/**
 * The kernel module this engine runs: the one whose matrix product accumulates by relaxed SIMD's fused
 * multiply-add when the engine validates it (later V8s, Chrome; Node 20 only behind
 * `--experimental-wasm-relaxed-simd`) and it is allowed, else the mul + add one. Their products differ by
 * round-off only. Chosen once per process, at the first use.
 */
function moduleBytes(): Uint8Array<ArrayBuffer> {
  if (!bytes) {
    const relaxed = decode(KERNELS_RELAXED_WASM_BASE64);
    accumulation = allowRelaxed && WebAssembly.validate(relaxed) ? 'relaxed-madd' : 'mul-add';
    bytes = accumulation === 'relaxed-madd' ? relaxed : decode(KERNELS_WASM_BASE64);
  }
  return bytes;
}

/** How lrfree's matrix product accumulates: relaxed SIMD's fused multiply-add, or a multiply then an add. */
export type ProductAccumulation = 'relaxed-madd' | 'mul-add';

/** True when this engine validates the fused multiply-add module (whether or not it is in use). */
export function engineHasRelaxedSimd(): boolean {
  return WebAssembly.validate(decode(KERNELS_RELAXED_WASM_BASE64));
}

/**
 * Asks for the mul + add product (`false`) or allows the fused one where the engine has it (`true`, the
 * default), before the module is chosen. Returns false when it was already chosen under the other setting.
 */
export function allowFusedMultiplyAdd(allow: boolean): boolean {
  if (bytes) return allowRelaxed === allow;
  allowRelaxed = allow;
  return true;
}

/** How lrfree's matrix product accumulates on this engine (see {@link ProductAccumulation}). */
export function productAccumulation(): ProductAccumulation {
  moduleBytes();
  return accumulation!;
}

/** The module for a shared memory (TF.js's threaded build): the same code, its memory import shared. */
export function sharedModuleBytes(): Uint8Array<ArrayBuffer> {
  sharedBytes ??= withSharedMemoryImport(moduleBytes());
  return sharedBytes;
}

/**
 * The kernels for `backend`, or undefined when they cannot run there: TF.js does not expose its memory, or
 * the engine lacks wasm SIMD (or, for a shared memory, wasm threads).
 */
export function simdKernels(backend: unknown): SimdKernels | undefined {
  const wasm = (backend as BackendWithMemory | undefined)?.wasm;
  const memory = wasm?.asm?.memory ?? wasm?.wasmMemory;
  if (!(memory instanceof WebAssembly.Memory)) return undefined;
  let kernels = instances.get(memory);
  if (kernels === undefined) {
    const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    const code = shared ? sharedModuleBytes() : moduleBytes();
    kernels = WebAssembly.validate(code)
      ? (new WebAssembly.Instance(new WebAssembly.Module(code), { env: { memory } })
          .exports as unknown as SimdKernels)
      : null;
    instances.set(memory, kernels);
  }
  return kernels ?? undefined;
}
