// "Sign in with Kick" from the accounts screen, in browser mode, against the
// demo's Kick simulator (run it against the real console: CONSOLE_URL from
// `modconsole demo`): the button opens the simulator's authorize page in a
// new tab, which approves the demo user and redirects to the console's
// one-shot loopback listener; the tab says so, the account shows the app and
// scopes, connects with the new token, and the listener is gone. Sign out
// then revokes and the button is back.
//
//   CONSOLE_URL='http://127.0.0.1:PORT/?token=…' node e2e/signin.e2e.mjs
import { launch, Results, target, waitFor } from './lib.mjs';

const r = new Results();
if (!process.env.CONSOLE_URL) {
  console.log('signin.e2e: needs the real console (CONSOLE_URL); run build/ci/e2e.sh ./modconsole');
  r.check('CONSOLE_URL is set', false);
  r.finish();
}
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
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(t.url);
  await page.waitForSelector('[data-page=accounts]');
  const kick = await waitFor(async () => (await api(page, 'ListAccounts')).find((a) => a.platform === 'kichat' && a.oauth));
  r.check('the demo has a Kick account with a browser sign-in', !!kick);
  if (!kick) throw new Error('no Kick account');
  await page.click('[data-page=accounts]');
  const row = page.locator(`[data-testid=account][data-account-id="${kick.id}"]`);
  const button = row.locator('[data-testid=account-signin-button]');
  r.check('the button reads "Sign in with Kick"', (await button.textContent())?.trim() === 'Sign in with Kick', await button.textContent());

  const popup = context.waitForEvent('page', { timeout: 10_000 });
  await button.click();
  const tab = await popup;
  await tab.waitForLoadState('load');
  const tabURL = new URL(tab.url());
  r.check('the tab lands on the loopback callback', tabURL.hostname === '127.0.0.1' && tabURL.pathname === '/oauth/callback', tabURL.origin + tabURL.pathname);
  r.check('the tab says signed in', /Signed in/.test(await tab.textContent('body')), await tab.textContent('body'));

  const state = row.locator('[data-testid=account-signin-state]');
  const shown = await waitFor(async () => (await state.count()) && (await state.textContent()));
  r.check('the account shows the app and the scopes', /signed in \(app modconsole-demo\)/.test(shown || '') && /moderation:ban/.test(shown || ''), shown);
  const connected = await waitFor(async () => {
    const a = (await api(page, 'ListAccounts')).find((x) => x.id === kick.id);
    return a && a.oauth?.signedIn && a.health.status === 'connected' && a;
  }, 15_000);
  r.check('the account connects with the signed-in token', !!connected, JSON.stringify(connected?.health));
  r.check('no scope is missing', !connected?.oauth?.missing?.length, connected?.oauth?.missing?.join('; '));
  const again = await fetch(tabURL.origin + '/oauth/callback').then(() => 'answered', () => 'refused');
  r.check('the loopback listener is closed after its one use', again === 'refused', again);

  await row.locator('[data-testid=account-signout-button]').click();
  const back = await waitFor(async () => (await row.locator('[data-testid=account-signin-button]').textContent())?.trim() === 'Sign in with Kick');
  r.check('sign out brings the button back', !!back);
  const after = (await api(page, 'ListAccounts')).find((x) => x.id === kick.id);
  r.check('signed out', after && !after.oauth?.signedIn, JSON.stringify(after?.oauth));
  await context.close();
} catch (e) {
  r.check('signin run', false, String(e?.stack || e));
} finally {
  await browser.close();
  await t.close();
}
r.finish();
