// Whole-app memory with the demo's thirteen channels after DURATION seconds
// (default 300), desktop next to browser mode:
//   desktop: the Wails binary's `demo --window` under Xvfb (private D-Bus
//            session): the Go process and its WebKit web and network
//            processes (the whole process tree);
//   browser: the plain binary's `demo` and Debian's chromium showing it:
//            the Go process plus the page's renderer process (and, for
//            reference, every chromium process).
// RSS counts shared pages in each process; PSS shares them out, so the PSS
// sum is the tree's real footprint. Run by `make bench`.
//
//   node frontend/e2e/memory.bench.mjs ./modconsole build/bin/modconsole [DURATION]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch, procs } from './lib.mjs';

const [plainBin = './modconsole', desktopBin = 'build/bin/modconsole', durArg] = process.argv.slice(2);
const duration = Number(durArg || process.env.MEMORY_DURATION || 300);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** tree returns pid and its descendants. */
function tree(pid, all = procs()) {
  const ids = new Set([pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const p of all) if (!ids.has(p.pid) && ids.has(p.ppid)) { ids.add(p.pid); grew = true; }
  }
  return all.filter((p) => ids.has(p.pid));
}
/** mem returns RSS and PSS of a process in MiB (smaps_rollup). */
function mem(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kb = (k) => Number((s.match(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm')) || [0, 0])[1]);
    return { rss: kb('Rss') / 1024, pss: kb('Pss') / 1024 };
  } catch {
    return { rss: 0, pss: 0 };
  }
}
const fmt = (x) => x.toFixed(1).padStart(7);
function report(title, rows) {
  console.log(`\n${title}`);
  let rss = 0, pss = 0;
  for (const r of rows) {
    const m = mem(r.pid);
    rss += m.rss; pss += m.pss;
    console.log(`  ${r.label.padEnd(34)} pid ${String(r.pid).padStart(7)}  RSS ${fmt(m.rss)} MiB  PSS ${fmt(m.pss)} MiB`);
  }
  console.log(`  ${'total'.padEnd(46)}  RSS ${fmt(rss)} MiB  PSS ${fmt(pss)} MiB`);
  return { rss, pss };
}
function waitLine(child, re, ms) {
  return new Promise((resolve, reject) => {
    let buf = '';
    const t = setTimeout(() => reject(new Error(`no ${re} within ${ms} ms`)), ms);
    child.stdout.on('data', (d) => {
      buf += d;
      const m = buf.match(re);
      if (m) { clearTimeout(t); resolve(m); }
    });
    child.on('exit', (code) => reject(new Error(`exited (${code})`)));
  });
}
function stop(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.on('exit', resolve);
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5000);
  });
}

const results = {};
console.log(`memory.bench: whole-app memory after ${duration} s of the demo (13 channels, ~14 msg/s)`);

// Desktop: the window under Xvfb on a private D-Bus session.
{
  const dir = mkdtempSync(join(tmpdir(), 'modconsole-mem-desktop-'));
  let appPid = 0;
  const child = spawn('dbus-run-session', ['--', 'xvfb-run', '-a', '-s', '-screen 0 1400x900x24',
    desktopBin, 'demo', '--window', '--test-debug', '--data', dir], { stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    await waitLine(child, /test endpoint at/, 60_000);
    await sleep(duration * 1000);
    const all = procs();
    const app = tree(child.pid, all).find((p) => p.comm === 'modconsole');
    if (!app) throw new Error('the desktop process was not found');
    appPid = app.pid;
    const rows = tree(app.pid, all).map((p) => ({ pid: p.pid, label: p.pid === app.pid ? 'modconsole (Go, GTK main)' : p.comm }));
    results.desktop = report('desktop (Wails + WebKitGTK): the app process tree', rows);
  } finally {
    // Stop the app itself (xvfb-run and dbus-run-session do not pass the
    // signal on), then its wrappers.
    if (appPid) {
      try { process.kill(appPid, 'SIGTERM'); } catch { /* gone */ }
      for (let i = 0; i < 50 && procs().some((p) => p.pid === appPid); i++) await sleep(100);
    }
    child.stdout.destroy();
    await stop(child);
    rmSync(dir, { recursive: true, force: true });
  }
}

// Browser mode: the plain binary and chromium's renderer of the page.
{
  const dir = mkdtempSync(join(tmpdir(), 'modconsole-mem-browser-'));
  const child = spawn(plainBin, ['demo', '--no-open', '--addr', '127.0.0.1:0', '--data', dir], { stdio: ['ignore', 'pipe', 'ignore'] });
  const browser = await launch();
  try {
    const [, url] = await waitLine(child, /browser mode at (\S+)/, 60_000);
    const page = await browser.newPage({ viewport: { width: 1300, height: 820 } });
    await page.goto(url);
    await sleep(duration * 1000);
    const all = procs();
    // playwright starts chromium as a child of this node process.
    const chrome = tree(process.pid, all).filter((p) => p.pid !== process.pid && /chrom/i.test(p.comm + ' ' + p.cmd.split(' ')[0]));
    // The page's renderer is the biggest one; chromium keeps a spare and
    // auxiliary renderers beside it (listed in the reference table).
    const renderers = chrome.filter((p) => p.cmd.includes('--type=renderer')).sort((a, b) => mem(b.pid).pss - mem(a.pid).pss);
    const rows = [{ pid: child.pid, label: 'modconsole (Go)' }, ...renderers.slice(0, 1).map((p) => ({ pid: p.pid, label: 'chromium renderer of the page' }))];
    results.browser = report('browser mode: the Go process + the page\'s chromium renderer', rows);
    results.chromiumAll = report('  for reference, every chromium process', chrome.map((p) => ({ pid: p.pid, label: `chromium ${(p.cmd.match(/--type=(\S+)/) || [0, 'browser'])[1]}` })));
  } finally {
    await browser.close().catch(() => {});
    await stop(child);
    rmSync(dir, { recursive: true, force: true });
  }
}
const r = (a, b) => (b ? (a / b).toFixed(2) : 'n/a');
console.log(`\nmemory.bench: desktop PSS ${results.desktop.pss.toFixed(1)} MiB vs browser mode (Go + renderer) ${results.browser.pss.toFixed(1)} MiB: ${r(results.desktop.pss, results.browser.pss)}×; RSS ${results.desktop.rss.toFixed(1)} vs ${results.browser.rss.toFixed(1)} MiB`);
