// Round trips from the UI on the demo's simulated platforms (run it against
// the real console: CONSOLE_URL from `modconsole demo`):
//   a. socket-base `general`: an announcement from the announce box is
//      confirmed in the audit log and comes back into the room as a notice;
//   b. VeroAI `support-lumen`: a message from the send box appears in chat;
//   c. Kick `neonrally`: emotes are <img> with the emote's name as alt,
//      served by the simulator itself on loopback (the demo works offline)
//      and loaded, none broken; no announce/pin/clear buttons, their notes in a tooltip;
//   d. Glimesh `aurora`: a 600 s custom timeout (T) is confirmed as the
//      15-minute one;
//   e. socket-base: b hides the author locally (after confirming), the row
//      collapses, the header lists it, and unhide restores it.
//
//   node e2e/platforms.e2e.mjs               (starts ../modconsole demo)
//   CONSOLE_URL='http://127.0.0.1:PORT/?token=…' node e2e/platforms.e2e.mjs
import { launch, Results, target, waitFor } from './lib.mjs';

const r = new Results();
const t = await target();
const browser = await launch();
const run = Date.now().toString(36);

/** api calls the console from the page (the session cookie authenticates). */
async function api(page, method, ...args) {
  return page.evaluate(async ([m, a]) => {
    const res = await fetch(`/api/${m}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(a) });
    if (!res.ok) throw new Error(`${m}: HTTP ${res.status} ${await res.text()}`);
    return res.json();
  }, [method, args]);
}

async function openChannel(page, channels, platform, name) {
  const c = channels.find((x) => x.platform === platform && x.name === name);
  if (!c) return null;
  // The channel list re-renders as batches arrive (and may still move while the demo starts): retry
  // until the channel's page is the one shown.
  for (let i = 0; i < 5; i++) {
    await page.click(`[data-testid=channel][data-channel-id="${c.id}"]`);
    if (await waitFor(() => page.locator(`.page-queues[data-channel-id="${c.id}"]`).count(), 2000)) return c;
  }
  const shown = await page.locator('.page-queues').getAttribute('data-channel-id').catch(() => null);
  r.check(`${platform} ${name} opens`, false, `page shows channel ${shown}`);
  return null;
}

/** auditEntry waits for an action of kind created since t0 (and matching pick) to settle, on the audit page. */
async function auditEntry(page, kind, t0, pick = () => true, timeoutMs = 45_000) {
  await page.click('[data-page=audit]');
  return waitFor(async () => {
    const rows = await page.$$eval(`[data-testid=audit-row][data-kind=${kind}]`, (els) => els.map((e) => ({
      created: Number(e.getAttribute('data-created')),
      status: e.getAttribute('data-status'),
      text: [...e.querySelectorAll('td')].map((td) => td.textContent ?? ''),
    })));
    const mine = rows.filter((x) => x.created >= t0 - 2000 && pick(x));
    return mine.find((x) => x.status === 'confirmed' || x.status === 'failed') ?? null;
  }, timeoutMs, 200);
}

try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // The demo needs no network: every request the page makes stays on loopback, and no image fails.
  const offHost = [];
  const failedImages = [];
  page.on('request', (req) => {
    const h = new URL(req.url()).hostname;
    if (!['127.0.0.1', 'localhost', '[::1]'].includes(h)) offHost.push(req.url());
  });
  page.on('requestfailed', (req) => { if (req.resourceType() === 'image') failedImages.push(req.url()); });
  page.on('response', (res) => { if (res.request().resourceType() === 'image' && res.status() >= 400) failedImages.push(`${res.status()} ${res.url()}`); });
  await page.goto(t.url);
  await waitFor(() => page.locator('[data-testid=channel]').count(), 10_000);
  const needed = [['socketbase', 'general'], ['veroai', 'support-lumen'], ['kichat', 'neonrally'], ['glimesh', 'aurora']];
  await waitFor(async () => {
    const cs = await api(page, 'ListChannels');
    return needed.every(([p, n]) => cs.some((c) => c.platform === p && c.name === n && c.health.status === 'connected'));
  }, 15_000, 250);
  const channels = await api(page, 'ListChannels');

  // a. socket-base announce → audit confirmed, and the broadcast comes back as a notice in the room
  {
    const c = await openChannel(page, channels, 'socketbase', 'general');
    r.check('socket-base room general is listed', !!c);
    if (c) {
      const text = `e2e broadcast ${run} <b>stays text</b>`;
      const t0 = Date.now();
      const box = await waitFor(() => page.locator('[data-testid=announce-input]').count(), 5000);
      r.check('socket-base offers the announce box', box > 0);
      await page.fill('[data-testid=announce-input]', text);
      await page.click('[data-testid=announce-button]');
      const back = await waitFor(async () => {
        const notes = await page.$$eval('[data-testid=channel-notice] .notice-text', (els) => els.map((e) => e.textContent ?? ''));
        return notes.find((n) => n.includes(text)) ?? null;
      }, 15_000, 200);
      r.check('the announcement comes back into general as a notice', !!back, String(back));
      r.check('the notice is text only', (await page.locator('[data-testid=channel-notices] b').count()) === 0);
      const a = await auditEntry(page, 'announce', t0, (x) => x.text.some((s) => s.includes(text)));
      r.check('the announce audit entry becomes "confirmed"', a?.status === 'confirmed', JSON.stringify(a));
    }
  }

  // b. VeroAI send → the exact text appears in the chat list
  {
    await page.click('[data-page=queues]');
    const c = await openChannel(page, channels, 'veroai', 'support-lumen');
    r.check('VeroAI conversation support-lumen is listed', !!c);
    if (c) {
      const text = `e2e vero ${run} — "quotes" & <tags>`;
      await waitFor(() => page.locator('[data-testid=send-input]:not([disabled])').count(), 5000);
      await page.fill('[data-testid=send-input]', text);
      await page.press('[data-testid=send-input]', 'Enter');
      const seen = await waitFor(async () => {
        const texts = await page.$$eval('[data-testid=chat-row] .msg-text', (els) => els.map((e) => e.textContent ?? ''));
        return texts.includes(text);
      }, 15_000, 200);
      r.check('the sent message appears in the VeroAI chat with that exact text', seen, text);
    }
  }

  // c. Kick emotes as images; announce/pin/clear absent with their notes shown
  {
    const c = await openChannel(page, channels, 'kichat', 'neonrally');
    r.check('Kick channel neonrally is listed', !!c);
    if (c) {
      const emotes = await waitFor(async () => {
        const rows = await page.$$eval('[data-testid=chat-row]', (els) => els
          .filter((e) => e.querySelector('img.emote'))
          .map((e) => ({ id: Number(e.getAttribute('data-msg-id')), imgs: [...e.querySelectorAll('.msg-text img')].map((i) => ({ src: i.getAttribute('src') ?? '', alt: i.getAttribute('alt') ?? '', loaded: i.complete && i.naturalWidth > 0, broken: i.complete && i.naturalWidth === 0 })) })));
        return rows.length && rows.some((row) => row.imgs.some((i) => i.loaded)) ? rows : null;
      }, 30_000, 250);
      r.check('Kick chat shows emote images', !!emotes, `${emotes?.length ?? 0} rows`);
      if (emotes) {
        const msgs = await api(page, 'RecentMessages', c.id, 0, 1000);
        const byId = new Map(msgs.map((m) => [m.id, m]));
        const bad = [];
        for (const row of emotes) {
          const m = byId.get(row.id);
          const names = (m?.tokens ?? []).filter((tk) => tk.kind === 'emote').map((tk) => tk.text);
          const alts = row.imgs.map((i) => i.alt);
          const local = row.imgs.every((i) => /^http:\/\/127\.0\.0\.1:\d+\/emotes\//.test(i.src));
          if (!m || !local || JSON.stringify(alts) !== JSON.stringify(names) || alts.some((a) => !a)) bad.push({ row, names });
        }
        r.check('every emote <img> is served by the simulator on loopback, alt = the emote name', bad.length === 0, JSON.stringify(bad.slice(0, 2)));
        const broken = emotes.flatMap((row) => row.imgs.filter((i) => i.broken).map((i) => i.src));
        r.check('emote images load (none broken)', broken.length === 0, JSON.stringify(broken.slice(0, 3)));
      }
      await page.locator('[data-testid=chat-row]').last().click();
      await waitFor(() => page.locator('[data-testid=detail] [data-verb]').count(), 3000);
      const offered = await page.$$eval('button', (bs) => bs.map((b) => b.getAttribute('data-verb') ?? b.getAttribute('data-testid') ?? '').filter((v) => ['pin', 'clear', 'announce-button'].includes(v)));
      r.check('no announce, pin or clear button is offered on Kick', offered.length === 0, offered.join(','));
      // The notes are the tooltip of the composer's "i" mark, not text in the working area.
      const tip = (await page.locator('[data-testid=channel-cap-notes]').getAttribute('title').catch(() => null)) ?? '';
      const composerText = await page.locator('.composer').innerText();
      for (const kind of ['announce', 'pin', 'clear']) {
        const want = c.capabilities.actions[kind]?.note ?? '';
        r.check(`the ${kind} note is in the tooltip, not in the composer's text`, !!want && tip.includes(want) && !composerText.includes(want), `${JSON.stringify(tip)} vs ${want}`);
      }
    }
  }

  // d. Glimesh: T with a 600 s custom timeout → confirmed as the 15-minute timeout
  {
    const c = await openChannel(page, channels, 'glimesh', 'aurora');
    r.check('Glimesh channel aurora is listed', !!c);
    if (c) {
      // A chatter who is neither moderator nor streamer: a queue item, else a plain chat row.
      const plain = ':not(:has(.role-moderator)):not(:has(.role-broadcaster)):not(:has(.role-admin)):not([data-hidden])';
      const which = await waitFor(async () => {
        if (await page.locator(`[data-testid=queue-item]${plain}`).count()) return 'queue-item';
        if (await page.locator(`[data-testid=chat-row]${plain}`).count()) return 'chat-row';
        return null;
      }, 20_000, 250);
      r.check('aurora has a message to time out', !!which);
      if (which) {
        const row = page.locator(`[data-testid=${which}]${plain}`).last();
        const user = (await row.locator('.user').first().textContent())?.trim() ?? '';
        await row.click();
        const t0 = Date.now();
        await page.keyboard.press('T');
        const dlg = await waitFor(() => page.locator('input[aria-label="custom seconds"]').count(), 3000);
        r.check('T opens the timeout dialog', dlg > 0);
        await page.fill('input[aria-label="custom seconds"]', '600');
        await page.click('[data-testid=confirm-ok]');
        const a = await auditEntry(page, 'timeout', t0, (x) => !user || x.text.some((s) => s.includes(user)));
        r.check('the 600 s timeout is confirmed', a?.status === 'confirmed', JSON.stringify(a));
        r.check('its outcome mentions "15 min"', !!a && a.text.some((s) => s.includes('15 min')), JSON.stringify(a?.text));
      }
    }
  }

  // e. socket-base: b hides the author locally; the row collapses and can be unhidden from the header
  {
    await page.click('[data-page=queues]');
    const c = await openChannel(page, channels, 'socketbase', 'general');
    if (c) {
      const ok = await waitFor(() => page.locator('[data-testid=chat-row]:not([data-hidden])').count(), 20_000);
      r.check('general has chat', ok > 0);
      const row = page.locator('[data-testid=chat-row]:not([data-hidden])').last();
      const msgId = await row.getAttribute('data-msg-id');
      await row.click();
      const detailVerbs = await page.$$eval('[data-testid=detail] [data-verb]', (els) => els.map((e) => e.getAttribute('data-verb')));
      r.check('socket-base offers local hides, not ban/timeout/delete', detailVerbs.includes('hideUser') && detailVerbs.includes('hideMessage') && !detailVerbs.some((v) => ['ban', 'timeout', 'timeoutAsk', 'delete'].includes(v)), detailVerbs.join(','));
      const note = await page.locator('[data-testid=detail] [data-testid=cap-info]').getAttribute('title').catch(() => '');
      const panel = await page.locator('[data-testid=detail]').innerText();
      r.check('the platform note is the tooltip next to them, not text in the panel', (note ?? '').includes('socket-base has no moderation') && !panel.includes('socket-base has no moderation'), String(note));
      await page.keyboard.press('b');
      const dlg = await waitFor(() => page.locator('[data-testid=confirm-ok]').count(), 3000);
      r.check('b asks before hiding locally', dlg > 0);
      await page.click('[data-testid=confirm-ok]');
      const collapsed = await waitFor(async () => {
        const el = page.locator(`[data-testid=chat-row][data-msg-id="${msgId}"]`);
        return (await el.count()) && (await el.getAttribute('data-hidden')) === 'user' ? (await el.textContent()) : null;
      }, 5000);
      r.check('the row collapses to "hidden locally · show"', !!collapsed && collapsed.includes('hidden locally · show'), String(collapsed));
      const summary = (await page.locator('.chan-header [data-testid=hidden-summary]').textContent().catch(() => '')) ?? '';
      r.check('the channel header says a user is hidden locally', /Hidden locally: 1 user/.test(summary), summary);
      await page.click('[data-testid=hidden-summary]');
      const listed = await page.locator('.chan-header [data-testid=hidden-list] [data-testid=hidden-entry][data-kind=user]').count();
      r.check('the channel header lists the hidden user', listed > 0);
      const stored = await page.evaluate(() => localStorage.getItem('modconsole.hidden.v1') ?? '');
      r.check('the hidden set is in localStorage', stored.includes(`"channelId":${c.id}`));
      await page.locator('[data-testid=hidden-entry][data-kind=user] [data-testid=unhide]').first().click();
      const restored = await waitFor(async () => {
        const el = page.locator(`[data-testid=chat-row][data-msg-id="${msgId}"]`);
        return (await el.count()) > 0 && (await el.getAttribute('data-hidden')) === null;
      }, 5000);
      r.check('unhide from the header restores the row', restored);
    }
  }

  r.check('no page errors', errors.length === 0, errors.slice(0, 3).join('; '));
  r.check('no image failed to load', failedImages.length === 0, failedImages.slice(0, 3).join('; '));
  r.check('the page made no request off loopback', offHost.length === 0, offHost.slice(0, 3).join('; '));
} catch (e) {
  r.check('test ran to the end', false, String(e?.stack || e));
} finally {
  await browser.close().catch(() => {});
  await t.close();
}
r.finish();
