/**
 * Vitest global setup of the browser tests (the `browser` project of vitest.config.ts: it runs once per
 * run, and only when a browser test is in it): finds Chromium, or installs Debian's when root with
 * apt-get, printing what it does, and provides the result to the tests as `inject('chromium')`. When there
 * is none the browser tests fail with the message saying what to run; they are never skipped.
 */
import type { TestProject } from 'vitest/node';
import { type ChromiumFound, ensureChromium } from '../helpers/chromium.js';

declare module 'vitest' {
  export interface ProvidedContext {
    chromium: ChromiumFound;
  }
}

export default function setup(project: TestProject): void {
  project.provide('chromium', ensureChromium());
}
