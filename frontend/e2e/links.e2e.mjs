// Links and navigation in a real browser (docs/security.md, section 3): a
// click on a chat link never navigates the console; in browser mode it opens
// a new tab, in the desktop window (simulated here: Wails' bindings stubbed,
// with a spy as Browser.OpenURL) it goes to the system browser through the
// bound opener; a script navigation to another origin is cancelled.
//
//   node e2e/links.e2e.mjs                   (starts ../modconsole demo)
//   CONSOLE_URL='http://127.0.0.1:PORT/?token=…' node e2e/links.e2e.mjs
import { launch, Results, target, waitFor } from './lib.mjs';

const HREF = 'https://links-e2e.example/clip?id=1';
const r = new Results();
const t = await target();
const browser = await launch();

/** addLink puts a chat-style link into the page, or returns a real chat link's href when one is shown. */
async function linkToClick(page) {
  return page.evaluate((href) => {
    const a = document.createElement('a');
    a.className = 'link';
    a.href = href;
    a.rel = 'noopener noreferrer nofollow';
    a.target = '_blank';
    a.textContent = 'a link';
    a.dataset.testid = 'e2e-link';
    a.style.cssText = 'position:fixed;top:4px;left:4px;z-index:99999;background:#fff;color:#000';
    document.body.appendChild(a);
    return a.href;
  }, HREF);
}

try {
  // Browser mode.
  const ctx = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  // The link's host is answered here (the machine is offline).
  await ctx.route('https://links-e2e.example/**', (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<title>clip</title>' }));
  const page = await ctx.newPage();
  await page.goto(t.url);
  await waitFor(() => page.locator('[data-testid=channel]').count(), 10_000);
  const home = page.url();
  const href = await linkToClick(page);
  const popupP = ctx.waitForEvent('page', { timeout: 5000 }).catch(() => null);
  await page.click('[data-testid=e2e-link]');
  const popup = await popupP;
  r.check('browser mode: a link click opens a new tab', !!popup);
  if (popup) {
    await popup.waitForLoadState('commit').catch(() => {});
    await popup.waitForLoadState('load').catch(() => {});
    r.check('browser mode: the new tab goes to the link', popup.url() === href, popup.url());
    const opener = await popup.evaluate(() => window.opener === null).catch((e) => String(e));
    r.check('browser mode: the new tab has no opener', opener === true, String(opener));
  }
  r.check('browser mode: the console stays where it was', page.url() === home, page.url());
  // A real chat link, when the chat shows one.
  const real = page.locator('.msg-text a.link').first();
  if (await real.count()) {
    const pp = ctx.waitForEvent('page', { timeout: 5000 }).catch(() => null);
    await real.click();
    r.check('browser mode: a chat link opens a new tab, the console stays', !!(await pp) && page.url() === home, page.url());
  }
  // A script navigation to another origin is cancelled (Navigation API; the
  // desktop window on Windows is Chromium too).
  await page.evaluate(() => { window.location.href = 'http://navigate-away.example/'; });
  await page.waitForTimeout(700);
  r.check('a script navigation to another origin is cancelled', page.url() === home, page.url());
  await ctx.close();

  // The desktop window, simulated: Wails' bindings stubbed before the app loads.
  const dctx = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  const dpage = await dctx.newPage();
  await dpage.addInitScript(() => {
    window.__opened = [];
    const app = new Proxy({}, { get: (_o, name) => async () => (name === 'Overview' ? { mode: 'desktop', accounts: [], channels: [], platforms: [], keyring: { ok: true } } : []) });
    window.go = { app: { App: app, Browser: { OpenURL: async (u) => { window.__opened.push(u); } } } };
    window.runtime = { EventsOn: () => () => {}, BrowserOpenURL: (u) => window.__opened.push(`runtime:${u}`) };
  });
  await dpage.goto(t.url);
  await dpage.waitForTimeout(500);
  const dhome = dpage.url();
  await linkToClick(dpage);
  let extra = 0;
  dctx.on('page', () => extra++);
  await dpage.click('[data-testid=e2e-link]');
  const opened = await waitFor(() => dpage.evaluate(() => window.__opened.slice()).then((o) => (o.length ? o : null)), 3000);
  r.check('desktop: a link click goes to the bound opener (system browser)', JSON.stringify(opened) === JSON.stringify([HREF]), JSON.stringify(opened));
  await dpage.click('[data-testid=e2e-link]', { button: 'middle' });
  await dpage.waitForTimeout(300);
  const opened2 = await dpage.evaluate(() => window.__opened.slice());
  r.check('desktop: a middle click goes to the opener too', opened2.length === 2 && opened2[1] === HREF, JSON.stringify(opened2));
  r.check('desktop: no window opens and the console stays', extra === 0 && dpage.url() === dhome, `${extra} windows, ${dpage.url()}`);
  await dctx.close();
} catch (e) {
  r.check('test ran to the end', false, String(e?.stack || e));
} finally {
  await browser.close().catch(() => {});
  await t.close();
}
r.finish();
