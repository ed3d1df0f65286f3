// UI flow in a real browser: channel health in the list, approving a queue
// item with the keyboard, and a ban from a queue item whose audit entry
// becomes "confirmed".
//
//   node e2e/ui.e2e.mjs                      (starts the mock server)
//   CONSOLE_URL='http://127.0.0.1:PORT/?token=…' node e2e/ui.e2e.mjs
import { launch, Results, target, waitFor } from './lib.mjs';

const STATES = /^(connecting…|connected|connected · read-only|guest · read-only|reconnecting.*|failed.*|stopped)$/;
const r = new Results();
const t = await target();
const browser = await launch();
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(t.url);

  // 1. channel list with health
  const n = await waitFor(() => page.locator('[data-testid=channel]').count(), 10_000);
  r.check('channel list shows channels', n > 0, `${n} channels`);
  const health = await page.$$eval('[data-testid=channel]', (els) => els.map((e) => ({ status: e.getAttribute('data-status'), text: e.querySelector('[data-testid=health]')?.textContent ?? '', dot: !!e.querySelector('.dot') })));
  r.check('every channel shows a status dot and health text', health.length > 0 && health.every((h) => h.dot && STATES.test(h.text)), JSON.stringify(health.slice(0, 3)));
  r.check('token removed from the address bar', !page.url().includes('token='), page.url());

  // 2. approve with the keyboard
  await page.click('[data-testid=all-queues]');
  const items = await waitFor(() => page.locator('[data-testid=queue-item]').count(), 20_000);
  r.check('queue has items', items > 0, `${items}`);
  const first = page.locator('[data-testid=queue-item]').first();
  const approveId = await first.getAttribute('data-item-id');
  await first.click();
  await page.keyboard.press('a');
  const gone = await waitFor(() => page.locator(`[data-testid=queue-item][data-item-id="${approveId}"]`).count().then((c) => c === 0), 5000);
  r.check('queue item approved with "a" leaves the queue', gone, `item ${approveId}`);

  // 3. ban from a queue item → audit entry confirmed
  await waitFor(() => page.locator('[data-testid=queue-item]').count(), 20_000);
  // Pick an item in a channel that supports ban (its row offers a Ban button).
  const banRow = page.locator('[data-testid=queue-item]:has(button[data-verb=ban])').first();
  const hasBan = (await banRow.count()) > 0;
  r.check('a queue item offers ban', hasBan);
  if (hasBan) {
    const t0 = Date.now();
    await banRow.click();
    const user = (await banRow.locator('.user').first().textContent())?.trim() ?? '';
    await page.keyboard.press('b');
    const dlg = await waitFor(() => page.locator('[data-testid=confirm-ok]').count(), 3000);
    r.check('ban asks for confirmation', dlg > 0);
    await page.fill('[data-testid=dialog-reason]', 'e2e ban');
    await page.click('[data-testid=confirm-ok]');
    await page.click('[data-page=audit]');
    const status = await waitFor(async () => {
      const rows = await page.$$eval('[data-testid=audit-row][data-kind=ban]', (els) => els.map((e) => ({ created: Number(e.getAttribute('data-created')), status: e.getAttribute('data-status') })));
      const mine = rows.filter((x) => x.created >= t0 - 5000);
      return mine.find((x) => x.status === 'confirmed' || x.status === 'failed')?.status ?? null;
    }, 15_000, 200);
    r.check('ban produces an audit entry that becomes "confirmed"', status === 'confirmed', `status=${status} user=${user}`);
  }

  // 4. shortcuts help and no shortcuts while typing
  await page.click('[data-page=queues]');
  await page.keyboard.press('?');
  r.check('"?" shows the shortcuts', (await page.locator('[data-testid=help]').count()) === 1);
  await page.keyboard.press('Escape');
  await page.keyboard.press('/');
  const focused = await page.evaluate(() => document.activeElement?.getAttribute('data-testid'));
  r.check('"/" focuses search', focused === 'top-search', String(focused));
  await page.keyboard.type('a');
  r.check('shortcuts do not fire while typing', (await page.locator('[data-testid=top-search]').inputValue()) === 'a');
  r.check('no page errors', errors.length === 0, errors.slice(0, 3).join('; '));
} catch (e) {
  r.check('test ran to the end', false, String(e?.stack || e));
} finally {
  await browser.close().catch(() => {});
  await t.close();
}
r.finish();
