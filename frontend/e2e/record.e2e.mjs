// The record in a real browser against the demo: search filters (typed and from
// the filter bar) narrow the results and every result matches them; a ban from
// a search result is confirmed and found in the audit log by its filters; the
// audit log filtered by kind, status and moderator; CSV and JSONL exports of
// the audit log (with evidence) and of a search download and parse; the
// Chatterino chat log; mod events hide typing/presence/activity by default.
// Screenshots of the three screens go to a temporary directory that is removed,
// or to SCREENSHOTS when set (`make screenshots`: docs/screenshots).
//
//   node e2e/record.e2e.mjs                  (starts ../modconsole demo)
//   CONSOLE_URL='http://127.0.0.1:PORT/?token=…' node e2e/record.e2e.mjs
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch, Results, target, waitFor } from './lib.mjs';

const AUDIT_COLUMNS = ['id', 'time', 'updated', 'platform', 'channel_id', 'channel', 'moderator', 'kind', 'target_user_id', 'target', 'message_id', 'params', 'status', 'outcome', 'attempts', 'evidence'];
const SEARCH_COLUMNS = ['id', 'time', 'platform', 'channel_id', 'channel', 'message_id', 'user_id', 'username', 'display_name', 'text', 'deleted', 'held', 'note', 'edits'];
const NOISE = ['typing', 'presence', 'activity'];
const LINK = /https?:\/\/|www\./i;

/** parseCSV reads RFC 4180 CSV (quoted cells, doubled quotes, line breaks in quotes). */
function parseCSV(text) {
  const rows = [];
  let row = [];
  let cell = '';
  let q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; }
      else if (c === '"') q = false;
      else cell += c;
    } else if (c === '"') q = true;
    else if (c === ',') { row.push(cell); cell = ''; }
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(cell); rows.push(row); row = []; cell = '';
    } else cell += c;
  }
  if (q) throw new Error('unterminated quote');
  if (cell !== '' || row.length) { row.push(cell); rows.push(row); }
  return rows;
}

