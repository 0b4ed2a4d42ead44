/**
 * The shared-memory twin of a compiled kernel module. lrfree's kernels import TF.js's memory as
 * `(memory 0)`; TF.js's threaded build has a shared memory, which only an import declared
 * `(memory 0 MAX shared)` accepts. Rather than keep two .wat files in step, the binary's import section is
 * rewritten at load: same module, memory limits flag 0x03 (has max, shared), max 65536 pages (4 GiB, the
 * most wasm32 allows, so any shared memory TF.js makes fits under it).
 */

/** Most pages a wasm32 memory can have. */
const MAX_PAGES = 65536;

function readLeb(bytes: Uint8Array, at: number): [value: number, next: number] {
  let value = 0;
  let shift = 0;
  let i = at;
  for (;;) {
    const b = bytes[i++];
    value += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if ((b & 0x80) === 0) return [value, i];
  }
}

function leb(value: number): number[] {
  const out: number[] = [];
  let v = value;
  do {
    let b = v & 0x7f;
    v = Math.floor(v / 128);
    if (v > 0) b |= 0x80;
    out.push(b);
  } while (v > 0);
  return out;
}

/**
 * `bytes` (a wasm module) with every imported memory declared shared with max {@link MAX_PAGES}; other
 * imports (functions, tables, globals) are copied as they are. Throws on an import kind it cannot read.
 */
export function withSharedMemoryImport(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const out: number[] = Array.from(bytes.subarray(0, 8)); // magic and version
  let at = 8;
  while (at < bytes.length) {
    const id = bytes[at];
    const [size, start] = readLeb(bytes, at + 1);
    const end = start + size;
    if (id !== 2) {
      out.push(...bytes.subarray(at, end));
    } else {
      const body: number[] = [];
      let [count, p] = readLeb(bytes, start);
      body.push(...leb(count));
      for (; count > 0; count--) {
        const from = p;
        for (let name = 0; name < 2; name++) {
          const [len, q] = readLeb(bytes, p);
          p = q + len;
        }
        const kind = bytes[p++];
        body.push(...bytes.subarray(from, p));
        if (kind === 2) {
          const flags = bytes[p++];
          const [min, q] = readLeb(bytes, p);
          p = q;
          if (flags & 1) p = readLeb(bytes, p)[1];
          body.push(0x03, ...leb(min), ...leb(MAX_PAGES));
        } else if (kind === 0) {
          const q = readLeb(bytes, p)[1];
          body.push(...bytes.subarray(p, q));
          p = q;
        } else {
          throw new Error(`withSharedMemoryImport: import kind ${kind} is not handled.`);
        }
      }
      out.push(2, ...leb(body.length), ...body);
    }
    at = end;
  }
  return Uint8Array.from(out);
}
