// P4's browser half: 100 channels at about 2,000 msg/s for P4_DURATION
// (default 10m; `10m`, `1h`, `1h30m`, `90s` or plain seconds) in a real
// browser. Starts `modconsole demo --channels 100 --traffic X` (P4_CHANNELS,
// P4_TRAFFIC; X defaults to what gives about 2,000 msg/s: see below),
// opens it in Debian's chromium through playwright-core and leaves it on
// what a moderator watches during a raid: the busiest channel (Velora
// "lumen", 3 steps/s per unit of traffic, the demo's busiest) with its
// queue and its chat side by side ("All queues" is the merged queue only,
// without a chat). Every channel's messages reach the page (its per-channel
// windows of 1,000 rows: 100,000 messages at 100 channels); only the
// selected channel's chat and queue are rendered, in virtual lists.
//
// Every P4_SAMPLE_S (5) seconds: a forced garbage collection in the page
// (CDP HeapProfiler.collectGarbage), so the heap figure is live memory, then
// CDP Performance.getMetrics (Nodes, JSHeapUsedSize, JSHeapTotalSize,
// Documents, JSEventListeners), the rows the two virtual lists hold and
// have in the DOM, elements per region of the page, the open queue items of
// every channel (the server's count the sidebar shows), VmRSS of the Go
// console process (/proc/PID/status), VmRSS of the simulators' process for
// reference, and RSS and PSS of the page's chromium renderer (the biggest
// renderer: smaps_rollup). The demo runs with --sims-process: the five
// simulators in a child process (`modconsole demo-sims`), so that the Go
// figure is the console's alone; the whole app is console + renderer.
// P4_SIMS_INPROCESS=1 runs them in the console's process as before (its
// Go figure then holds the simulators too). The first half is warm-up
// (P4_WARMUP overrides); growth is the least-squares slope of the samples
// after it, as in BenchmarkP4Memory. "DOM nodes bounded by the visible
// rows": the lists' rows in the DOM never exceed what their viewport fits
// plus the overscan, and the document's elements stay within ±5% after
// warm-up (CDP's Nodes, which also counts text and detached nodes, is
// reported beside). Before the console's page loads, the same page sits
// on about:blank, and its renderer's RSS and PSS then are chromium's floor
// in this run: what any page costs in this browser before a line of ours.
// P4_VERBOSE=1 prints every sample as JSON.
//
// Traffic: at --channels 100 the demo's own 13 channels make about 14 steps
// per second per unit of --traffic and the 87 extra ones 1 each, about 101
// in all; 20 gave 1,742 to 1,938 msg/s at the page here, with other
// benchmarks on the machine, so the default is 21 (the rate the page
// received is printed: it is the load the figures were taken at).
//
//   node frontend/e2e/p4.bench.mjs ./modconsole
//   P4_DURATION=1h node frontend/e2e/p4.bench.mjs ./modconsole
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoURL, launch, procs } from './lib.mjs';

/** seconds parses `10m`, `1h`, `1h30m`, `90s`, `500ms` or a plain number of seconds. */
function seconds(s, name) {
  const v = String(s).trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v);
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
  let total = 0, used = 0, m;
  while ((m = re.exec(v))) {
    total += Number(m[1]) * { h: 3600, m: 60, s: 1, ms: 0.001 }[m[2]];
    used += m[0].length;
  }
  if (!v || used !== v.length) throw new Error(`${name}=${s}: want a duration like 10m, 1h, 90s or a number of seconds`);
  return total;
}

