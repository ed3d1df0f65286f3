// P6: cold start to first message on screen. Measures, with a browser that
// is already running (its own start-up is not the console's), the time from
// starting `modconsole demo` to the first chat row rendered in the page, and
// as the same-run baseline the time until the binary printed its URL (server
// up). Fresh data directory every run; median and worst of RUNS (default 10).
//
//   node frontend/e2e/coldstart.bench.mjs ./modconsole
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch } from './lib.mjs';

const bin = process.argv[2] || './modconsole';
const runs = Number(process.env.RUNS || 10);

function startDemo(dir) {
  const t0 = performance.now();
  const child = spawn(bin, ['demo', '--no-open', '--addr', '127.0.0.1:0', '--data', dir], { stdio: ['ignore', 'pipe', 'ignore'] });
  const url = new Promise((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      const m = buf.match(/browser mode at (\S+)/);
      if (m) resolve({ url: m[1], at: performance.now() - t0 });
    });
    child.on('exit', (code) => reject(new Error(`demo exited (${code})`)));
  });
  return { child, t0, url };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const browser = await launch();
const firstRow = [], serverUp = [];
try {
  for (let i = 0; i < runs; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'modconsole-p6-'));
    const page = await browser.newPage();
    const { child, t0, url } = startDemo(dir);
    try {
      const u = await url;
      serverUp.push(u.at);
      await page.goto(u.url);
      await page.waitForSelector('[data-testid=chat-row], [data-testid=queue-item]', { timeout: 30_000 });
      firstRow.push(performance.now() - t0);
    } finally {
      child.kill('SIGTERM');
      await page.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
} finally {
  await browser.close();
}
const f = median(firstRow), s = median(serverUp);
const worst = Math.max(...firstRow);
console.log(`P6  cold start to first message on screen: median ${f.toFixed(0)} ms, worst ${worst.toFixed(0)} ms of ${runs} starts (server up after ${s.toFixed(0)} ms, median) (target ≤ 1000 ms reliably, i.e. the worst: ${worst <= 1000 ? 'met' : 'NOT met'})`);
