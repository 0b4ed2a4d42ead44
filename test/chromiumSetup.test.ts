/**
 * How `npm test` gets Chromium for the browser tests (test/helpers/chromium.ts, test/setup/chromium.ts):
 * found through the environment or the system paths, installed from Debian when root with apt-get, or a
 * failure that says exactly what to run. The decision is tested on made-up hosts, so none of this
 * installs or removes anything.
 */
import { describe, expect, it, vi } from 'vitest';
import {
  type ChromiumHost,
  DEBIAN_CHROMIUM,
  ensureChromium,
  INSTALL_COMMANDS,
  planChromium,
} from './helpers/chromium.js';
import setup from './setup/chromium.js';

/** A host whose executable files are `files` (as it is when asked); root with apt-get unless told otherwise. */
function host(files: string[], over: Partial<ChromiumHost> = {}): ChromiumHost {
  return { env: {}, isExecutable: (p) => files.includes(p), isRoot: true, hasAptGet: true, ...over };
}

describe('planChromium', () => {
  it('takes LRFREE_CHROMIUM, then CHROME_PATH, over the system paths', () => {
    const files = [DEBIAN_CHROMIUM, '/x/chrome', '/y/chrome'];
    expect(
      planChromium(host(files, { env: { LRFREE_CHROMIUM: '/x/chrome', CHROME_PATH: '/y/chrome' } })),
    ).toEqual({ action: 'use', path: '/x/chrome', from: 'LRFREE_CHROMIUM' });
    expect(planChromium(host(files, { env: { CHROME_PATH: '/y/chrome' } }))).toEqual({
      action: 'use',
      path: '/y/chrome',
      from: 'CHROME_PATH',
    });
  });

  it('fails when a variable names no executable, even with Chromium installed', () => {
    const plan = planChromium(host([DEBIAN_CHROMIUM], { env: { LRFREE_CHROMIUM: '/nope/chrome' } }));
    expect(plan.action).toBe('fail');
    expect(plan.action === 'fail' && plan.message).toMatch(
      /^LRFREE_CHROMIUM=\/nope\/chrome is not an executable/,
    );
  });

  it('searches the system paths in order, or LRFREE_CHROMIUM_PATHS instead', () => {
    expect(planChromium(host(['/usr/bin/google-chrome', '/usr/bin/chromium-browser']))).toMatchObject({
      action: 'use',
      path: '/usr/bin/chromium-browser',
    });
    const env = { LRFREE_CHROMIUM_PATHS: '/a/chromium:/b/chromium' };
    expect(planChromium(host([DEBIAN_CHROMIUM, '/b/chromium'], { env }))).toMatchObject({
      path: '/b/chromium',
    });
    // The override replaces the list: Debian's path is not searched then.
    expect(planChromium(host([DEBIAN_CHROMIUM], { env })).action).toBe('install');
  });

  it("installs Debian's chromium when none is found and it runs as root with apt-get", () => {
    expect(planChromium(host([]))).toEqual({
      action: 'install',
      commands: INSTALL_COMMANDS,
      expect: DEBIAN_CHROMIUM,
      looked: expect.stringContaining(DEBIAN_CHROMIUM),
    });
    expect(INSTALL_COMMANDS.map((c) => c.join(' '))).toEqual([
      'apt-get update -qq -o DPkg::Lock::Timeout=300',
      'apt-get install -y -qq -o DPkg::Lock::Timeout=300 chromium',
    ]);
  });

  it('otherwise fails with exactly what to run', () => {
    const notRoot = planChromium(host([], { isRoot: false }));
    expect(notRoot.action).toBe('fail');
    const m1 = notRoot.action === 'fail' ? notRoot.message : '';
    expect(m1).toContain('sudo apt-get update && sudo apt-get install -y chromium');
    expect(m1).toContain('LRFREE_CHROMIUM=/path/to/chrome npm test');
    expect(m1).toContain('not root');

    const noApt = planChromium(host([], { hasAptGet: false }));
    const m2 = noApt.action === 'fail' ? noApt.message : '';
    expect(m2).toMatch(
      /apt-get is not available.*package manager.*LRFREE_CHROMIUM=\/path\/to\/chrome npm test/,
    );

    const forbidden = planChromium(host([], { env: { LRFREE_CHROMIUM_INSTALL: '0' } }));
    const m3 = forbidden.action === 'fail' ? forbidden.message : '';
    expect(m3).toContain('LRFREE_CHROMIUM_INSTALL=0 forbids');
    expect(m3).toContain('Run: apt-get update && apt-get install -y chromium');
    for (const m of [m1, m2, m3])
      expect(m).toMatch(/^No Chromium or Chrome found \(looked at LRFREE_CHROMIUM, CHROME_PATH and /);
  });
});

describe('ensureChromium', () => {
  it('installs once, says what it does, and uses the installed binary', () => {
    const files: string[] = [];
    const ran: string[] = [];
    const lines: string[] = [];
    const found = ensureChromium(
      host(files),
      (cmd) => {
        ran.push(cmd.join(' '));
        if (cmd[1] === 'install') files.push(DEBIAN_CHROMIUM);
        return 0;
      },
      (l) => lines.push(l),
    );
    expect(found).toEqual({ path: DEBIAN_CHROMIUM });
    expect(ran).toEqual(INSTALL_COMMANDS.map((c) => c.join(' ')));
    expect(lines[0]).toMatch(
      /^chromium: not found .*; installing Debian's chromium as root: apt-get update .* && apt-get install /,
    );
    expect(lines.at(-1)).toBe(`chromium: installed ${DEBIAN_CHROMIUM}`);
  });

  it('returns the failure, with what to run, when an install command fails or installs nothing', () => {
    const ran: string[] = [];
    const failed = ensureChromium(
      host([]),
      (cmd) => {
        ran.push(cmd[1]);
        return 100;
      },
      () => {},
    );
    expect(ran).toEqual(['update']);
    expect(failed.error).toMatch(
      /'apt-get update .*' exited with 100\. Run 'apt-get update && apt-get install -y chromium'/,
    );
    const nothing = ensureChromium(
      host([]),
      () => 0,
      () => {},
    );
    expect(nothing.error).toMatch(/succeeded but \/usr\/bin\/chromium is not there/);
  });

  it('never runs an installer as a non-root user, and says so', () => {
    let ran = 0;
    const lines: string[] = [];
    const found = ensureChromium(
      host([], { isRoot: false }),
      () => {
        ran += 1;
        return 0;
      },
      (l) => lines.push(l),
    );
    expect(ran).toBe(0);
    expect(found.path).toBeUndefined();
    expect(found.error).toContain('sudo apt-get install -y chromium');
    expect(lines).toEqual([`chromium: ${found.error}`]);
  });
});

describe('the global setup on this machine', () => {
  it('provides the failure when the search paths hold nothing and installing is forbidden', () => {
    const vars = {
      LRFREE_CHROMIUM: undefined,
      CHROME_PATH: undefined,
      LRFREE_CHROMIUM_PATHS: '/nonexistent/lrfree/chromium',
      LRFREE_CHROMIUM_INSTALL: '0',
    };
    const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
    const set = (values: Record<string, string | undefined>) => {
      for (const [k, v] of Object.entries(values)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    };
    const provided: Record<string, unknown> = {};
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    let printed: unknown[][] = [];
    try {
      set(vars);
      setup({ provide: (k: string, v: unknown) => (provided[k] = v) } as never);
    } finally {
      set(saved);
      printed = [...log.mock.calls];
      log.mockRestore();
    }
    // It says so when it runs, not only when a browser test fails.
    expect(printed).toEqual([[`chromium: ${(provided.chromium as { error: string }).error}`]]);
    expect(provided.chromium).toEqual({ error: expect.stringContaining('/nonexistent/lrfree/chromium') });
    expect((provided.chromium as { error: string }).error).toMatch(/No Chromium or Chrome found .*Run: /);
  });
});
