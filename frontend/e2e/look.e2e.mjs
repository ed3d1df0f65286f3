// Look and feel in a real browser against `modconsole demo`: the sidebar's
// message-rate sparklines (present, moving as the demo's chat flows, and
// matching the log's ChannelRates for the minutes gone by), the channel
// header's rate charts (uPlot: drawn, and drawn again for a new theme), the
// theme switch (auto follows the system's colour scheme and its changes; a
// choice overrides it and survives a reload), axe-core's colour-contrast
// rule (WCAG AA) with 0 violations on the main views in the dark and the
// light theme, a visible keyboard focus, and at 1024×700 no horizontal
// overflow in the main views with the sidebar still usable. Screenshots of
// the main views in both themes go to a temporary directory, or to
// SCREENSHOTS when set (`make screenshots` sets it to docs/screenshots;
// make test leaves the tree as it found it).
//
//   node e2e/look.e2e.mjs                      (starts ../modconsole demo)
//   CONSOLE_URL='http://127.0.0.1:PORT/?token=…' node e2e/look.e2e.mjs
import { mkdirSync, mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch, Results, target, waitFor } from './lib.mjs';

const axeSource = createRequire(import.meta.url)('axe-core').source;
const shots = process.env.SCREENSHOTS || mkdtempSync(join(tmpdir(), 'look-e2e-'));
mkdirSync(shots, { recursive: true });

