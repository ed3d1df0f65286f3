// Shared helpers for the real-browser tests: the target (CONSOLE_URL, or a
// `modconsole demo` started here from MODCONSOLE_BIN, default ../modconsole),
// Debian's chromium through playwright-core, and counting results.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

/** demoURL resolves with the browser-mode URL a started `modconsole demo`
 * (child, its stdout piped) prints, or rejects when it exits first. */
export function demoURL(child) {
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      const m = buf.match(/browser mode at (\S+)/);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`demo exited (${code})`)));
  });
}

/** procs lists every process: pid, ppid, command name, command line (the
 * memory benchmarks find a process tree in it). */
export function procs() {
  const out = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ');
      out.push({ pid: Number(d), ppid, comm, cmd });
    } catch { /* gone */ }
  }
  return out;
}

/** startDemo runs `modconsole demo` on a free loopback port with a throwaway data dir. */
export async function startDemo(extra = []) {
  const bin = process.env.MODCONSOLE_BIN || fileURLToPath(new URL('../../modconsole', import.meta.url));
  if (!existsSync(bin)) throw new Error(`no console binary at ${bin}: run make build, or set CONSOLE_URL or MODCONSOLE_BIN`);
  const dir = mkdtempSync(join(tmpdir(), 'modconsole-e2e-'));
  const child = spawn(bin, ['demo', '--no-open', '--addr', '127.0.0.1:0', '--data', dir, ...extra], { stdio: ['ignore', 'pipe', 'ignore'] });
  const url = await demoURL(child);
  return {
    url,
    close: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => { if (child.exitCode !== null) r(); else child.on('exit', r); });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function target() {
  if (process.env.CONSOLE_URL) return { url: process.env.CONSOLE_URL, close: async () => {} };
  return startDemo();
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
