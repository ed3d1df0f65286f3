// Shared helpers for the real-browser tests: start the target (CONSOLE_URL
// or the mock server), launch Debian's chromium through playwright-core, and
// count results.
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';

export async function target() {
  if (process.env.CONSOLE_URL) return { url: process.env.CONSOLE_URL, close: async () => {} };
  const { startMock } = await import('../dev/mock-server.mjs');
  return startMock({ quiet: true });
}

export async function launch() {
  const executablePath = process.env.CHROMIUM_PATH || ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
  if (!executablePath) throw new Error('no chromium found (set CHROMIUM_PATH)');
  return chromium.launch({
    executablePath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Results collects named checks and prints `N passed, M failed` last. */
export class Results {
  passed = 0;
  failed = 0;
  check(name, ok, detail = '') {
    if (ok) this.passed++;
    else this.failed++;
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ` — ${detail}` : ''}`);
    return ok;
  }
  finish() {
    console.log(`${this.passed} passed, ${this.failed} failed`);
    process.exit(this.failed || !this.passed ? 1 : 0);
  }
}

export async function waitFor(fn, timeoutMs = 10_000, stepMs = 100) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
