// People in a real browser against `modconsole demo` (the mock server has no
// people): open a user card from a queue item with "u"; ban from the card
// and the user's other held items leave the queue; undo within 10 s reaches
// the simulator as an unban; find the demo's returning troll by name,
// unlink and link their Kick user again and ban everywhere (both simulators
// report the ban); a note written on the Velora card shows on the Kick
// card; markup in notes and reasons renders as text. Then names: a click
// and Enter on a chat name and a click on an audit-log name open the card;
// a note and a watch mark that user's chat rows; a ban from chat offers the
// global undo toast, and its undo reaches the simulator as an unban. Screenshots go to a
// temporary directory, or to SCREENSHOTS when set (`make screenshots` sets it
// to docs/screenshots to refresh the committed pictures; make test must
// leave the tree as it found it).
//
//   CONSOLE_URL='http://127.0.0.1:PORT/?token=…' node e2e/people.e2e.mjs
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch, Results, target, waitFor } from './lib.mjs';

if (!process.env.CONSOLE_URL) {
  console.log('people.e2e: needs the real console (CONSOLE_URL, see build/ci/e2e.sh); the mock server has no people: skipped');
  process.exit(0);
}
const shots = process.env.SCREENSHOTS || mkdtempSync(join(tmpdir(), 'people-e2e-'));
mkdirSync(shots, { recursive: true });
const XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>';
const r = new Results();
const t = await target();
const browser = await launch();
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(t.url);
  const api = (m, ...args) => page.evaluate(async ([m, args]) => {
    const res = await fetch(`/api/${m}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(args) });
    return res.json();
  }, [m, args]);
  await waitFor(() => page.locator('[data-testid=channel]').count(), 10_000);
  await page.click('[data-testid=all-queues]');

  // 1. The watched newcomer's held items; open the card with "u".
  const samRow = page.locator('[data-testid=queue-item]:has-text("suspicious_sam")').first();
  const found = await waitFor(async () => (await samRow.count()) > 0, 30_000, 250);
  r.check('the demo holds the watched user\'s messages', found);
  const chans = await api('ListChannels');
  const lumen = chans.find((c) => c.platform === 'velora' && c.name === 'lumen');
  const kick = chans.filter((c) => c.platform === 'kichat');
  const samItems = async () => ((await api('Queue', lumen.id, 1000)) ?? []).filter((q) => q.message.user.username === 'suspicious_sam');
  r.check('two of them are open', (await samItems()).length >= 2, `${(await samItems()).length}`);
  await samRow.click();
  await page.keyboard.press('u');
  const card = page.locator('[data-testid=user-card]');
  const opened = await waitFor(async () => (await card.locator('[data-testid=card-name]').textContent().catch(() => '')) === 'suspicious_sam', 5000);
  r.check('"u" opens the user card of the selected item\'s author', opened);
  r.check('the card shows the watch', (await card.locator('[data-testid=watch-state]').textContent()).includes('Watched (messages held)'));
  r.check('the card shows the messages, held ones marked', (await card.locator('[data-testid=card-messages] .held').count()) >= 2);
  await page.screenshot({ path: join(shots, 'user-card.png') });

  // 2. Ban from the card (b): the other held item leaves the queue too.
  await card.focus();
  await page.keyboard.press('b');
  await waitFor(() => page.locator('[data-testid=confirm-ok]').count(), 3000);
  await page.fill('[data-testid=dialog-reason]', `e2e ${XSS}`);
  const t0 = Date.now();
  await page.click('[data-testid=confirm-ok]');
  // The undo toast is the console's (above the card), shown once the platform confirmed.
  const toast = page.locator('[data-testid=undo-toast][data-kind=ban]:has-text("suspicious_sam")');
  const undo = toast.locator('[data-testid=undo]');
  const undoShown = await waitFor(() => undo.count(), 10_000, 100);
  r.check('a confirmed ban offers undo', undoShown > 0, await page.locator('.undo-toasts').textContent());
  r.check('the undo toast says how many held messages went with it', /and \d+ held message/.test(await toast.textContent()));
  r.check('the user\'s held items left the queue', await waitFor(async () => (await samItems()).length === 0, 5000));
  r.check('… and the queue view', await waitFor(async () => (await page.locator('[data-testid=queue-item]:has-text("suspicious_sam")').count()) === 0, 5000));

  // 3. Undo within 10 s reaches the simulator as an unban.
  r.check('undo clicked within 10 s of the confirmation', Date.now() - t0 < 10_000);
  await undo.click();
  // Velora answers an unban with a command result (no unban event): the
  // audit entry carries the simulator's own words.
  const unbanned = await waitFor(async () => {
    const log = (await api('AuditLog', lumen.id, 100)) ?? [];
    return log.find((a) => a.kind === 'unban' && a.target === 'suspicious_sam' && a.created >= t0 - 2000 && a.status === 'confirmed');
  }, 10_000, 200);
  r.check('the Velora simulator confirms the unban', !!unbanned && /unbanned/.test(unbanned.outcome ?? ''), unbanned?.outcome);

  // 4. Find the returning troll by name, open their card.
  await card.locator('[data-testid=link-search]').fill('gr1efer');
  await card.locator('[data-testid=link-search]').press('Enter');
  const veloraTroll = card.locator('[data-testid=link-results] li:has-text("velora · gr1efer_returns") [data-testid=open-found]');
  r.check('name search finds the troll on Velora', await waitFor(() => veloraTroll.count(), 5000) > 0);
  await veloraTroll.click();
  const trollOpen = await waitFor(async () => (await card.locator('[data-testid=card-name]').textContent().catch(() => '')) === 'gr1efer_returns', 5000);
  r.check('the troll\'s card opens', trollOpen);
  r.check('the seeded link shows', (await card.locator('[data-testid=card-linked]').textContent()).includes('gr1efer_again'));
  r.check('the history shows the Kick timeout by the other platform', (await card.locator('[data-testid=card-history]').textContent()).includes('kichat'));

  // Unlink and link again through the search (suggested by name).
  await card.locator('[data-testid=unlink]').first().click();
  await waitFor(async () => (await card.locator('[data-testid=card-linked] li').count()) === 0, 5000);
  await card.locator('[data-testid=link-search]').fill('');
  await card.locator('[data-testid=link-search]').press('Enter');
  const kickSuggestion = card.locator('[data-testid=link-results] li:has-text("kichat · gr1efer_again") [data-testid=link-user]');
  r.check('the Kick user is suggested (name alike)', await waitFor(() => kickSuggestion.count(), 5000) > 0);
  await kickSuggestion.click();
  r.check('linked again', await waitFor(async () => (await card.locator('[data-testid=card-linked]').textContent()).includes('gr1efer_again'), 5000));

  // 5. A note with markup on the Velora card.
  await card.locator('[data-testid=note-input]').fill(`returning troll ${XSS}`);
  await card.locator('[data-testid=note-add]').click();
  r.check('the note shows as text', await waitFor(async () => (await card.locator('[data-testid=card-notes]').textContent()).includes('<img src=x'), 5000));

  // 6. Ban everywhere: the plan lists each target; both simulators report the ban.
  const t1 = Date.now();
  await card.locator('[data-testid=card-everywhere]').click();
  const targets = card.locator('[data-testid=everywhere-targets] li');
  await waitFor(() => targets.count(), 5000);
  const planText = await card.locator('[data-testid=everywhere-targets]').textContent();
  r.check('the plan lists Velora and Kick targets', planText.includes('velora · lumen') && planText.includes('kichat'), planText.slice(0, 200));
  await page.screenshot({ path: join(shots, 'ban-everywhere.png') });
  await card.locator('[data-testid=everywhere-go]').click();
  await waitFor(() => card.locator('[data-testid=everywhere-result] div').count(), 5000);
  const bannedBoth = await waitFor(async () => {
    const v = ((await api('ModEvents', lumen.id, 200)) ?? []).some((e) => e.kind === 'ban' && e.username === 'gr1efer_returns' && e.at >= t1 - 2000);
    let k = false;
    for (const c of kick) k = k || ((await api('ModEvents', c.id, 200)) ?? []).some((e) => e.kind === 'ban' && e.username === 'gr1efer_again' && e.at >= t1 - 2000);
    return v && k;
  }, 15_000, 300);
  r.check('both simulators report the ban', bannedBoth);
  const audit = ((await api('AuditLog', 0, 100)) ?? []).filter((a) => a.kind === 'ban' && a.parentId && a.created >= t1 - 2000);
  r.check('each target is its own audit entry under one parent', audit.length >= 2 && new Set(audit.map((a) => a.parentId)).size === 1, `${audit.length} entries`);

  // 7. The note shows on the same person's card in another channel (Kick).
  await page.waitForTimeout(1600); // the card reloads after the ban
  await card.locator('[data-testid=open-linked]').first().click();
  const kickOpen = await waitFor(async () => (await card.locator('[data-testid=card-name]').textContent().catch(() => '')) === 'gr1efer_again', 5000);
  r.check('the Kick user\'s card opens from the link', kickOpen);
  r.check('the note written on Velora shows on the Kick card', (await card.locator('[data-testid=card-notes]').textContent()).includes('returning troll'));
  r.check('the ban reason shows as text in the history', (await card.locator('[data-testid=card-history]').textContent()).length > 0);
  r.check('no markup ran or became an element', !(await page.evaluate(() => window.__xss)) && (await card.locator('img[src=x], script').count()) === 0);
  await page.keyboard.press('Escape');
  r.check('Esc closes the card', await waitFor(async () => (await card.count()) === 0, 3000));

  // 8. Names open the card: in chat by click and by Enter on the focused name.
  const others = (n) => n && !['suspicious_sam', 'gr1efer_returns', 'gr1efer_again'].includes(n.trim());
  await page.click(`[data-testid=channel][data-channel-id="${lumen.id}"]`);
  const chatNames = page.locator('[data-testid=chat-row] [data-testid=user-name]');
  r.check('chat names are clickable', await waitFor(() => chatNames.count(), 15_000) > 0);
  const pickName = async () => {
    // Chat holds still while the pointer is over it: rest it there first.
    const box = await page.locator('.pane-chat').boundingBox();
    if (box) await page.mouse.move(box.x + box.width / 2, box.y + 40);
    await page.waitForTimeout(300);
    const all = await chatNames.elementHandles();
    for (let i = all.length - 1; i >= 0; i--) {
      const n = await all[i].textContent();
      if (others(n)) return { el: all[i], name: n.trim() };
    }
    return null;
  };
  const cardName = async () => ((await card.locator('[data-testid=card-name]').textContent().catch(() => '')) ?? '').toLowerCase();
  // A row may still be replaced between finding a name and using it: try again then.
  const useName = async (fn) => {
    for (let i = 0; ; i++) {
      const p = await pickName();
      try {
        await fn(p.el);
        return p;
      } catch (e) {
        if (i >= 4) throw e;
      }
    }
  };
  // (A click whose row was re-rendered between press and release is no click: try again.)
  let picked = await useName(async (el) => {
    await el.click({ timeout: 3000 });
    if (!(await waitFor(() => card.count(), 2000))) throw new Error('no card opened');
  });
  r.check('a click on a name in chat opens that user\'s card', await waitFor(async () => (await cardName()) === picked.name.toLowerCase(), 5000),
    `${picked.name} → ${await cardName()}`);
  await page.keyboard.press('Escape');
  await waitFor(async () => (await card.count()) === 0, 3000);
  picked = await useName(async (el) => {
    await el.focus();
    if (!(await el.evaluate((e) => e === document.activeElement))) throw new Error('the name lost the focus');
    await page.keyboard.press('Enter');
  });
  r.check('Enter on a focused name in chat opens the card', await waitFor(async () => (await cardName()) === picked.name.toLowerCase(), 5000), picked.name);
  await page.keyboard.press('Escape');
  await waitFor(async () => (await card.count()) === 0, 3000);

  // 9. A note and a watch on someone chatting: the note icon (newest note as
  // its tooltip) and the highlight come to their chat rows with the stream.
  const rowId = await picked.el.evaluate((e) => e.closest('[data-testid=chat-row]')?.getAttribute('data-msg-id'));
  const recent = (await api('RecentMessages', lumen.id, 0, 200)) ?? [];
  const markedMsg = recent.find((m) => String(m.id) === rowId);
  const who = { platform: 'velora', userId: markedMsg?.user.id, username: markedMsg?.user.username };
  const note = await api('AddNote', { channelId: lumen.id, user: who, text: `e2e chat note ${XSS}` });
  await api('Watch', { user: who, reason: `e2e ${XSS}`, minutes: 15, restrict: false });
  const markedRow = page.locator(`[data-testid=chat-row]:has([data-testid=user-name][data-watched=true]):has-text("${picked.name}")`).first();
  r.check('a watched user\'s messages are highlighted in chat', await waitFor(() => markedRow.count(), 5000) > 0, picked.name);
  r.check('… visibly (the row is tinted)', await markedRow.evaluate((e) => getComputedStyle(e).boxShadow !== 'none' || e.classList.contains('selected')).catch(() => false));
  const icon = markedRow.locator('[data-testid=note-icon]');
  r.check('a noted user\'s messages carry the note icon', await waitFor(() => icon.count(), 5000) > 0);
  r.check('the icon\'s tooltip is the newest note, as text', ((await icon.getAttribute('title')) ?? '').includes(`e2e chat note ${XSS}`));
  r.check('no markup from the note or watch reason became an element in chat', (await page.locator('.pane-chat img[src=x], .pane-chat script').count()) === 0);
  await page.screenshot({ path: join(shots, 'chat-marks.png') });
  await api('Unwatch', who);
  await api('DeleteNote', note.id);
  r.check('the marks go when the watch and the note are removed', await waitFor(async () =>
    (await page.locator(`[data-testid=chat-row]:has-text("${picked.name}") [data-testid=note-icon]`).count()) === 0 &&
    (await page.locator(`[data-testid=chat-row]:has-text("${picked.name}") [data-watched=true]`).count()) === 0, 5000));

  // 10. The undo toast is global: a ban from a chat row (b) offers undo; undo reaches the simulator as an unban.
  const chatRow = page.locator(`[data-testid=chat-row]:has-text("${picked.name}")`).last();
  await chatRow.locator('.time').click();
  await page.keyboard.press('b');
  await waitFor(() => page.locator('[data-testid=confirm-ok]').count(), 3000);
  const t2 = Date.now();
  await page.click('[data-testid=confirm-ok]');
  const chatToast = page.locator(`[data-testid=undo-toast][data-kind=ban]:has-text("${picked.name}")`);
  r.check('a ban from chat shows the undo toast once confirmed', await waitFor(() => chatToast.locator('[data-testid=undo]').count(), 10_000, 100) > 0);
  await page.screenshot({ path: join(shots, 'undo-toast.png') });
  await chatToast.locator('[data-testid=undo]').click();
  r.check('… clicked within 10 s', Date.now() - t2 < 10_000);
  const unbanned2 = await waitFor(async () => ((await api('AuditLog', lumen.id, 100)) ?? [])
    .find((a) => a.kind === 'unban' && a.username === picked.name && a.created >= t2 && a.status === 'confirmed'), 10_000, 200);
  r.check('the undo from the toast reaches the Velora simulator as an unban', !!unbanned2 && /unbanned/.test(unbanned2.outcome ?? ''), unbanned2?.outcome);

  // 11. The audit log: the target's name opens the card; a hostile name stays text.
  const XNAME = '<img/src=x/onerror=window.__xss=3>';
  await api('Act', { channelId: lumen.id, kind: 'ban', username: XNAME, reason: `e2e ${XSS}` });
  await page.click('[data-page=audit]');
  // A confirmed pin offers unpin in the audit log; it reaches the Velora simulator.
  // (A message of someone not banned since: a ban may take a user's messages away on Velora.)
  const pinMsg = ((await api('RecentMessages', lumen.id, 0, 50)) ?? []).filter((m) => !m.deleted && !m.held && others(m.user.username) && m.user.username !== picked.name).pop();
  const pin = await api('Act', { channelId: lumen.id, kind: 'pin', messageId: pinMsg?.id });
  const unpinBtn = page.locator(`[data-testid=audit-row][data-action-id="${pin.id}"] [data-testid=audit-undo]`);
  const pinOffered = await waitFor(async () => (await unpinBtn.textContent({ timeout: 1000 }).catch(() => '')) === 'unpin', 20_000, 250);
  const pinNow = ((await api('AuditLog', lumen.id, 200)) ?? []).find((a) => a.id === pin.id);
  r.check('a confirmed pin offers unpin in the audit log', pinOffered,
    `${JSON.stringify(pinNow ?? pin).slice(0, 300)} row: ${await page.locator(`[data-testid=audit-row][data-action-id="${pin.id}"]`).textContent({ timeout: 1000 }).catch(() => 'absent')}`);
  await unpinBtn.click();
  const unpinned = await waitFor(async () => ((await api('AuditLog', lumen.id, 100)) ?? [])
    .find((a) => a.kind === 'unpin' && a.created >= t2 && a.status === 'confirmed'), 15_000, 200);
  r.check('the unpin reaches the Velora simulator', !!unpinned && /unpinned/i.test(unpinned.outcome ?? ''), unpinned?.outcome);
  const auditName = page.locator(`[data-testid=audit-row][data-kind=unban] [data-testid=audit-user]:has-text("${picked.name}")`).first();
  r.check('the audit log shows the target as a name', await waitFor(() => auditName.count(), 10_000) > 0);
  await auditName.click();
  r.check('a click on a name in the audit log opens the card', await waitFor(async () => (await cardName()) === picked.name.toLowerCase(), 5000));
  r.check('the card\'s history shows the ban and the unban',
    await waitFor(async () => /ban ·[\s\S]*unban ·|unban ·[\s\S]*ban ·/.test(await card.locator('[data-testid=card-history]').textContent().catch(() => '')), 5000));
  await page.keyboard.press('Escape');
  await waitFor(async () => (await card.count()) === 0, 3000);
  const xName = page.locator('[data-testid=audit-row] [data-testid=audit-user]').filter({ hasText: XNAME }).first();
  r.check('a hostile target name shows as text in the audit log', await waitFor(() => xName.count(), 10_000) > 0);
  await xName.focus();
  await page.keyboard.press('Enter');
  r.check('… and as text on its card', await waitFor(async () => (await cardName()) === XNAME.toLowerCase(), 5000),
    await card.textContent().catch(() => ''));
  r.check('no hostile name, note or reason ran or became an element', !(await page.evaluate(() => window.__xss)) && (await page.locator('img[src=x], main script, .user-card script').count()) === 0);
  await page.keyboard.press('Escape');
  r.check('no page errors', errors.length === 0, errors.join('; '));
} catch (e) {
  r.check('people flow ran', false, String(e?.stack ?? e));
} finally {
  await browser.close();
  await t.close();
}
r.finish();
