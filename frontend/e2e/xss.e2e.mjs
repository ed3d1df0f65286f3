// S1 in a real browser: hostile chat content must stay text. Sends ≥ 50 XSS
// payloads through the UI's send box on the first writable channel, and
// checks that each shows up verbatim as text, that no element or on*
// attribute came from them, that none ran, and that the CSP saw nothing.
//
//   node e2e/xss.e2e.mjs                      (starts ../modconsole demo)
//   CONSOLE_URL='http://127.0.0.1:PORT/?token=…' node e2e/xss.e2e.mjs
import { launch, Results, target, waitFor } from './lib.mjs';

const X = 'window.__xss=(window.__xss||0)+1';
const base = [
  `<img src=x onerror="${X}">`,
  `<img src=x onerror=${X}>`,
  `<script>${X}</script>`,
  `<svg onload="${X}">`,
  `<svg><script>${X}</script></svg>`,
  `"><iframe src="javascript:${X}"></iframe>`,
  `'><iframe srcdoc="<script>parent.${X}</script>"></iframe>`,
  `<a href="javascript:${X}">click</a>`,
  `javascript:${X}`,
  `<body onload="${X}">`,
  `<input autofocus onfocus="${X}">`,
  `<details open ontoggle="${X}">`,
  `<video><source onerror="${X}"></video>`,
  `<audio src=x onerror="${X}">`,
  `<object data="javascript:${X}"></object>`,
  `<embed src="javascript:${X}">`,
  `<math><mtext><table><mglyph><style><img src=x onerror="${X}">`,
  `<marquee onstart="${X}">m</marquee>`,
  `<div style="background:url(javascript:${X})">`,
  `<link rel=stylesheet href="javascript:${X}">`,
  `<meta http-equiv="refresh" content="0;url=javascript:${X}">`,
  `<form action="javascript:${X}"><button>go</button></form>`,
  `<button formaction="javascript:${X}">b</button>`,
  `" onmouseover="${X}" x="`,
  `' onfocus='${X}' autofocus='`,
  `</textarea><script>${X}</script>`,
  `</title><script>${X}</script>`,
  `</style><img src=x onerror="${X}">`,
  `<scr<script>ipt>${X}</scr</script>ipt>`,
  `<IMG SRC=x OnErRoR="${X}">`,
  `<img src="x" onerror="&#119;indow.__xss++">`,
  `<img src=x:alert(1) onerror=eval('${X}')>`,
  `<svg><animate onbegin="${X}" attributeName=x dur=1s>`,
  `<svg><a xlink:href="javascript:${X}"><text x=20 y=20>x</text></a></svg>`,
  `<iframe src="data:text/html,<script>parent.${X}</script>"></iframe>`,
  `<base href="javascript:${X}//">`,
  `<template><img src=x onerror="${X}"></template>`,
  `<noscript><p title="</noscript><img src=x onerror=${X}>">`,
  `<style>@import 'javascript:${X}';</style>`,
  `{{constructor.constructor('${X}')()}}`,
  `\${${X}}`,
  `<x onclick="${X}">click me</x>`,
  `<select onfocus="${X}" autofocus>`,
  `<textarea onfocus="${X}" autofocus>`,
  `<keygen onfocus="${X}" autofocus>`,
  `<isindex type=image src=x onerror="${X}">`,
  `<img src=x onerror="${X}"//`,
  `<a href="&#106;avascript:${X}">entity</a>`,
  `<a href=" javascript:${X}">space</a>`,
  `"><svg/onload=${X}>`,
  `<svg><foreignObject><img src=x onerror="${X}"></foreignObject></svg>`,
  `&lt;script&gt;${X}&lt;/script&gt;`,
  `<img src=x onerror=\u0022${X}\u0022>`,
  `<iframe/onload=${X}>`,
  `<body/onpageshow=${X}>`,
];
const PAYLOADS = base.map((p, i) => `xss${String(i).padStart(2, '0')} ${p}`);