const r = new Results();
const t = await target();
const browser = await launch();
try {
  // The system says dark: "auto" must follow it.
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'dark' });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(t.url);
  await waitFor(() => page.locator('[data-testid=channel]').count(), 10_000);
  const base = page.url();
  const theme = () => page.evaluate(() => ({ theme: document.documentElement.dataset.theme, pref: document.documentElement.dataset.themePref, bg: getComputedStyle(document.body).backgroundColor }));
  const api = (m, ...args) => page.evaluate(async ([m, args]) => {
    const res = await fetch(`/api/${m}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(args) });
    return res.json();
  }, [m, args]);

  // 1. Theme: auto follows the system and its changes; a choice holds over a reload.
  let th = await theme();
  r.check('auto theme follows a dark system', th.theme === 'dark' && th.pref === 'auto', JSON.stringify(th));
  await page.emulateMedia({ colorScheme: 'light' });
  th = await waitFor(async () => { const x = await theme(); return x.theme === 'light' ? x : null; }, 3000);
  r.check('auto theme follows the system switching to light', th?.theme === 'light', JSON.stringify(th));
  await page.selectOption('[data-testid=theme-switch]', 'dark');
  th = await theme();
  r.check('the switch sets dark over a light system', th.theme === 'dark' && th.bg === 'rgb(14, 17, 22)', JSON.stringify(th));
  await page.goto(base);
  await waitFor(() => page.locator('[data-testid=channel]').count(), 10_000);
  th = await theme();
  const sel = await page.locator('[data-testid=theme-switch]').inputValue();
  r.check('the chosen theme survives a reload', th.theme === 'dark' && sel === 'dark', `${JSON.stringify(th)} switch=${sel}`);
  await page.selectOption('[data-testid=theme-switch]', 'light');
  th = await theme();
  r.check('the switch sets light', th.theme === 'light' && th.bg === 'rgb(255, 255, 255)', JSON.stringify(th));
  await page.selectOption('[data-testid=theme-switch]', 'auto');
  await page.emulateMedia({ colorScheme: 'dark' });
  th = await waitFor(async () => { const x = await theme(); return x.theme === 'dark' ? x : null; }, 3000);
  const stored = await page.evaluate(() => localStorage.getItem('modconsole.theme'));
  r.check('back to auto: follows the system again and nothing is stored', th?.theme === 'dark' && stored === null, `${JSON.stringify(th)} stored=${stored}`);

  // 2. Sparklines: one per channel, moving as chat flows.
  const nChan = await page.locator('[data-testid=channel]').count();
  const sparks = () => page.$$eval('[data-testid=channel]', (els) => els.map((e) => {
    const svg = e.querySelector('[data-testid=sparkline]');
    return { id: e.getAttribute('data-channel-id'), values: svg?.getAttribute('data-values') ?? null, first: Number(svg?.getAttribute('data-first')), d: svg?.querySelector('.spark-line')?.getAttribute('d') ?? '' };
  }));
  const s0 = await sparks();
  r.check('every channel in the sidebar has a sparkline', s0.length === nChan && s0.every((s) => s.values !== null && s.d.startsWith('M')), `${s0.filter((s) => s.values !== null).length}/${nChan}`);
  const moved = await waitFor(async () => {
    const s1 = await sparks();
    return s1.some((s, i) => s.id === s0[i]?.id && s.values !== s0[i].values && s.d !== s0[i].d) ? s1 : null;
  }, 15_000, 250);
  r.check('a sparkline updates (data and path) as the demo chat flows', !!moved);
  const someMsgs = s0.concat(moved ?? []).some((s) => (s.values ?? '').split(',').some((v) => Number(v) > 0));
  r.check('the sparklines count messages', someMsgs);

  // 3. The header charts on a channel: drawn by uPlot, with the live counts, drawn again for a new theme.
  const busiest = (moved ?? s0).map((s) => ({ id: s.id, n: (s.values ?? '').split(',').reduce((a, v) => a + Number(v || 0), 0) })).sort((a, b) => b.n - a.n)[0];
  await page.click(`[data-testid=channel][data-channel-id="${busiest.id}"]`);
  const charted = await waitFor(() => page.evaluate(() => {
    const c = document.querySelector('[data-testid=rate-chart] canvas');
    const m = document.querySelector('[data-testid=mod-chart] canvas');
    return !!(c && m && c.width > 100 && c.height > 30 && m.width > 100);
  }), 10_000);
  r.check('the channel header shows the rate chart and the held/actions chart (uPlot canvases)', charted);
  const chartState = () => page.evaluate(() => {
    const fig = document.querySelector('[data-testid=rate-chart]');
    const c = fig?.querySelector('canvas');
    if (!c) return null;
    const ctx = c.getContext('2d');
    const px = ctx.getImageData(0, 0, c.width, c.height).data;
    let inked = 0;
    for (let i = 3; i < px.length; i += 4) if (px[i] > 0) inked++;
    return { total: Number(fig.getAttribute('data-total')), inked, url: c.toDataURL() };
  });
  const c0 = await chartState();
  r.check('the rate chart is drawn and holds the channel\'s messages', !!c0 && c0.inked > 200 && c0.total > 0, c0 ? `inked=${c0.inked} total=${c0.total}` : 'no chart');
  const grew = await waitFor(async () => { const c = await chartState(); return c && c.total > c0.total ? c : null; }, 15_000, 250);
  r.check('the rate chart\'s counts grow live from the batches', !!grew, grew ? `${c0.total} → ${grew.total}` : `${c0?.total}`);
  await page.selectOption('[data-testid=theme-switch]', 'light');
  const redrawn = await waitFor(async () => { const c = await chartState(); return c && c.url !== c0.url ? c : null; }, 3000);
  const axisColor = await page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--chart-axis').trim());
  r.check('the charts are drawn again in the light theme\'s colours', !!redrawn && axisColor === '#4f5a67', axisColor);
  await page.click('[data-testid=charts-toggle]');
  const hidden = await page.locator('[data-testid=rate-chart]').count();
  await page.goto(base);
  await waitFor(() => page.locator('[data-testid=channel]').count(), 10_000);
  const stillHidden = await page.locator('[data-testid=rate-chart]').count();
  await page.click('[data-testid=charts-toggle]');
  const back = await waitFor(() => page.locator('[data-testid=rate-chart] canvas').count(), 5000);
  r.check('the charts can be hidden, stay hidden after a reload, and come back', hidden === 0 && stillHidden === 0 && back > 0, `${hidden}/${stillHidden}/${back}`);

  // 4. Contrast (axe-core, WCAG AA) on the main views in both themes, and screenshots.
  await page.evaluate(axeSource);
  const views = [
    ['queues', async () => {
      await page.click('[data-testid=all-queues]');
      await waitFor(() => page.locator('[data-testid=queue-item]').count(), 15_000);
      // A selected item: its action buttons with their key hints are on screen.
      await page.locator('[data-testid=queue-item]').first().click().catch(() => {});
    }],
    ['chat', async () => {
      await page.click(`[data-testid=channel][data-channel-id="${busiest.id}"]`);
      await waitFor(() => page.locator('.crow').count(), 10_000);
      // A selected chat row and a selected queue row carry the selection's background.
      await page.locator('.crow').last().click({ position: { x: 40, y: 8 } }).catch(() => {});
    }],
    ['search', async () => {
      await page.click('[data-page=search]');
      await page.fill('[data-testid=search-input]', 'hi');
      await page.press('[data-testid=search-input]', 'Enter');
      await waitFor(() => page.locator('[data-testid=search-row]').count(), 10_000);
    }],
    ['audit', async () => { await page.click('[data-page=audit]'); await waitFor(() => page.locator('[data-testid=audit]').count(), 10_000); }],
    ['events', async () => { await page.click('[data-page=events]'); await page.waitForTimeout(800); }],
    ['rules', async () => { await page.click('[data-page=rules]'); await waitFor(() => page.locator('[data-testid=rule]').count(), 10_000); }],
    ['accounts', async () => { await page.click('[data-page=accounts]'); await waitFor(() => page.locator('[data-testid=account]').count(), 10_000); }],
  ];
  const contrast = () => page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const res = await axe.run(document, { runOnly: { type: 'rule', values: ['color-contrast'] }, resultTypes: ['violations'] });
    return res.violations.flatMap((v) => v.nodes.map((n) => `${n.target.join(' ')}: ${n.any.map((a) => a.message).join('; ')}`));
  });
  // Key hints (<kbd>) measured directly too: their colour against the first opaque background behind them.
  const kbdContrast = () => page.evaluate(() => {
    const rgb = (c) => (c.match(/[\d.]+/g) || []).map(Number);
    const lum = ([r, g, b]) => [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }).reduce((a, v, i) => a + v * [0.2126, 0.7152, 0.0722][i], 0);
    const out = [];
    for (const k of document.querySelectorAll('kbd')) {
      const r = k.getBoundingClientRect();
      if (!r.width || !r.height) continue;
      let el = k;
      let bg = null;
      while (el) { const c = rgb(getComputedStyle(el).backgroundColor); if (c.length >= 3 && (c.length < 4 || c[3] > 0.9)) { bg = c; break; } el = el.parentElement; }
      const fg = rgb(getComputedStyle(k).color);
      const [a, b] = [lum(fg), lum(bg || [255, 255, 255])];
      const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
      out.push({ key: k.textContent, ratio: Math.round(ratio * 100) / 100 });
    }
    return out;
  });
  for (const mode of ['dark', 'light']) {
    await page.selectOption('[data-testid=theme-switch]', mode);
    for (const [name, open] of views) {
      await open();
      await page.mouse.move(0, 0);
      await page.waitForTimeout(300);
      const bad = await contrast();
      r.check(`axe color-contrast: 0 violations on ${name} (${mode})`, bad.length === 0, bad.slice(0, 6).join(' | '));
      const kb = await kbdContrast();
      if (name === 'queues') r.check(`key hints shown with the selected item (${mode})`, kb.length > 0, `${kb.length}`);
      const low = kb.filter((k) => k.ratio < 4.5);
      r.check(`key hints meet 4.5:1 on ${name} (${mode})`, low.length === 0, low.slice(0, 4).map((k) => `${k.key} ${k.ratio}`).join(', '));
      await page.screenshot({ path: join(shots, `look-${name}-${mode}.png`) });
    }
  }

  // 5. Keyboard focus is visible.
  await page.click('[data-page=rules]');
  await page.focus('[data-page=audit]');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Shift+Tab');
  const outline = await page.evaluate(() => { const s = getComputedStyle(document.activeElement); return `${s.outlineStyle} ${s.outlineWidth}`; });
  r.check('keyboard focus is drawn (outline on the focused button)', /^solid [1-9]/.test(outline), outline);

  // 6. 1024×700: no horizontal overflow in the main views; the sidebar stays usable.
  await page.setViewportSize({ width: 1024, height: 700 });
  for (const [name, open] of views) {
    await open();
    await page.waitForTimeout(300);
    const o = await page.evaluate(() => {
      const out = [];
      const doc = document.documentElement;
      if (doc.scrollWidth > doc.clientWidth + 1) out.push(`page ${doc.scrollWidth}>${doc.clientWidth}`);
      for (const el of document.querySelectorAll('.main, .main *, .topbar')) {
        const s = getComputedStyle(el);
        const scrolls = s.overflowX === 'auto' || s.overflowX === 'scroll' || el.classList.contains('main');
        if (scrolls && el.scrollWidth > el.clientWidth + 1) out.push(`${el.className || el.tagName} ${el.scrollWidth}>${el.clientWidth}`);
      }
      const main = document.querySelector('.main').getBoundingClientRect();
      if (main.right > doc.clientWidth + 1) out.push(`main ends at ${main.right}`);
      return out;
    });
    r.check(`1024×700: no horizontal overflow on ${name}`, o.length === 0, o.slice(0, 4).join(' | '));
  }
  const side = await page.evaluate(() => {
    const sb = document.querySelector('.sidebar').getBoundingClientRect();
    const list = document.querySelector('[data-testid=channel-list]');
    const join = document.querySelector('.join-form button[type=submit]').getBoundingClientRect();
    const chan = document.querySelector('[data-testid=channel] .chan-name').getBoundingClientRect();
    return { width: sb.width, listScrolls: list.scrollHeight <= list.clientHeight || getComputedStyle(list).overflowY === 'auto', joinVisible: join.bottom <= window.innerHeight && join.right <= sb.right, nameWidth: chan.width };
  });
  r.check('1024×700: the sidebar keeps its width, a scrolling channel list, a visible join button and readable names', side.width >= 180 && side.listScrolls && side.joinVisible && side.nameWidth >= 60, JSON.stringify(side));
  await page.click(`[data-testid=channel][data-channel-id="${busiest.id}"]`);
  await page.waitForTimeout(500);
  await page.screenshot({ path: join(shots, 'look-chat-1024x700.png') });

  // 7. The sparklines agree with the log's per-minute counts for the minutes gone by.
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto(base);
  await waitFor(() => page.locator('[data-testid=sparkline]').count(), 10_000);
  // Each sparkline says which minute its first value is (data-first); the last two minutes may still be arriving.
  let last = null;
  const agree = await waitFor(async () => {
    const rates = await api('ChannelRates', 0, 30);
    const s = await sparks();
    const first = s[0]?.first;
    const cur = first + 29 * 60_000;
    const diffs = [];
    let compared = 0;
    for (const p of rates.points ?? []) {
      if (p.minute >= cur - 60_000 || p.minute < first) continue;
      const sp = s.find((x) => Number(x.id) === p.channelId);
      if (!sp) continue;
      const v = Number((sp.values ?? '').split(',')[(p.minute - sp.first) / 60_000]);
      compared++;
      if (v !== p.messages) diffs.push(`${p.channelId}@${new Date(p.minute).toISOString().slice(11, 16)}: spark ${v} log ${p.messages}`);
    }
    last = { compared, diffs };
    return compared > 0 && !diffs.length ? last : null;
  }, 150_000, 5000) ?? last;
  r.check('the sparklines show the log\'s counts (ChannelRates) for the minutes gone by', !!agree?.compared && agree.diffs.length === 0, agree?.compared ? `${agree.compared} minutes compared; ${agree.diffs.slice(0, 3).join(', ')}` : 'no finished minute with messages in 150 s');

  r.check('no page errors', errors.length === 0, errors.slice(0, 3).join(' | '));
  console.log(`look.e2e: screenshots in ${shots}`);
} finally {
  await browser.close();
  await t.close();
}
r.finish();