const bin = process.argv[2] || './modconsole';
const channels = Number(process.env.P4_CHANNELS || 100);
const traffic = process.env.P4_TRAFFIC || '21';
const targetRate = 2000;
const duration = seconds(process.env.P4_DURATION || '10m', 'P4_DURATION');
const warmup = process.env.P4_WARMUP ? seconds(process.env.P4_WARMUP, 'P4_WARMUP') : duration / 2;
const every = seconds(process.env.P4_SAMPLE_S || '5', 'P4_SAMPLE_S');
const busiest = process.env.P4_CHANNEL || 'lumen';
const simsApart = !process.env.P4_SIMS_INPROCESS;
const MB = 1 << 20;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** descendants returns the processes under pid. */
function descendants(pid, all = procs()) {
  const ids = new Set([pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const p of all) if (!ids.has(p.pid) && ids.has(p.ppid)) { ids.add(p.pid); grew = true; }
  }
  return all.filter((p) => p.pid !== pid && ids.has(p.pid));
}
/** vmRSS is VmRSS of pid in MiB (0 when it is gone). */
function vmRSS(pid) {
  try {
    const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
    return m ? Number(m[1]) / 1024 : 0;
  } catch { return 0; }
}
/** cpuSeconds is the CPU time (user + system) pid has used, in seconds (0 when it is gone). */
function cpuSeconds(pid) {
  try {
    // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // USER_HZ is 100 on Linux
  } catch { return 0; }
}
/** smaps returns RSS and PSS of pid in MiB (smaps_rollup). */
function smaps(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kb = (k) => Number((s.match(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm')) || [0, 0])[1]);
    return { rss: kb('Rss') / 1024, pss: kb('Pss') / 1024 };
  } catch { return { rss: 0, pss: 0 }; }
}
/** renderer is the page's chromium renderer: the biggest renderer process under this node process. */
function renderer() {
  const r = descendants(process.pid).filter((p) => p.cmd.includes('--type=renderer'))
    .map((p) => ({ pid: p.pid, ...smaps(p.pid) })).sort((a, b) => b.pss - a.pss);
  return r[0] || { pid: 0, rss: 0, pss: 0 };
}
/** slope is the least-squares slope of y over the samples' minutes. */
function slope(s, y) {
  if (s.length < 2) return 0;
  let st = 0, sy = 0, stt = 0, sty = 0;
  for (const p of s) { const t = p.t / 60; st += t; sy += y(p); stt += t * t; sty += t * y(p); }
  const n = s.length, d = n * stt - st * st;
  return d === 0 ? 0 : (n * sty - st * sy) / d;
}
const f1 = (x) => x.toFixed(1);

const dir = mkdtempSync(join(tmpdir(), 'modconsole-p4-'));
const child = spawn(bin, ['demo', '--no-open', '--addr', '127.0.0.1:0', '--data', dir, '--channels', String(channels), '--traffic', traffic,
  ...(simsApart ? ['--sims-process'] : [])], { stdio: ['ignore', 'pipe', 'ignore'] });
const url = await demoURL(child);
/** simsPid is the simulators' process under the demo (--sims-process), or 0. */
const simsPid = simsApart ? (descendants(child.pid).find((p) => p.cmd.includes('demo-sims'))?.pid ?? 0) : 0;
if (simsApart && !simsPid) throw new Error('demo --sims-process: no demo-sims process under the demo');
const browser = await launch();
try {
  const page = await browser.newPage({ viewport: { width: 1300, height: 820 } });
  // Count what the event stream carries (messages, and those the server
  // dropped for a slow page): a counter, nothing retained.
  await page.addInitScript(() => {
    const w = window;
    w.__p4 = { messages: 0 };
    const Native = w.WebSocket;
    w.WebSocket = class extends Native {
      constructor(...args) {
        super(...args);
        this.addEventListener('message', (ev) => {
          if (typeof ev.data !== 'string' || !ev.data.includes('"messages"')) return;
          const msg = JSON.parse(ev.data);
          w.__p4.messages += (msg?.data?.messages?.length ?? 0) + (msg?.data?.dropped ?? 0);
        });
      }
    };
  });
  // Chromium's floor, measured in this run: every renderer on about:blank,
  // before the console's page loads. The page keeps its renderer across
  // that navigation, so the renderer the samples pick below is one of
  // these, and its figure here is what chromium costs with no page of ours.
  await page.goto('about:blank');
  await sleep(2000);
  const blank = new Map(descendants(process.pid).filter((p) => p.cmd.includes('--type=renderer')).map((p) => [p.pid, smaps(p.pid)]));
  await page.goto(url);
  const chan = page.locator('[data-testid=channel]');
  const t0 = Date.now();
  while ((await chan.count()) < channels) {
    if (Date.now() - t0 > 120_000) throw new Error(`only ${await chan.count()} of ${channels} channels in the sidebar after 2 minutes`);
    await sleep(500);
  }
  await chan.filter({ has: page.locator('.chan-name', { hasText: new RegExp(`^${busiest}$`) }) }).first().click();
  await page.locator('.chat-list').waitFor({ timeout: 30_000 });
  // Off the lists, so that the chat is not paused under the pointer.
  await page.mouse.move(5, 5);

  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const lists = () => page.evaluate(() => {
    const one = (cls) => {
      const el = document.querySelector(`.${cls}`);
      if (!el) return { dom: 0, held: 0, fits: 0 };
      const row = el.querySelector('.vrow');
      const rh = row ? parseFloat(row.style.height) : 0;
      const spacer = el.querySelector('.vlist-spacer');
      const held = rh ? Math.round(parseFloat(spacer?.style.height || '0') / rh) : 0;
      return { dom: el.querySelectorAll('.vrow').length, held, fits: rh ? Math.ceil(el.clientHeight / rh) + 1 : 0 };
    };
    // The server's count of open queue items in every channel (the "All
    // queues" badge); the page keeps only the queue view's loaded pages and a
    // bounded window of the newest (state/store.ts, boundQueue).
    const open = Number((document.querySelector('[data-testid=all-queues] .badge')?.textContent || '0').replace(/\D/g, '')) || 0;
    // Elements per region, to say where a change in the node count is.
    const n = (sel) => document.querySelectorAll(sel).length;
    const regions = { all: n('*'), sidebar: n('.sidebar *'), chat: n('.chat-list *'), queue: n('.queue-list *'), main: n('.main *'), toasts: n('.toasts *') };
    return { chat: one('chat-list'), queue: one('queue-list'), messages: window.__p4.messages, open, regions };
  });

  console.log(`P4b browser: ${channels} channels, --traffic ${traffic}, ${duration} s (warm-up ${warmup} s), a sample every ${every} s, page on ${busiest} (queue + chat), simulators ${simsApart ? 'in their own process (--sims-process)' : "in the console's process"}`);
  const samples = [];
  const start = Date.now();
  for (let k = 0; ; k++) {
    const due = start + k * every * 1000;
    if (due > start + duration * 1000) break;
    await sleep(Math.max(0, due - Date.now()));
    await cdp.send('HeapProfiler.collectGarbage');
    const { metrics } = await cdp.send('Performance.getMetrics');
    const m = Object.fromEntries(metrics.map((x) => [x.name, x.value]));
    const l = await lists();
    const r = renderer();
    const s = {
      t: (Date.now() - start) / 1000, nodes: m.Nodes, heap: m.JSHeapUsedSize / MB, heapTotal: m.JSHeapTotalSize / MB,
      docs: m.Documents, listeners: m.JSEventListeners, chat: l.chat, queue: l.queue, messages: l.messages, open: l.open, regions: l.regions,
      go: vmRSS(child.pid), goCPU: cpuSeconds(child.pid), sims: simsPid ? vmRSS(simsPid) : 0, rend: r.rss, rendPss: r.pss, rendPid: r.pid,
    };
    samples.push(s);
    if (process.env.P4_VERBOSE) console.log(JSON.stringify(s));
  }

  const after = samples.filter((s) => s.t >= warmup);
  const before = samples.filter((s) => s.t < warmup);
  if (!after.length || !before.length) throw new Error(`too few samples (${samples.length}) for a warm-up of ${warmup} s in ${duration} s`);
  const w = before[before.length - 1]; // the end of warm-up
  const e = samples[samples.length - 1];
  const max = (xs, y) => Math.max(...xs.map(y));
  const rate = (e.messages - w.messages) / (e.t - w.t);
  const nodesMax = max(samples, (s) => s.nodes);
  // Bounded: the rows of both virtual lists in the DOM never exceed what
  // their viewport fits plus the overscan (4 above, 4 below), and the
  // document's elements after warm-up stay within ±5% of their count at its
  // end. CDP's Nodes counts every DOM node object alive in the renderer: text
  // nodes too, and rows just replaced that a sample can catch before they are
  // collected (spikes of about 1,300 here), so it is reported as median and
  // max, the median of the warm-up's second half next to the median after it.
  const median = (xs) => { const v = [...xs].sort((a, b) => a - b); return v[Math.floor(v.length / 2)]; };
  const elW = w.regions.all, elLo = Math.min(...after.map((s) => s.regions.all)), elHi = Math.max(...after.map((s) => s.regions.all));
  const elOK = elLo >= 0.95 * elW && elHi <= 1.05 * elW;
  const nodesMedWarm = median(before.slice(Math.floor(before.length / 2)).map((s) => s.nodes)), nodesMedAfter = median(after.map((s) => s.nodes));
  const top = after.reduce((a, s) => (s.nodes > a.nodes ? s : a));
  const where = (s) => `sidebar ${s.regions.sidebar}, chat list ${s.regions.chat}, queue list ${s.regions.queue}, rest of main ${s.regions.main - s.regions.chat - s.regions.queue}, toasts ${s.regions.toasts}`;
  const rowsOK = samples.every((s) => s.chat.dom <= s.chat.fits + 8 && s.queue.dom <= s.queue.fits + 8);
  const heapSlope = slope(after, (s) => s.heap);
  const goPeak = max(samples, (s) => s.go), goSlope = slope(after, (s) => s.go);
  const rendPeak = max(samples, (s) => s.rend), rendSlope = slope(after, (s) => s.rend);
  const whole = max(samples, (s) => s.go + s.rend), wholePss = max(samples, (s) => s.go + s.rendPss);
  const wholeSlope = slope(after, (s) => s.go + s.rend);
  const atRate = rate >= 0.9 * targetRate;
  const met = (ok) => (ok ? 'met' : 'NOT met');
  console.log(`P4b load: ${f1(rate)} msg/s received by the page after warm-up (${e.messages} messages in ${f1(e.t)} s in all)${atRate ? '' : ` — under 90% of ${targetRate}: the figures are not at the target's load (P4_TRAFFIC=${traffic})`}`);
  console.log(`P4b DOM: document elements ${elW} at the end of warm-up, ${elLo}–${elHi} after it (${elOK ? 'within' : 'OUTSIDE'} ±5%; ${where(e)} at the end); ` +
    `chat list ${e.chat.dom} rows in the DOM of ${e.chat.held} held (max ${max(samples, (s) => s.chat.dom)}, its viewport fits ${e.chat.fits}), ` +
    `queue list ${e.queue.dom} of ${e.queue.held} (max ${max(samples, (s) => s.queue.dom)}, fits ${e.queue.fits}); rows within viewport + 8 overscan: ${rowsOK ? 'always' : 'NOT always'}; ` +
    `CDP Nodes median ${nodesMedWarm} in the warm-up's second half, ${nodesMedAfter} after it, max ${nodesMax} (at ${f1(top.t)} s); documents ${max(samples, (s) => s.docs)} max, event listeners ${w.listeners} → ${e.listeners} ` +
    `(target: DOM nodes bounded by the visible rows: ${met(elOK && rowsOK)})`);
  console.log(`P4b JS heap (live, after a forced GC) after warm-up ${f1(w.heap)} → ${f1(e.heap)} MB, slope ${heapSlope.toFixed(2)} MB/min, peak ${f1(max(samples, (s) => s.heap))} MB (heap total ${f1(e.heapTotal)} MB), open queue items in all channels ${w.open} → ${e.open} (nobody works the queue) (target flat, ≤ 1 MB/min: ${met(Math.abs(heapSlope) <= 1)})`);
  const goWhat = simsApart ? 'the console alone' : 'the console and the five simulators it runs';
  const goCPU = (100 * (e.goCPU - w.goCPU)) / (e.t - w.t);
  console.log(`P4b Go process (${goWhat}) RSS peak ${f1(goPeak)} MB, end ${f1(e.go)} MB, growth after warm-up ${goSlope.toFixed(2)} MB/min, CPU after warm-up ${f1(goCPU)}% of a core${process.env.GOMEMLIMIT ? ` (GOMEMLIMIT=${process.env.GOMEMLIMIT})` : ''}; chromium renderer of the page RSS peak ${f1(rendPeak)} MB (PSS ${f1(e.rendPss)} at the end), growth ${rendSlope.toFixed(2)} MB/min`);
  if (simsApart) {
    console.log(`P4b simulators' process (demo-sims, not part of the app; for reference) RSS peak ${f1(max(samples, (s) => s.sims))} MB, end ${f1(e.sims)} MB, growth after warm-up ${slope(after, (s) => s.sims).toFixed(2)} MB/min`);
  }
  console.log(`P4b whole app (Go ${simsApart ? 'console' : 'process, the simulators included'} + renderer) RSS peak ${f1(whole)} MB (with the renderer's PSS: ${f1(wholePss)} MB), growth after warm-up ${wholeSlope.toFixed(2)} MB/min (TARGETS.md P4: RSS ≤ 150 MB: ${met(whole <= 150)}; flat, ≤ 1 MB/min: ${met(Math.abs(wholeSlope) <= 1)})`);
  const floor = blank.get(e.rendPid);
  if (floor) {
    console.log(`P4b chromium's floor: the same renderer on about:blank before the console's page loaded: RSS ${f1(floor.rss)} MB (PSS ${f1(floor.pss)}); ` +
      `the whole app above it: RSS ${f1(whole - floor.rss)} MB peak (the console ${f1(goPeak)} + the page's renderer above the blank page ${f1(rendPeak - floor.rss)})`);
  } else {
    console.log(`P4b chromium's floor: not measured (the page's renderer ${e.rendPid} was not among the renderers on about:blank)`);
  }
} finally {
  await browser.close().catch(() => {});
  child.kill('SIGTERM');
  await new Promise((r) => { if (child.exitCode !== null) r(); else child.on('exit', r); setTimeout(r, 5000); });
  rmSync(dir, { recursive: true, force: true });
}
