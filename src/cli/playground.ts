/**
 * `lrfree playground`: serves the built browser playground (web/dist, built by `npm run web:build`) on
 * localhost with node:http and prints its address. Static files only; nothing leaves the machine.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';

/** Content types of the files Vite emits. */
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * The built page's folder: `web/dist` at the package root. This file lives in `src/cli/` (tsx) or
 * `dist/cli/` (built), two levels below the root either way.
 */
export function defaultPlaygroundDir(): string {
  return fileURLToPath(new URL('../../web/dist', import.meta.url));
}

/** Options of {@link servePlayground}. */
export interface ServeOptions {
  /** Folder holding index.html and assets/. Default {@link defaultPlaygroundDir}. */
  dir?: string;
  /** Port; 0 picks a free one. Default 5180. */
  port?: number;
  /** Interface to listen on. Default 127.0.0.1 (this machine only). */
  host?: string;
}

/** A running playground server. */
export interface PlaygroundServer {
  /** e.g. `http://127.0.0.1:5180/` */
  url: string;
  server: Server;
  close(): Promise<void>;
}

/**
 * Serves the built playground from `dir` over HTTP: GET/HEAD only, paths confined to `dir` (a request
 * that escapes it gets 404), `/` is index.html.
 *
 * @example
 * ```ts
 * // no-run: needs the built playground (npm run web:build) and opens a port
 * const { url, close } = await servePlayground({ port: 0 });
 * console.log(url); // http://127.0.0.1:41237/
 * await close();
 * ```
 */
export async function servePlayground(options: ServeOptions = {}): Promise<PlaygroundServer> {
  const root = resolve(options.dir ?? defaultPlaygroundDir());
  if (!existsSync(join(root, 'index.html'))) {
    throw new Error(
      `no built playground in ${root} (index.html missing). Build it first: npm run web:build ` +
        '(or npx vite build --config web/vite.config.ts).',
    );
  }
  const host = options.host ?? '127.0.0.1';
  const server = createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    } catch {
      res.writeHead(400).end('bad request');
      return;
    }
    const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
    if ((file !== root && !file.startsWith(root + sep)) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found');
      return;
    }
    const body = readFileSync(file);
    res.writeHead(200, {
      'Content-Type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'Content-Length': body.length,
      'Cache-Control': 'no-cache',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 5180, host, () => ok());
  });
  const { port } = server.address() as AddressInfo;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}/`,
    server,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}

/**
 * Adds `lrfree playground [--port n] [--host h] [--dir d]` to the command line: serves the built page and
 * prints its address until interrupted.
 */
export function registerPlaygroundCommand(program: Command): void {
  program
    .command('playground')
    .description(
      'Serve the browser playground (optimizers choosing their own step sizes, live) on localhost and print its address.',
    )
    .option('-p, --port <n>', 'port (0 = any free port)', (v) => Number.parseInt(v, 10), 5180)
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--dir <dir>', 'folder of the built page (default: web/dist of this package)')
    .action(async (opts: { port: number; host: string; dir?: string }) => {
      if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) {
        throw new Error(`--port must be an integer in [0, 65535]; got ${opts.port}.`);
      }
      const { url } = await servePlayground(opts);
      console.log(`lrfree playground: ${url}`);
      console.log('(Ctrl+C to stop)');
    });
}
