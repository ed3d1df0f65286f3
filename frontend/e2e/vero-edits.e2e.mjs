// Edited messages in a real browser. VeroAI conversations edit messages in
// place (the demo's traffic does, now and then):
// a message that arrived live and was then edited shows its new text with an
// "edited" marker, and selecting it lists its earlier texts (MessageVersions)
// in the detail bar, oldest first, as text.
//
// The demo edits at random (roughly one edit per VeroAI conversation every
// 30–60 s once chatters have written something): the test waits up to
// EDIT_WAIT_MS (default 180 s; a loaded machine slows the demo's traffic) for one and fails when none came.
//
//   node e2e/vero-edits.e2e.mjs                      (starts ../modconsole demo)
//   CONSOLE_URL='http://127.0.0.1:PORT/?token=…' node e2e/vero-edits.e2e.mjs
import { launch, Results, target, waitFor } from './lib.mjs';

const WAIT = Number(process.env.EDIT_WAIT_MS) || 180_000;
const r = new Results();
const t = await target();
const browser = await launch();

async function api(page, method, ...args) {
  return page.evaluate(async ([m, a]) => {
    const res = await fetch(`/api/${m}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(a) });
    if (!res.ok) throw new Error(`${m}: HTTP ${res.status} ${await res.text()}`);
    return res.json();
  }, [method, args]);
}

try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(t.url);
  await waitFor(() => page.locator('[data-testid=channel]').count(), 10_000);
  const t0 = Date.now();
  const vero = ((await api(page, 'ListChannels')) ?? []).filter((c) => c.platform === 'veroai');
  r.check('VeroAI conversations are listed', vero.length > 0, vero.map((c) => c.name).join(', '));

  // Wait for a message that arrived after the page loaded (so the browser got it live, unedited) and was edited since.
  let found = null;
  await waitFor(async () => {
    for (const c of vero) {
      const ms = (await api(page, 'RecentMessages', c.id, 0, 100)) ?? [];
      const m = ms.find((x) => (x.edits ?? 0) > 0 && x.at >= t0 && !x.deleted);
      if (m) { found = { c, m }; return true; }
    }
    return false;
  }, WAIT, 1000);

  // The demo's traffic is seeded, so an edit always comes (about a minute
  // in); none within the wait is a failure, not a skip.
  r.check('a VeroAI message was edited', !!found, found ? '' : `none within ${Math.round(WAIT / 1000)} s`);
  if (found) {
    const { c, m } = found;
    console.log(`edit found after ${Math.round((Date.now() - t0) / 1000)} s: message ${m.id} in ${c.name}`);
    await page.click(`[data-testid=channel][data-channel-id="${c.id}"]`);
    await waitFor(() => page.locator(`.page-queues[data-channel-id="${c.id}"]`).count(), 5000);
    const row = page.locator(`[data-testid=chat-row][data-msg-id="${m.id}"]`);
    // The chat list is virtual: bring the row into view by selecting around it.
    await waitFor(async () => {
      if (await row.count()) return true;
      await page.locator('.chat-list').evaluate((el) => { el.scrollTop = Math.max(0, el.scrollTop - el.clientHeight); });
      return false;
    }, 10_000, 200);
    r.check('the edited message is in the chat', (await row.count()) === 1, `message ${m.id}`);
    if (await row.count()) {
      const read = () => row.evaluate((el) => ({
        edited: el.getAttribute('data-edited'),
        marker: el.querySelector('[data-testid=edited]')?.textContent ?? null,
        text: el.querySelector('.msg-text')?.textContent ?? '',
      }));
      let info = await read();
      r.check('its row is marked edited', info.edited === 'true' && info.marker === 'edited', JSON.stringify(info));
      // Compare with the stored text (fetched again: it may have been edited once more meanwhile).
      let now = m;
      await waitFor(async () => {
        now = ((await api(page, 'RecentMessages', c.id, 0, 100)) ?? []).find((x) => x.id === m.id) ?? m;
        info = await read();
        return info.text === now.text;
      }, 3000, 250);
      r.check('its row shows the new text', info.text === now.text, `${JSON.stringify(info.text)} vs ${JSON.stringify(now.text)}`);
      await row.click();
      const versions = await api(page, 'MessageVersions', m.id);
      const shown = await waitFor(async () => {
        const v = await page.locator('[data-testid=detail] [data-testid=version] .version-text').allTextContents();
        return v.length ? v : null;
      }, 5000, 100);
      r.check('the detail bar lists the earlier texts, oldest first', !!shown && shown.length >= 1 && shown.join('\n') === versions.slice(0, shown.length).map((v) => v.text).join('\n'),
        `shown=${JSON.stringify(shown)} api=${JSON.stringify(versions.map((v) => v.text))}`);
      const markup = await page.locator('[data-testid=detail] [data-testid=versions]').evaluate((el) => el.querySelectorAll('img, script, iframe, svg, a, b, u').length);
      r.check('earlier texts are text only', markup === 0, `${markup} elements`);
    }
  }
  r.check('no page errors', errors.length === 0, errors.slice(0, 3).join('; '));
  const xss = await page.evaluate(() => window.__xss ?? 0);
  r.check('no script ran from chat data', xss === 0, String(xss));
} catch (e) {
  r.check('test ran to the end', false, String(e?.stack || e));
} finally {
  await browser.close().catch(() => {});
  await t.close();
}
r.finish();
