/**
 * Debian's Chromium, launched one way by the browser tests, the docs' screenshot scripts and the
 * diagnostics bench: headless, no sandbox (containers), and no background network (nothing may be fetched).
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

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
 * Why a browser test is skipped, or undefined when it runs. It skips only when Chromium is missing and
 * the user opted out with LRFREE_SKIP_BROWSER=1; a missing Chromium alone fails (see launchChromium).
 */
export function browserSkipReason(what: string): string | undefined {
  if (existsSync(CHROMIUM) || process.env.LRFREE_SKIP_BROWSER !== '1') return undefined;
  const reason = `${CHROMIUM} is missing and LRFREE_SKIP_BROWSER=1: the ${what} is skipped.`;
  console.log(`SKIPPED: ${reason}`);
  return reason;
}

/** Launches headless Chromium, or says how to get it. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} not found: install Debian's chromium (apt-get install chromium, as .ci/run does) or set LRFREE_SKIP_BROWSER=1 to skip the browser tests.`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
}
