/**
 * Chromium for the browser tests, the docs' screenshot scripts and the diagnostics bench: found, installed
 * when possible, or a failure that says what to run, never a skip. Launched one way: headless, no sandbox
 * (containers), and no background network (nothing may be fetched).
 *
 * Where it is looked for, in order:
 *   1. LRFREE_CHROMIUM, then CHROME_PATH: a Chromium or Chrome binary (an error if set to anything else);
 *   2. CHROMIUM_PATHS (Debian's /usr/bin/chromium first), or the colon-separated LRFREE_CHROMIUM_PATHS.
 * When none is there, the vitest global setup (test/setup/chromium.ts) installs Debian's `chromium` with
 * apt-get if it runs as root and apt-get exists (LRFREE_CHROMIUM_INSTALL=0 forbids it); otherwise the
 * browser tests fail with the message of {@link planChromium}.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';

/** What Debian's `chromium` package installs. */
export const DEBIAN_CHROMIUM = '/usr/bin/chromium';

/** Where a system Chromium or Chrome is looked for, in order. */
export const CHROMIUM_PATHS: readonly string[] = [
  DEBIAN_CHROMIUM,
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome-stable',
  '/usr/bin/google-chrome',
  '/opt/google/chrome/chrome',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
];

/** The commands that install Debian's Chromium (as root). */
export const INSTALL_COMMANDS: readonly (readonly string[])[] = [
  ['apt-get', 'update', '-qq', '-o', 'DPkg::Lock::Timeout=300'],
  ['apt-get', 'install', '-y', '-qq', '-o', 'DPkg::Lock::Timeout=300', 'chromium'],
];

/** The environment variables that name a binary, in order of precedence. */
const PATH_VARS = ['LRFREE_CHROMIUM', 'CHROME_PATH'] as const;

/** What the decision depends on; {@link systemHost} reads it off this machine, tests make it up. */
export interface ChromiumHost {
  env: Record<string, string | undefined>;
  isExecutable: (path: string) => boolean;
  isRoot: boolean;
  hasAptGet: boolean;
}

/** What to do: use a binary, install Debian's chromium, or fail with a message that says what to run. */
export type ChromiumPlan =
  | { action: 'use'; path: string; from: string }
  | { action: 'install'; commands: readonly (readonly string[])[]; expect: string; looked: string }
  | { action: 'fail'; message: string };

/** Chromium found (its path) or not (why, and what to run). */
export type ChromiumFound = { path: string; error?: undefined } | { path?: undefined; error: string };

/** True for an existing regular file this process may execute. */
export function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** This machine: the real environment, file system, user and PATH. */
export function systemHost(env: Record<string, string | undefined> = process.env): ChromiumHost {
  const onPath = (cmd: string) =>
    (env.PATH ?? '').split(':').some((d) => d && isExecutableFile(join(d, cmd)));
  return {
    env,
    isExecutable: isExecutableFile,
    isRoot: process.getuid?.() === 0,
    hasAptGet: onPath('apt-get'),
  };
}

/** The search list: LRFREE_CHROMIUM_PATHS (colon-separated) when set, else {@link CHROMIUM_PATHS}. */
export function searchPaths(env: Record<string, string | undefined>): string[] {
  const override = env.LRFREE_CHROMIUM_PATHS;
  return override !== undefined ? override.split(':').filter(Boolean) : [...CHROMIUM_PATHS];
}

