/**
 * Where the code runs, and Node modules loaded at call time. Browser-safe modules (everything the root entry
 * `lrfree` reaches) import no Node built-in statically; the few Node-only methods they carry (e.g.
 * `AlraoModel.save`, `io.fileSystem`, the tfjs-node probe of `ready()`) load what they need here, through a
 * specifier bundlers do not follow, so a browser build neither bundles nor warns about Node modules. In a
 * browser those methods throw a clear error instead.
 */
import { LrfreeConfigError } from './validate.js';

/** True under Node.js (also Bun/Deno with Node compatibility). */
export const isNode: boolean = typeof process !== 'undefined' && !!process.versions?.node;

/**
 * Writes one line of progress where the user sees it: stderr under Node (stdout stays for results), the
 * console elsewhere (a browser has no process.stderr).
 */
export function logLine(line: string, stderr: { write(s: string): unknown } | null = nodeStderr()): void {
  if (stderr) stderr.write(`${line}\n`);
  else console.log(line);
}

function nodeStderr(): { write(s: string): unknown } | null {
  return typeof process !== 'undefined' && typeof process.stderr?.write === 'function'
    ? process.stderr
    : null;
}

/**
 * Imports `specifier` (a Node built-in such as `node:fs`, or an optional package) at call time. `what`
 * names the caller in the error thrown outside Node.
 */
export async function nodeImport<T>(specifier: string, what: string): Promise<T> {
  if (!isNode) {
    throw new LrfreeConfigError(`${what} needs Node.js (it uses ${specifier}), and this is not Node.js.`);
  }
  const spec = specifier;
  return (await import(/* @vite-ignore */ /* webpackIgnore: true */ spec)) as T;
}

/** The part of `node:fs` lrfree's Node-only methods use (declared here: browser-safe code names no Node type). */
export interface NodeFs {
  mkdirSync(path: string, options: { recursive: boolean }): unknown;
  writeFileSync(path: string, data: string | Uint8Array): void;
  readFileSync(path: string, encoding: 'utf8'): string;
  readFileSync(path: string): Uint8Array;
}

/** The part of `node:path` lrfree's Node-only methods use. */
export interface NodePath {
  join(...parts: string[]): string;
}

/** `node:fs` and `node:path`, loaded at call time; `what` names the caller in the error outside Node. */
export async function nodeFiles(what: string): Promise<{ fs: NodeFs; path: NodePath }> {
  const [fs, path] = await Promise.all([
    nodeImport<NodeFs>('node:fs', what),
    nodeImport<NodePath>('node:path', what),
  ]);
  return { fs, path };
}
