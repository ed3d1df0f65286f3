// Browser mode's session in a real browser (docs/security.md, section 4):
// after the printed URL is opened, the token is in no place a script can
// read (address bar, document.cookie, sessionStorage, localStorage), the
// session cookie is HttpOnly and SameSite=Strict, and a page of another
// origin can neither call the API nor open the event stream.
//
//   node e2e/session.e2e.mjs                 (starts ../modconsole demo)
//   CONSOLE_URL='http://127.0.0.1:PORT/?token=…' node e2e/session.e2e.mjs
import { launch, Results, target, waitFor } from './lib.mjs';

const r = new Results();
const t = await target();
const browser = await launch();
try {
  const origin = new URL(t.url).origin;
  const token = new URL(t.url).searchParams.get('token');
  r.check('the printed URL carries a token', !!token && token.length >= 16);
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(t.url);
  await waitFor(() => page.locator('[data-testid=channel]').count(), 10_000);
  const visible = await page.evaluate(() => {
    const all = (s) => { const out = []; for (let i = 0; i < s.length; i++) { const k = s.key(i); out.push(k, s.getItem(k)); } return out.join('\n'); };
    return { url: location.href, cookie: document.cookie, session: all(sessionStorage), local: all(localStorage), history: history.state ? JSON.stringify(history.state) : '' };
  });
  for (const [where, v] of Object.entries(visible)) r.check(`the token is not in ${where}`, !v.includes(token), where === 'url' ? v : '');
  const cookies = await ctx.cookies(origin);
  const sess = cookies.find((c) => c.name.startsWith('mc_session'));
  r.check('the session cookie is HttpOnly and SameSite=Strict', !!sess && sess.httpOnly && sess.sameSite === 'Strict', JSON.stringify(cookies.map((c) => ({ name: c.name, httpOnly: c.httpOnly, sameSite: c.sameSite }))));
  r.check('the console works on the cookie alone (API and event stream)', await page.evaluate(async () => (await fetch('/api/ListAccounts', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '[]' })).ok));

  // A hostile page in the same browser, on another origin.
  await ctx.route('http://hostile.example/**', (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<title>hostile</title>' }));
  const evil = await ctx.newPage();
  const apiStatuses = [];
  evil.on('response', (res) => { if (res.url().startsWith(origin)) apiStatuses.push(res.status()); });
  await evil.goto('http://hostile.example/');
  const attempt = await evil.evaluate(async (o) => {
    const out = {};
    try {
      const res = await fetch(`${o}/api/ListAccounts`, { method: 'POST', credentials: 'include', headers: { 'Content-Type': 'text/plain' }, body: '[]' });
      out.fetch = `status ${res.status}`;
      out.read = await res.text().catch(() => '');
    } catch (e) {
      out.fetch = `rejected: ${e}`;
    }
    try {
      const res = await fetch(`${o}/api/ListAccounts`, { method: 'POST', mode: 'no-cors', credentials: 'include', body: '[]' });
      out.noCors = res.type;
    } catch (e) {
      out.noCors = `rejected: ${e}`;
    }
    out.socket = await new Promise((resolve) => {
      let ws;
      try { ws = new WebSocket(`${o.replace('http', 'ws')}/api/events`); } catch (e) { resolve(`refused: ${e}`); return; }
      const timer = setTimeout(() => resolve('no answer'), 4000);
      ws.onopen = () => { clearTimeout(timer); resolve('open'); ws.close(); };
      ws.onerror = () => { clearTimeout(timer); resolve('error'); };
    });
    return out;
  }, origin);
  r.check('a foreign page cannot read an API answer', !attempt.read || !attempt.read.startsWith('['), JSON.stringify(attempt));
  r.check('every API request of the foreign page was refused (401/403) or never sent', apiStatuses.every((s) => s === 401 || s === 403), JSON.stringify(apiStatuses));
  r.check('a foreign page cannot open the event stream', attempt.socket !== 'open', attempt.socket);
  await ctx.close();
} catch (e) {
  r.check('test ran to the end', false, String(e?.stack || e));
} finally {
  await browser.close().catch(() => {});
  await t.close();
}
r.finish();