const shots = process.env.SCREENSHOTS || mkdtempSync(join(tmpdir(), 'record-e2e-'));
mkdirSync(shots, { recursive: true });
const r = new Results();
const t = await target();
const browser = await launch();
try {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 }, acceptDownloads: true });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(t.url);
  await waitFor(() => page.locator('[data-testid=channel]').count(), 10_000);
  const api = (method, ...args) => page.evaluate(async ([m, a]) => {
    const res = await fetch(`/api/${m}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(a) });
    return res.json();
  }, [method, args]);
  const channels = await api('ListChannels');

  /** loaded runs act (which changes a filter) and waits for the page's next load to finish. */
  const loaded = async (sel, act) => {
    const before = Number(await page.getAttribute(sel, 'data-done'));
    await act();
    return waitFor(async () => Number(await page.getAttribute(sel, 'data-done')) > before, 10_000, 50);
  };
  const rowsOf = (sel) => page.$$eval(sel, (els) => els.map((e) => ({ ...e.dataset, text: e.textContent ?? '', links: e.querySelectorAll('a.link').length })));
  const count = async (sel) => Number(await page.getAttribute(sel, 'data-count'));
  const download = async (sel) => {
    const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 15_000 }), page.click(sel)]);
    const path = await dl.path();
    return { name: dl.suggestedFilename(), text: path ? readFileSync(path, 'utf8') : '' };
  };

  // Enough of the demo's chat: links on two platforms, some held by the links rule and some not (the
  // demo posts them every few seconds). The searches end at t0 so that new chat does not change counts.
  const stamp = () => new Date(Math.floor(Date.now() / 1000) * 1000 - 2000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  let t0 = '';
  const linkPlats = await waitFor(async () => {
    const before = stamp();
    const res = await api('SearchMessages', { query: `has:link before:${before}`, channelId: 0, before: 0, limit: 1000 });
    const ms = res.results ?? [];
    const ps = new Set(ms.map((m) => m.platform));
    if (ps.size < 2 || !ms.some((m) => m.held) || !ms.some((m) => !m.held)) return null;
    t0 = before;
    return ps;
  }, 60_000, 1000);
  r.check('the demo has messages with links on two platforms, held and not', !!linkPlats, [...(linkPlats ?? [])].join(','));
  const LINKQ = `has:link before:${t0}`;

  // 1. search: typed filter, then the bar's filters narrow it
  await page.click('[data-page=search]');
  const S = '[data-testid=search-results]';
  await loaded(S, async () => { await page.fill('[data-testid=search-input]', LINKQ); await page.press('[data-testid=search-input]', 'Enter'); });
  const linkRows = await rowsOf('[data-testid=search-row]');
  const n1 = await count('[data-testid=search-count]');
  r.check('typed has:link finds messages, each with a link', n1 > 0 && n1 === linkRows.length && linkRows.every((x) => x.links > 0 || LINK.test(x.text)), `${n1} rows`);
  const understood = (await page.textContent('[data-testid=search-understood]').catch(() => '')) ?? '';
  r.check('the page shows what the search understood', understood.includes('with a link') && understood.includes('before '), understood);
  const byPlat = new Map();
  for (const x of linkRows) byPlat.set(x.platform, (byPlat.get(x.platform) ?? 0) + 1);
  const [plat, platN] = [...byPlat.entries()].sort((a, b) => a[1] - b[1])[0] ?? ['velora', 0];
  await loaded(S, () => page.selectOption('[data-testid=f-platform]', plat));
  let rows = await rowsOf('[data-testid=search-row]');
  const n2 = await count('[data-testid=search-count]');
  const paged = (await page.getAttribute('[data-testid=search-count]', 'data-more')) === 'true';
  r.check(`platform filter (${plat}) narrows the results to that platform`, n2 > 0 && n2 < n1 && (paged || n2 === platN) && rows.every((x) => x.platform === plat && (x.links > 0 || LINK.test(x.text))), `${n1} → ${n2} (had ${platN} of ${plat})`);
  await loaded(S, () => page.selectOption('[data-testid=f-platform]', ''));
  // channel: the busiest channel of the link results
  const byChan = new Map();
  for (const x of linkRows) byChan.set(x.channelId, (byChan.get(x.channelId) ?? 0) + 1);
  const [chan, chanN] = [...byChan.entries()].sort((a, b) => b[1] - a[1])[0] ?? ['0', 0];
  await loaded(S, () => page.selectOption('.page-search .page-head select[aria-label=channel]', chan));
  rows = await rowsOf('[data-testid=search-row]');
  r.check('channel menu narrows the results to that channel', rows.length === chanN && rows.every((x) => x.channelId === chan), `${n1} → ${rows.length} in channel ${chan}`);
  await loaded(S, () => page.selectOption('.page-search .page-head select[aria-label=channel]', '0'));
  // held: only held messages
  await loaded(S, () => page.selectOption('[data-testid=f-held]', 'yes'));
  rows = await rowsOf('[data-testid=search-row]');
  const n3 = await count('[data-testid=search-count]');
  r.check('held filter keeps only held messages with links', n3 > 0 && n3 < n1 && rows.every((x) => x.held === 'true' && (x.links > 0 || LINK.test(x.text))), `${n1} → ${n3}`);
  await loaded(S, () => page.selectOption('[data-testid=f-held]', 'no'));
  rows = await rowsOf('[data-testid=search-row]');
  r.check('"not held" is the rest', rows.length === n1 - n3 && rows.every((x) => x.held === 'false' && (x.links > 0 || LINK.test(x.text))), `${rows.length} + ${n3} held vs ${n1}`);
  // from: one author's messages only
  await loaded(S, () => page.click('[data-testid=f-clear]'));
  await loaded(S, async () => { await page.fill('[data-testid=search-input]', ''); await page.selectOption('[data-testid=f-deleted]', 'yes'); });
  rows = await rowsOf('[data-testid=search-row]');
  r.check('deleted filter alone lists deleted messages only', rows.length > 0 && rows.every((x) => x.deleted === 'true'), `${rows.length} rows`);
  const author = rows.map((x) => x.user).find(Boolean);
  if (author) {
    await loaded(S, async () => { await page.fill('[data-testid=f-from]', author.toUpperCase()); await page.press('[data-testid=f-from]', 'Enter'); });
    rows = await rowsOf('[data-testid=search-row]');
    r.check('from filter (any case) lists that author only', rows.length > 0 && rows.every((x) => x.user.toLowerCase() === author.toLowerCase() && x.deleted === 'true'), `${author}: ${rows.length}`);
  }
  // time: a custom range; every result inside it
  await loaded(S, () => page.click('[data-testid=f-clear]'));
  const now = Date.now();
  const pad = (n) => String(n).padStart(2, '0');
  const local = (ms) => { const d = new Date(ms); return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`; };
  // The last minute or two (the bounds are whole minutes): the demo's chat before it is left out.
  const to = Math.ceil((now + 1000) / 60_000) * 60_000;
  const from = Math.floor((now - 60_000) / 60_000) * 60_000;
  await page.selectOption('[data-testid=f-time-preset]', 'custom');
  await page.fill('[data-testid=f-time-from]', local(from));
  await loaded(S, () => page.fill('[data-testid=f-time-to]', local(to)));
  rows = await rowsOf('[data-testid=search-row]');
  r.check('a time range keeps results inside it', rows.length > 0 && rows.every((x) => Number(x.at) >= from && Number(x.at) < to), `${rows.length} rows in ${local(from)}–${local(to)}`);
  const typed = await page.inputValue('[data-testid=search-input]');
  await loaded(S, async () => { await page.fill('[data-testid=search-input]', `${typed} -is:deleted`); await page.press('[data-testid=search-input]', 'Enter'); });
  const rowsNotDel = await rowsOf('[data-testid=search-row]');
  r.check('typed words combine with the bar', rowsNotDel.every((x) => x.deleted === 'false' && Number(x.at) >= from && Number(x.at) < to), `${rowsNotDel.length} rows`);
  await loaded(S, () => page.selectOption('[data-testid=f-time-preset]', ''));

  // 2. search export: CSV and JSONL of has:link on one platform
  await loaded(S, async () => { await page.fill('[data-testid=search-input]', `${LINKQ} platform:${plat}`); await page.press('[data-testid=search-input]', 'Enter'); });
  const shown = await rowsOf('[data-testid=search-row]');
  const csv = await download('[data-testid=export-search-csv]');
  let table = [];
  try { table = parseCSV(csv.text); } catch (e) { r.check('search CSV parses', false, String(e)); }
  r.check('search CSV downloads with its header', /^modconsole-search-.*\.csv$/.test(csv.name) && JSON.stringify(table[0]) === JSON.stringify(SEARCH_COLUMNS), `${csv.name} ${JSON.stringify(table[0])}`);
  const body = table.slice(1);
  const ci = (c) => SEARCH_COLUMNS.indexOf(c);
  r.check('search CSV rows are the results shown, on that platform, each with a link', body.length === shown.length && body.length > 0 && body.every((x) => x.length === SEARCH_COLUMNS.length && x[ci('platform')] === plat && LINK.test(x[ci('text')]))
    && shown.every((s) => body.some((x) => x[ci('id')] === s.msgId)), `${body.length} rows, ${shown.length} shown`);
  const jl = await download('[data-testid=export-search-jsonl]');
  const lines = jl.text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  r.check('search JSONL has one message per line', lines.length === body.length && lines.every((m) => m.platform === plat && typeof m.channel === 'string' && m.user), `${lines.length} lines`);

  // 2b. where the platform cannot delete, the result offers a local hide (as the queue does), and takes it back
  await loaded(S, async () => { await page.fill('[data-testid=search-input]', 'platform:socketbase after:1h'); await page.press('[data-testid=search-input]', 'Enter'); });
  const hideRow = page.locator('[data-testid=search-row]:has([data-testid=search-act][data-verb=hideMessage])').first();
  if (await hideRow.count()) {
    const hid = await hideRow.getAttribute('data-msg-id');
    const row = page.locator(`[data-testid=search-row][data-msg-id="${hid}"]`);
    await row.locator('[data-testid=search-act][data-verb=hideMessage]').click();
    const hidden = await waitFor(() => row.locator('[data-testid=search-hidden]').count(), 3000);
    const sent = await row.locator('[data-testid=search-action]').count();
    await row.locator('[data-testid=search-act][data-verb=unhideMessage]').click();
    const shownAgain = await waitFor(async () => (await row.locator('[data-testid=search-hidden]').count()) === 0, 3000);
    r.check('a socket-base result is hidden locally (nothing sent) and shown again', hidden > 0 && sent === 0 && shownAgain, `message ${hid}`);
  } else r.check('a socket-base result offers a local hide', false);

  // 3. act on a search result: ban from a row, confirmed, found in the audit log
  await loaded(S, async () => { await page.fill('[data-testid=search-input]', '-is:deleted -is:held after:1h'); await page.press('[data-testid=search-input]', 'Enter'); });
  const banRow = page.locator('[data-testid=search-row]:has([data-testid=search-act][data-verb=ban])').first();
  const banUser = (await banRow.count()) ? await banRow.getAttribute('data-user') : null;
  const banMsg = banUser ? await banRow.getAttribute('data-msg-id') : null;
  const banChan = banUser ? Number(await banRow.getAttribute('data-channel-id')) : 0;
  r.check('a search result offers ban', !!banUser);
  if (banUser) {
    const tBan = Date.now();
    await banRow.locator('[data-testid=search-act][data-verb=ban]').click();
    r.check('ban from a result asks for confirmation', (await waitFor(() => page.locator('[data-testid=confirm-ok]').count(), 3000)) > 0);
    await page.fill('[data-testid=dialog-reason]', 'e2e record ban');
    await page.click('[data-testid=confirm-ok]');
    const chip = page.locator(`[data-testid=search-row][data-msg-id="${banMsg}"] [data-testid=search-action][data-kind=ban]`);
    const st = await waitFor(async () => { const s = await chip.getAttribute('data-status').catch(() => null); return s === 'confirmed' || s === 'failed' ? s : null; }, 20_000, 200);
    r.check('the result shows the ban confirmed', st === 'confirmed', `status=${st} user=${banUser}`);
    await page.screenshot({ path: join(shots, 'search.png') });
    // the user card opens from the result's name
    await page.locator(`[data-testid=search-row][data-msg-id="${banMsg}"] [data-testid=search-user]`).click();
    r.check('clicking the name opens the user card', (await waitFor(() => page.locator('[data-testid=user-card]').count(), 5000)) > 0);
    await page.keyboard.press('Escape');
    await waitFor(async () => (await page.locator('[data-testid=user-card]').count()) === 0, 3000);

    // 4. audit log: filter by user and kind finds it; kind/status filters
    await page.click('[data-page=audit]');
    const A = '[data-testid=audit]';
    await waitFor(() => page.getAttribute(A, 'data-done').then((v) => Number(v) > 0), 10_000);
    const all = await count('[data-testid=audit-count]');
    await loaded(A, async () => { await page.fill('[data-testid=f-user]', banUser); await page.press('[data-testid=f-user]', 'Enter'); });
    await loaded(A, () => page.selectOption('[data-testid=f-kind]', 'ban'));
    let arows = await rowsOf('[data-testid=audit-row]');
    const mine = arows.find((x) => Number(x.created) >= tBan - 5000 && x.target === banUser);
    r.check('the ban is in the audit log, found by user and kind', !!mine && mine.status === 'confirmed' && Number(mine.channelId) === banChan && !mine.moderator.startsWith('rule:')
      && arows.every((x) => x.kind === 'ban' && x.target.toLowerCase() === banUser.toLowerCase()), JSON.stringify(mine ?? arows.slice(0, 2)));
    // the CSV and JSONL exports of that filter carry the evidence (the message the ban came from)
    const acsv = await download('[data-testid=export-audit-csv]');
    let at = [];
    try { at = parseCSV(acsv.text); } catch (e) { r.check('audit CSV parses', false, String(e)); }
    const ac = (c) => AUDIT_COLUMNS.indexOf(c);
    r.check('audit CSV downloads with its header', /^modconsole-audit-.*\.csv$/.test(acsv.name) && JSON.stringify(at[0]) === JSON.stringify(AUDIT_COLUMNS), JSON.stringify(at[0]));
    const arow = at.slice(1).find((x) => x[ac('id')] === mine?.actionId);
    r.check('audit CSV rows match the filter and the ban carries its evidence', at.length - 1 === arows.length && at.slice(1).every((x) => x[ac('kind')] === 'ban' && x[ac('target')].toLowerCase() === banUser.toLowerCase())
      && !!arow && arow[ac('status')] === 'confirmed' && arow[ac('message_id')] !== '' && arow[ac('evidence')].includes(`${banUser}:`), JSON.stringify(arow ?? null).slice(0, 300));
    const ajl = await download('[data-testid=export-audit-jsonl]');
    const alines = ajl.text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const aj = alines.find((x) => String(x.id) === mine?.actionId);
    r.check('audit JSONL has the ban with its evidence messages', alines.length === arows.length && !!aj && Array.isArray(aj.evidenceMessages) && aj.evidenceMessages.some((m) => String(m.id) === banMsg), JSON.stringify(aj ?? null).slice(0, 300));

    await loaded(A, () => page.click('[data-testid=f-clear]'));
    await loaded(A, () => page.selectOption('[data-testid=f-kind]', 'delete'));
    arows = await rowsOf('[data-testid=audit-row]');
    const nDel = await count('[data-testid=audit-count]');
    await loaded(A, () => page.selectOption('[data-testid=f-kind]', 'ban'));
    const banRows = await rowsOf('[data-testid=audit-row]');
    r.check('audit kind filter: only that kind, and the count changes', arows.length > 0 && arows.every((x) => x.kind === 'delete') && banRows.length > 0 && banRows.every((x) => x.kind === 'ban') && banRows.length !== nDel, `all=${all} delete=${nDel} ban=${banRows.length}`);
    await loaded(A, () => page.selectOption('[data-testid=f-kind]', ''));
    for (const s of ['confirmed', 'failed']) {
      await loaded(A, () => page.selectOption('[data-testid=f-status]', s));
      const sr = await rowsOf('[data-testid=audit-row]');
      r.check(`audit status filter "${s}": every row ${s}`, sr.every((x) => x.status === s) && (s !== 'confirmed' || sr.length > 0), `${sr.length} rows`);
    }
    await loaded(A, () => page.selectOption('[data-testid=f-status]', ''));
    await loaded(A, () => page.selectOption('[data-testid=audit-filters] select[aria-label=channel]', String(banChan)));
    const cr = await rowsOf('[data-testid=audit-row]');
    r.check('audit channel filter: only that channel', cr.length > 0 && cr.every((x) => Number(x.channelId) === banChan), `${cr.length} rows`);
    await loaded(A, () => page.selectOption('[data-testid=audit-filters] select[aria-label=channel]', '0'));
    const tPreset = Date.now();
    await loaded(A, () => page.selectOption('[data-testid=audit-filters] [data-testid=f-time-preset]', '15m'));
    const tr = await rowsOf('[data-testid=audit-row]');
    r.check('audit time filter: only the last 15 minutes', tr.length > 0 && tr.every((x) => Number(x.created) >= tPreset - 15 * 60_000 - 1000), `${tr.length} rows`);
    await loaded(A, () => page.selectOption('[data-testid=audit-filters] [data-testid=f-time-preset]', ''));
    const ruleMod = (await rowsOf('[data-testid=audit-row]')).map((x) => x.moderator).find((m) => m.startsWith('rule:'));
    if (ruleMod) {
      await loaded(A, async () => { await page.fill('[data-testid=f-moderator]', ruleMod); await page.press('[data-testid=f-moderator]', 'Enter'); });
      const mr = await rowsOf('[data-testid=audit-row]');
      r.check('audit moderator filter: only that moderator', mr.length > 0 && mr.every((x) => x.moderator === ruleMod), `${ruleMod}: ${mr.length}`);
    }
    await loaded(A, () => page.click('[data-testid=f-clear]'));
    await page.screenshot({ path: join(shots, 'audit.png') });

    // 5. the chat log of the ban's channel today, in Chatterino's format
    await page.click('[data-page=search]');
    await page.selectOption('[data-testid=chatlog-export] select', String(banChan));
    const log = await download('[data-testid=export-chatlog-text]');
    const ll = log.text.split('\n').filter(Boolean);
    const chName = channels.find((c) => c.id === banChan)?.name ?? '';
    r.check('chat log downloads in Chatterino format', log.name.endsWith('.log') && log.name.includes(chName.replace(/[^A-Za-z0-9._-]/g, '_')) && /^# Start logging at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d /.test(ll[0] ?? '')
      && ll.length > 1 && ll.slice(1).every((l) => /^\[\d\d:\d\d:\d\d\] /.test(l)), `${log.name}: ${ll.slice(0, 2).join(' | ')}`);
  }

  // 6. mod events: typing, presence and activity hidden by default, shown by the toggle
  const noisy = await waitFor(async () => ((await api('FilterModEvents', { types: NOISE, limit: 10 })).events ?? []).length, 30_000, 1000);
  r.check('the demo reports typing/presence/activity events', noisy > 0);
  await page.click('[data-page=events]');
  const E = '[data-testid=events]';
  await waitFor(() => page.getAttribute(E, 'data-done').then((v) => Number(v) > 0), 10_000);
  let ev = await rowsOf('[data-testid=event-row]');
  const boxes = await page.$$eval('[data-testid=f-type]', (els) => els.map((e) => [e.dataset.type, e.checked]));
  await page.screenshot({ path: join(shots, 'events.png') });
  r.check('mod events hide typing/presence/activity by default', ev.length > 0 && ev.every((x) => !NOISE.includes(x.type)) && boxes.filter(([ty, on]) => NOISE.includes(ty) && !on).length === 3 && boxes.some(([ty, on]) => ty === 'moderation' && on), `${ev.length} events; ${JSON.stringify(boxes)}`);
  await loaded(E, () => page.check('[data-testid=f-noise]'));
  ev = await rowsOf('[data-testid=event-row]');
  r.check('the toggle shows them', ev.some((x) => NOISE.includes(x.type)), `${ev.filter((x) => NOISE.includes(x.type)).length} of ${ev.length}`);
  await loaded(E, () => page.uncheck('[data-testid=f-noise]'));
  await loaded(E, () => page.selectOption('[data-testid=f-kind]', 'delete'));
  ev = await rowsOf('[data-testid=event-row]');
  r.check('mod events kind filter', ev.length > 0 && ev.every((x) => x.kind === 'delete'), `${ev.length}`);
  const evPlat = ev[0]?.platform;
  if (evPlat) {
    await loaded(E, () => page.selectOption('[data-testid=f-platform]', evPlat));
    const ep = await rowsOf('[data-testid=event-row]');
    r.check('mod events platform filter', ep.length > 0 && ep.every((x) => x.platform === evPlat && x.kind === 'delete'), `${evPlat}: ${ep.length}`);
  }
  r.check('no page errors', errors.length === 0, errors.slice(0, 3).join('; '));
} catch (e) {
  r.check('test ran to the end', false, String(e?.stack || e));
} finally {
  await browser.close().catch(() => {});
  await t.close();
  if (!process.env.SCREENSHOTS) rmSync(shots, { recursive: true, force: true });
}
r.finish();