const r = new Results();
const t = await target();
const browser = await launch();
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const cspConsole = [];
  const pageErrors = [];
  page.on('console', (m) => { if (/Content Security Policy|Refused to/i.test(m.text())) cspConsole.push(m.text()); });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('dialog', (d) => { pageErrors.push(`dialog opened: ${d.message()}`); void d.dismiss(); });
  await page.addInitScript(() => {
    window.__xss = 0;
    window.__csp = [];
    window.__seen = new Set();
    window.__bad = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
    const forbidden = 'script,iframe,object,embed,svg,math,base,meta,link,form,input[autofocus],details,video,audio,marquee,template,noscript,style,x,keygen,isindex,foreignObject';
    const inspect = (el) => {
      if (!(el instanceof Element)) return;
      const nodes = [el, ...el.querySelectorAll('*')];
      for (const n of nodes) {
        for (const a of n.attributes) if (/^on/i.test(a.name) || /^\s*javascript:/i.test(a.value)) window.__bad.push(`${n.tagName} ${a.name}=${a.value}`);
        if (n.closest('.vrow, .feed-row, .detail, .pin-bar, .chan-header, .toast, .dialog') && n.matches(forbidden)) window.__bad.push(`element <${n.tagName.toLowerCase()}> in content`);
        if (n.matches('img') && !/^https?:/i.test(n.getAttribute('src') || '')) window.__bad.push(`img src=${n.getAttribute('src')}`);
      }
      for (const m of el.querySelectorAll ? [el, ...el.querySelectorAll('.msg-text')] : []) if (m.classList?.contains('msg-text')) window.__seen.add(m.textContent);
    };
    new MutationObserver((muts) => {
      for (const m of muts) {
        for (const n of m.addedNodes) inspect(n);
        if (m.type === 'attributes') inspect(m.target);
      }
    }).observe(document, { subtree: true, childList: true, attributes: true });
  });

  await page.goto(t.url);
  const rows = await waitFor(() => page.locator('[data-testid=chat-row], [data-testid=queue-item]').count().catch(() => 0), 1000).catch(() => 0);
  void rows;
  // Open the first channel whose send box is enabled.
  await waitFor(() => page.locator('[data-testid=channel]').count(), 10_000);
  const chans = await page.locator('[data-testid=channel]').all();
  let opened = false;
  for (const c of chans) {
    await c.click();
    await page.waitForTimeout(300);
    if (await page.locator('[data-testid=send-input]:enabled').count()) { opened = true; break; }
  }
  r.check('a channel with an enabled send box exists', opened);
  const gotMsgs = await waitFor(() => page.locator('[data-testid=chat-row]').count(), 10_000);
  r.check('chat rows render', gotMsgs > 0, `${gotMsgs} rows`);

  const input = page.locator('[data-testid=send-input]');
  for (const p of PAYLOADS) {
    await input.fill(p);
    await input.press('Enter');
    await waitFor(async () => (await input.inputValue()) === '', 5000, 20);
  }
  r.check(`sent ${PAYLOADS.length} distinct payloads`, PAYLOADS.length >= 50 && new Set(PAYLOADS).size === PAYLOADS.length);

  const missing = await waitFor(async () => {
    const m = await page.evaluate((ps) => ps.filter((p) => ![...window.__seen].some((s) => s === p || s.includes(p))), PAYLOADS);
    return m.length === 0 ? [] : null;
  }, 30_000, 250) ?? await page.evaluate((ps) => ps.filter((p) => ![...window.__seen].some((s) => s.includes(p))), PAYLOADS);
  if (missing.length && process.env.XSS_DEBUG) await page.screenshot({ path: '/tmp/xss-debug.png' });
  if (missing.length) console.log('debug seen:', await page.evaluate(() => [window.__seen.size, [...window.__seen].slice(-3), window.__bad.length]));
  r.check('every payload appears verbatim as text in chat', missing.length === 0, missing.length ? `missing ${missing.length}: ${missing.slice(0, 3).join(' | ')}` : '');

  // Visit every view so hostile names, titles, reasons and outcomes pass through all of them.
  await page.click('[data-testid=all-queues]');
  await page.waitForTimeout(500);
  const qi = page.locator('[data-testid=queue-item]').first();
  if (await qi.count()) { await qi.click(); await page.waitForTimeout(200); }
  for (const pg of ['audit', 'events', 'rules', 'accounts']) {
    await page.click(`[data-page=${pg}]`);
    await page.waitForTimeout(500);
  }
  await page.click('[data-page=search]');
  await page.fill('[data-testid=search-input]', 'xss');
  await page.press('[data-testid=search-input]', 'Enter');
  await page.waitForTimeout(1000);
  const searchRows = await page.locator('[data-testid=search-row]').count();
  r.check('search view renders hostile results', searchRows > 0, `${searchRows} rows`);
  await page.click('[data-page=queues]');
  await page.waitForTimeout(1500);

  const state = await page.evaluate(() => ({
    xss: window.__xss,
    bad: window.__bad.slice(0, 10),
    badCount: window.__bad.length,
    csp: window.__csp,
    scripts: [...document.scripts].filter((s) => !s.src || s.src.includes('javascript:')).length,
    onAttrs: [...document.querySelectorAll('*')].flatMap((e) => [...e.attributes].filter((a) => /^on/i.test(a.name)).map((a) => `${e.tagName}.${a.name}`)),
    contentEls: document.querySelectorAll('.vrow iframe, .vrow svg, .vrow script, .vrow object, .vrow embed, .vrow img[src="x"], .vrow form, .vrow input, .vrow x, img[src="x"], iframe').length,
  }));
  r.check('window.__xss === 0', state.xss === 0, `__xss=${state.xss}`);
  r.check('no element or attribute created from payloads (observed)', state.badCount === 0, state.bad.join('; '));
  r.check('no on* attributes in the document', state.onAttrs.length === 0, state.onAttrs.slice(0, 5).join(', '));
  r.check('no payload elements in the document', state.contentEls === 0, `${state.contentEls}`);
  r.check('no inline scripts', state.scripts === 0, `${state.scripts}`);
  r.check('no CSP violation events', state.csp.length === 0 && cspConsole.length === 0, [...state.csp, ...cspConsole].slice(0, 3).join('; '));
  r.check('no page errors or dialogs', pageErrors.length === 0, pageErrors.slice(0, 3).join('; '));
} catch (e) {
  r.check('test ran to the end', false, String(e?.stack || e));
} finally {
  await browser.close().catch(() => {});
  await t.close();
}
r.finish();