/** Decides how the browser tests get Chromium on this host. Pure: reads only `host`. */
export function planChromium(host: ChromiumHost): ChromiumPlan {
  for (const name of PATH_VARS) {
    const value = host.env[name];
    if (value === undefined || value === '') continue;
    if (host.isExecutable(value)) return { action: 'use', path: value, from: name };
    return {
      action: 'fail',
      message:
        `${name}=${value} is not an executable file. Point it at a Chromium or Chrome binary ` +
        `(e.g. ${name}=${DEBIAN_CHROMIUM}), or unset it to use the one found on the system.`,
    };
  }
  const paths = searchPaths(host.env);
  const found = paths.find((p) => host.isExecutable(p));
  if (found) return { action: 'use', path: found, from: 'the system' };
  const looked = `looked at ${PATH_VARS.join(', ')} and ${paths.join(', ') || '(no paths)'}`;
  const forbidden = host.env.LRFREE_CHROMIUM_INSTALL === '0';
  if (host.isRoot && host.hasAptGet && !forbidden) {
    return { action: 'install', commands: INSTALL_COMMANDS, expect: DEBIAN_CHROMIUM, looked };
  }
  const head = `No Chromium or Chrome found (${looked}); the browser tests (test/**/*.e2e.test.ts) need one.`;
  const alt = `or, with Chromium or Chrome installed elsewhere, run: LRFREE_CHROMIUM=/path/to/chrome npm test`;
  let message: string;
  if (!host.hasAptGet) {
    message =
      `${head} apt-get is not available here, so npm test cannot install it: install Chromium or ` +
      `Google Chrome with this system's package manager, then run: LRFREE_CHROMIUM=/path/to/chrome npm test`;
  } else if (forbidden) {
    message =
      `${head} LRFREE_CHROMIUM_INSTALL=0 forbids installing it. Run: ` +
      `${host.isRoot ? '' : 'sudo '}apt-get update && ${host.isRoot ? '' : 'sudo '}apt-get install -y chromium ` +
      `(then npm test again), ${alt}`;
  } else {
    message =
      `${head} npm test installs Debian's chromium only as root, and this is not root. Run: ` +
      `sudo apt-get update && sudo apt-get install -y chromium (then npm test again), ${alt}`;
  }
  return { action: 'fail', message };
}

/** Runs a command with its output shown; returns its exit status. */
export function runCommand(cmd: readonly string[]): number {
  const r = spawnSync(cmd[0], cmd.slice(1), {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return r.status ?? 1;
}

/**
 * Finds Chromium, installing Debian's when {@link planChromium} says so, and says what it does through
 * `log`. Never throws: a failure comes back as `error`, the message the browser tests fail with.
 */
export function ensureChromium(
  host: ChromiumHost = systemHost(),
  run: (cmd: readonly string[]) => number = runCommand,
  log: (line: string) => void = (line) => console.log(line),
): ChromiumFound {
  const plan = planChromium(host);
  if (plan.action === 'use') {
    log(`chromium: ${plan.path} (from ${plan.from})`);
    return { path: plan.path };
  }
  if (plan.action === 'fail') {
    log(`chromium: ${plan.message}`);
    return { error: plan.message };
  }
  const script = plan.commands.map((c) => c.join(' ')).join(' && ');
  log(`chromium: not found (${plan.looked}); installing Debian's chromium as root: ${script}`);
  for (const cmd of plan.commands) {
    const status = run(cmd);
    if (status !== 0) {
      const message =
        `Chromium was not found and installing it failed: '${cmd.join(' ')}' exited with ${status}. ` +
        `Run 'apt-get update && apt-get install -y chromium' and read its output, or set ` +
        `LRFREE_CHROMIUM=/path/to/chrome.`;
      log(`chromium: ${message}`);
      return { error: message };
    }
  }
  if (!host.isExecutable(plan.expect)) {
    const message = `'${script}' succeeded but ${plan.expect} is not there: set LRFREE_CHROMIUM=/path/to/chrome.`;
    log(`chromium: ${message}`);
    return { error: message };
  }
  log(`chromium: installed ${plan.expect}`);
  return { path: plan.expect };
}

/** Chromium on this machine as it is (nothing installed): for the scripts that take screenshots. */
export function findChromium(env: Record<string, string | undefined> = process.env): ChromiumFound {
  const plan = planChromium(systemHost(env));
  if (plan.action === 'use') return { path: plan.path };
  if (plan.action === 'fail') return { error: plan.message };
  return {
    error:
      `No Chromium or Chrome found (${plan.looked}). Run: ${plan.commands.map((c) => c.join(' ')).join(' && ')} ` +
      '(or npm test, which does it), or set LRFREE_CHROMIUM=/path/to/chrome.',
  };
}

const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Launches headless Chromium: the one found by the test setup (`inject('chromium')` in a test), or else
 * the one on this machine; throws the setup's message when there is none.
 */
export async function launchChromium(found: ChromiumFound = findChromium()): Promise<Browser> {
  if (found.error !== undefined) throw new Error(found.error);
  return chromium.launch({ executablePath: found.path, headless: true, args: ARGS });
}
