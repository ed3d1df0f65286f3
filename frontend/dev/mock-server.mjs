// Mock console backend for frontend work without Go: serves dist/ with the
// production CSP, answers POST /api/<Method> with fake data and pushes a
// console:batch every 100 ms over /api/events, including hostile strings.
//
//   node dev/mock-server.mjs [--port 5174]      (prints the URL with ?token=)
//   import { startMock } from './dev/mock-server.mjs'   (tests)
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';

const DIST = fileURLToPath(new URL('../dist/', import.meta.url));
export const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon' };

/** Hostile strings the mock mixes into every field a platform controls. */
export const HOSTILE = [
  '<img src=x onerror="window.__xss=(window.__xss||0)+1">',
  '<script>window.__xss=(window.__xss||0)+1</script>',
  '<svg onload="window.__xss=(window.__xss||0)+1">',
  '"><iframe src="javascript:window.__xss++"></iframe>',
  "'><b onmouseover=alert(1)>hover</b>",
  '<a href="javascript:window.__xss++">click</a>',
  '{{constructor.constructor("window.__xss++")()}}',
  '&lt;b&gt;entity&lt;/b&gt; &amp; <u>u</u>',
];

const pick = (a) => a[Math.floor(Math.random() * a.length)];

function caps(platform) {
  const all = (extra = {}) => ({
    ban: { supported: true }, timeout: { supported: true }, unban: { supported: true }, delete: { supported: true },
    clear: { supported: true }, pin: { supported: true }, announce: { supported: true }, send: { supported: true }, ...extra,
  });
  switch (platform) {
    case 'velora':
      return { actions: all(), maxMessage: 500, announceColors: ['primary', 'blue', 'green', 'orange', 'purple'], timeoutPresets: [60, 600, 3600, 86400], replies: true, effects: ['rainbow'] };
    case 'kichat':
      return { actions: all({ pin: { supported: false, note: 'Kick has no public pin endpoint' }, announce: { supported: false, note: 'Kick has no announcements API' }, timeout: { supported: true, note: 'whole minutes 1–10080' } }), readOnly: true, maxMessage: 500, timeoutPresets: [60, 300, 600, 3600] };
    case 'glimesh':
      return { actions: all({ timeout: { supported: true, note: 'Glimesh timeouts are 5 or 15 minutes only' }, pin: { supported: false, note: 'Glimesh has no pinned messages' }, announce: { supported: false, note: 'Glimesh has no announcements' }, delete: { supported: true } }), maxMessage: 255, timeoutPresets: [300, 900] };
    case 'veroai':
      return { actions: all({ pin: { supported: true, inferred: true, note: 'wire form inferred from the web client' } }), maxMessage: 400, announceColors: ['#5aa2ff', '#3fbf7f', '#e0a33a', 'red;background:url(x)'], timeoutPresets: [30, 300, 1800] };
    default:
      return { actions: all({ timeout: { supported: true, inferred: true }, pin: { supported: false, note: 'socket-base relays have no pin' }, announce: { supported: false, note: 'not supported by socket-base' } }), maxMessage: 300, timeoutPresets: [60, 600] };
  }
}

function seed() {
  const now = Date.now();
  const h = (status, extra = {}) => ({ status, since: now, reconnects: 0, ...extra });
  const accounts = [
    { id: 1, platform: 'velora', name: 'night_mod', settings: { server: 'wss://velora.example' }, hasToken: true, guest: false, health: h('connected') },
    { id: 2, platform: 'kichat', name: 'kick_reader', settings: {}, hasToken: false, guest: true, health: h('guest') },
    { id: 3, platform: 'glimesh', name: 'glim_mod', settings: {}, hasToken: true, guest: false, health: h('connected') },
    { id: 4, platform: 'veroai', name: 'vero_mod', settings: {}, hasToken: true, guest: false, health: h('connected'), secretKeys: ['streamerbot'] },
    { id: 5, platform: 'socketbase', name: 'relay_bot', settings: { hash: 'mock-project', namespace: '/chat' }, hasToken: true, guest: false, secretKeys: ['jwt_secret'], health: h('reconnecting', { reconnects: 2, nextRetry: now + 4000 }) },
  ];
  const ch = (id, accountId, platform, name, extra = {}) => ({
    id, accountId, platform, name, health: h('connected'), readOnly: false, viewers: 100 + Math.floor(Math.random() * 5000),
    capabilities: caps(platform), queueOpen: 0, state: {}, ...extra,
  });
  const channels = [
    ch(1, 1, 'velora', 'nightowl', { state: { slow: 30, followers: 600, title: HOSTILE[0] }, pinned: { text: `Rules: be nice ${HOSTILE[2]}`, user: 'night_mod', until: now + 300_000 } }),
    ch(2, 1, 'velora', 'speedrun_hq'),
    ch(3, 2, 'kichat', 'kickcity', { health: h('guest'), readOnly: true, capabilities: { ...caps('kichat'), readOnly: true } }),
    ch(4, 3, 'glimesh', 'glimcast', { state: { subscribers: true } }),
    ch(5, 4, 'veroai', 'vero_live', { state: { emotes: true } }),
    ch(6, 5, 'socketbase', 'relay', { health: h('reconnecting', { reconnects: 2, nextRetry: now + 4000 }) }),
    ch(7, 3, 'glimesh', 'oldcast', { health: h('failed', { error: 'bad token (401 Unauthorized)' }) }),
  ];
  return { accounts, channels };
}

/** PLATFORMS is a shortened Overview.platforms (the real ones are each connector's Describe, in backend/connector/NAME/describe.go). */
const PLATFORMS = [
  { platform: 'velora', label: 'Velora', tokenLabel: 'User JWT or OAuth access token (empty: guest, read-only)', secrets: [{ key: 'streamerbot', label: 'Streamer.bot bridge token' }], settings: [{ key: 'url', label: 'Gateway URL', default: 'https://api.velora.tv' }, { key: 'auth', label: 'How to send the token', default: 'payload' }] },
  { platform: 'kichat', label: 'Kick (via Kichat)', tokenLabel: '', secrets: [{ key: 'kick', label: `Kick OAuth token ${HOSTILE[0]}` }], settings: [{ key: 'url', label: 'Kichat relay URL', default: 'https://api.kichat.dev' }] },
  { platform: 'glimesh', label: 'Glimesh', tokenLabel: 'Access token with the chat scope', settings: [{ key: 'client_id', label: 'Application client id' }] },
  { platform: 'veroai', label: 'VeroAI', tokenLabel: 'REST API key', settings: [{ key: 'api_url', label: 'REST base', default: 'https://api.veroagents.com/v1' }] },
  { platform: 'socketbase', label: 'socket-base', tokenLabel: 'A JWT for this project (or store the jwt_secret)', secrets: [{ key: 'jwt_secret', label: "The project's jwt_secret" }], settings: [{ key: 'url', label: 'Base URL', default: 'https://api.socket-base.com', endpoint: true }, { key: 'hash', label: 'Project hash', required: true }, { key: 'allow_insecure', label: '1: allow plain ws:/http: to hosts other than this machine' }] },
];

/** hostOf is a URL's lower-case host[:port] ('' when it has none). */
const hostOf = (raw) => { try { return new URL(String(raw).trim()).host.toLowerCase(); } catch { return ''; } };
const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/;

/** bindSecrets mimics the service: a moved endpoint holds the stored secrets back until re-entered or confirmed; plaintext to other hosts needs allow_insecure. */
function bindSecrets(a, inp) {
  const settings = inp.settings || {};
  if (settings.allow_insecure !== '1') {
    for (const [k, v] of Object.entries(settings)) {
      const m = /^(ws|http):\/\/([^/?#]+)/i.exec(String(v).trim());
      if (m && !LOOPBACK.test(m[2].toLowerCase())) throw new Error(`invalid request: setting ${k}: ${m[1]}://${m[2]} is plaintext to a host other than this machine; turn on allow_insecure`);
    }
  }
  const info = PLATFORMS.find((p) => p.platform === a.platform);
  const hosts = (info?.settings ?? []).filter((f) => f.endpoint).map((f) => hostOf(settings[f.key] || f.default || '')).filter(Boolean);
  a.bound ??= (info?.settings ?? []).filter((f) => f.endpoint).map((f) => hostOf((a.settings ?? {})[f.key] || f.default || '')).filter(Boolean);
  if (inp.token || Object.values(inp.secrets || {}).some(Boolean) || inp.confirmHosts) a.bound = hosts;
  const stored = [...(a.hasToken ? ['token'] : []), ...(a.secretKeys ?? [])];
  const moved = hosts.some((x) => !a.bound.includes(x));
  a.held = moved && stored.length ? stored : undefined;
  a.heldHosts = a.held ? hosts : undefined;
  if (a.held) a.health = { status: 'failed', error: `service: the stored ${a.held.join(', ')} not sent: an endpoint now points at ${hosts.join(', ')}`, since: Date.now(), reconnects: 0 };
  else if (a.health?.status === 'failed') a.health = { status: 'connected', since: Date.now(), reconnects: 0 };
}

const NAMES = ['ana', 'bytewolf', 'cozy_cat', 'dr_lag', 'echo', 'frogger', 'glitchy', 'hex', 'ivy', 'jetlag', 'kappa_k', 'lumen'];
const WORDS = 'gg nice run lol pog what is this chat so fast hello from brazil first time here love the stream the boss fight tomorrow'.split(' ');

export async function startMock({ port = 0, token = randomBytes(12).toString('hex'), quiet = false } = {}) {
  const session = randomBytes(16).toString('hex');
  const { accounts, channels } = seed();
  const byId = new Map(channels.map((c) => [c.id, c]));
  let nextMsg = 1000, nextItem = 1, nextAction = 1, nextEvent = 1, nextRule = 3;
  const history = new Map(); // channelId → MessageView[]
  const queue = new Map();
  const actions = [];
  const events = [];
  let rules = [
    { id: 1, kind: 'blocked_term', name: 'slurs', enabled: true, params: { terms: 'badword, worse' }, channelId: 0 },
    { id: 2, kind: 'links', name: 'no links', enabled: true, params: { allow: 'clips.example' }, channelId: 1 },
  ];
  let out = { messages: [], updates: [], queue: [], actions: [], channels: [], accounts: [], events: [], notices: [] };
  const touch = (c) => { if (!out.channels.includes(c)) out.channels.push(c); };

  function user(i) {
    const hostile = i % 7 === 0;
    const name = hostile ? pick(HOSTILE) : pick(NAMES);
    return { id: `u-${hostile ? 'h' + (i % 5) : name}`, username: hostile ? `evil${i % 5}` : name, displayName: name, color: hostile ? 'red;background:url(javascript:alert(1))' : pick(['#ff7f50', '#9acd32', '#1e90ff', '#daa520', '']), role: i % 23 === 0 ? 'moderator' : '' };
  }

  function message(channelId, u, text, tokens) {
    const c = byId.get(channelId);
    const m = { id: ++nextMsg, channelId, platform: c?.platform ?? 'velora', platformId: `p-${nextMsg}`, user: u, text, at: Date.now(), deleted: false, held: false };
    if (tokens) m.tokens = tokens;
    let h = history.get(channelId);
    if (!h) history.set(channelId, (h = []));
    h.push(m);
    if (h.length > 3000) h.splice(0, h.length - 3000);
    return m;
  }

  function randomMessage() {
    const cid = Math.random() < 0.35 ? 1 : pick(channels.filter((c) => c.health.status !== 'failed')).id;
    const i = nextMsg;
    const u = user(i);
    let text = Array.from({ length: 2 + Math.floor(Math.random() * 10) }, () => pick(WORDS)).join(' ');
    let tokens;
    if (i % 5 === 0) text += ' ' + pick(HOSTILE);
    if (i % 11 === 0) {
      tokens = [
        { kind: 'text', text: 'emotes: ' },
        { kind: 'emote', text: pick(HOSTILE), url: 'javascript:window.__xss++' },
        { kind: 'text', text: ' ' },
        { kind: 'emote', text: 'PogEmote"><img src=x onerror=window.__xss++>', url: 'data:image/svg+xml,<svg onload=alert(1)>' },
        { kind: 'text', text: ' link: ' },
        { kind: 'link', text: 'javascript:window.__xss++', url: 'javascript:window.__xss++' },
        { kind: 'text', text: ' ok: ' },
        { kind: 'link', text: 'https://example.org/?q=<b>', url: 'https://example.org/?q=<b>' },
      ];
      text = tokens.map((t) => t.text).join('');
    }
    const m = message(cid, u, text, tokens);
    out.messages.push(m);
    if (Math.random() < 0.08 && [...queue.values()].length < 60) {
      m.held = true;
      const it = { id: nextItem++, channelId: cid, message: m, reasons: [pick(['blocked term "badword"', 'link not allowed', 'caps 82%', 'first-time chatter', 'repeated 3× in 30s', `regex ${HOSTILE[1]}`])], status: 'open', at: Date.now() };
      queue.set(it.id, it);
      out.queue.push(it);
      const c = byId.get(cid);
      c.queueOpen++;
      touch(c);
    }
  }

  // Seed some history and queue items.
  for (let i = 0; i < 400; i++) randomMessage();
  for (let i = 0; i < 8; i++) {
    const m = message(1 + (i % 5), user(i * 7), `held message ${i} ${pick(HOSTILE)}`);
    m.held = true;
    const it = { id: nextItem++, channelId: m.channelId, message: m, reasons: ['blocked term "badword"', i % 2 ? 'first-time chatter' : 'caps 90%'], status: 'open', at: Date.now() - (8 - i) * 1000 };
    queue.set(it.id, it);
    byId.get(m.channelId).queueOpen++;
  }
  out = { messages: [], updates: [], queue: [], actions: [], channels: [], accounts: [], events: [], notices: [] };

  const versions = new Map(); // message id → [{text, replacedAt}]
  function editMessage(m, text) {
    let v = versions.get(m.id);
    if (!v) versions.set(m.id, (v = []));
    v.push({ text: m.text, replacedAt: Date.now() });
    m.text = text;
    delete m.tokens;
    m.edits = (m.edits || 0) + 1;
    out.updates.push({ channelId: m.channelId, ids: [m.id], deleted: false, text, edited: true });
  }
  // A couple of edited messages in the seeded history, one with a hostile earlier text.
  for (const [cid, back] of [[1, 2], [5, 1]]) {
    const h = history.get(cid) || [];
    const m = h[h.length - back];
    if (m) { editMessage(m, `typo fixed ${pick(WORDS)}`); editMessage(m, `typo fixed again ${HOSTILE[0]}`); }
  }
  out = { messages: [], updates: [], queue: [], actions: [], channels: [], accounts: [], events: [], notices: [] };

  function resolveItem(id, status) {
    const it = queue.get(id);
    if (!it) throw new Error(`queue item ${id} not open`);
    queue.delete(id);
    const done = { ...it, status };
    const c = byId.get(it.channelId);
    c.queueOpen = Math.max(0, c.queueOpen - 1);
    touch(c);
    out.queue.push(done);
    return done;
  }

  function act(req) {
    const c = byId.get(req.channelId);
    if (!c) throw new Error(`channel ${req.channelId} not joined`);
    const spec = c.capabilities.actions[req.kind];
    if (!spec?.supported) throw new Error(spec?.note || `${req.kind} is not supported on ${c.platform}`);
    if (c.readOnly) throw new Error('connection is read-only');
    if (req.replyToId) {
      if (req.kind !== 'send') throw new Error('replyToId and effect go only with send');
      if (!c.capabilities.replies) throw new Error(`replies are not available on ${c.platform}`);
      if (!(history.get(c.id) || []).some((x) => x.id === req.replyToId)) throw new Error(`cannot reply to message ${req.replyToId}: it belongs to another channel`);
    }
    if ((req.effect || (req.kind === 'send' && req.color)) && !c.capabilities.effects?.length) throw new Error(`message effects are not available on ${c.platform}`);
    const now = Date.now();
    const a = {
      id: nextAction++, key: randomBytes(6).toString('hex'), channelId: c.id, platform: c.platform, kind: req.kind,
      target: req.username || (req.text ? req.text.slice(0, 60) : req.messageId ? `message ${req.messageId}` : ''),
      params: req.kind === 'timeout' ? `${req.durationSeconds}s${req.reason ? ': ' + req.reason : ''}` : req.reason || (req.color ? `colour ${req.color}` : ''),
      status: 'pending', evidence: req.messageId ? [req.messageId] : [], created: now, updated: now,
    };
    actions.push(a);
    const fail = (req.kind === 'announce' && c.state?.slow) ? 'Slow mode is enabled' : (req.text ?? '').includes('FAIL') ? 'Your message was blocked: blacklisted phrase' : '';
    setTimeout(() => { a.status = 'sent'; a.updated = Date.now(); out.actions.push({ ...a }); }, 120);
    setTimeout(() => {
      a.updated = Date.now();
      if (fail) {
        // As the service does: the failed action carries the reason; no notice repeats it.
        a.status = 'failed'; a.outcome = fail;
        out.actions.push({ ...a });
        return;
      }
      a.status = 'confirmed';
      a.outcome = req.kind === 'timeout' && c.platform === 'glimesh' ? `applied ${req.durationSeconds > 300 ? 900 : 300}s` : 'ok';
      out.actions.push({ ...a });
      const me = { id: `me-${c.accountId}`, username: accounts.find((x) => x.id === c.accountId)?.name ?? 'me', role: 'moderator', color: '#5aa2ff' };
      switch (req.kind) {
        case 'send': {
          const m = message(c.id, me, req.text);
          const parent = req.replyToId ? (history.get(c.id) || []).find((x) => x.id === req.replyToId) : null;
          if (parent) m.replyTo = { messageId: parent.platformId, username: parent.user.username, snippet: String(parent.text).slice(0, 80) };
          out.messages.push(m);
          break;
        }
        case 'announce':
          out.messages.push(message(c.id, me, `[announcement] ${req.text}`));
          break;
        case 'ban':
        case 'timeout': {
          const note = req.kind === 'ban' ? 'banned' : `timed out ${req.durationSeconds}s`;
          out.updates.push({ channelId: c.id, userId: req.userId, deleted: true, note });
          const ev = { id: nextEvent++, channelId: c.id, kind: req.kind, user: req.username, actor: me.username, text: req.reason || '', at: Date.now() };
          if (req.kind === 'timeout') ev.expires = Date.now() + req.durationSeconds * 1000;
          events.push(ev);
          out.events.push(ev);
          for (const it of [...queue.values()]) if (it.channelId === c.id && it.message.user.id === req.userId) resolveItem(it.id, 'actioned');
          break;
        }
        case 'delete':
          out.updates.push({ channelId: c.id, ids: [req.messageId], deleted: true, note: 'deleted by moderator' });
          if (req.itemId && queue.has(req.itemId)) resolveItem(req.itemId, 'actioned');
          break;
        case 'pin':
          c.pinned = { text: req.text || '', user: req.username || '', until: Date.now() + 120_000 };
          touch(c);
          break;
      }
    }, 400);
    return { ...a };
  }

  const methods = {
    Overview: () => ({ mode: 'browser', version: 'mock-0.1', keyring: { ok: false, backend: 'secret-service', error: 'org.freedesktop.secrets not provided by any .service files' }, accounts, channels, platforms: PLATFORMS }),
    MessageVersions: (id) => {
      if (![...history.values()].some((h) => h.some((m) => m.id === id))) throw new Error(`not found: message ${id}`);
      return versions.get(id) || [];
    },
    ListAccounts: () => accounts,
    SaveAccount: (inp) => {
      if (!inp?.name) throw new Error('account name required');
      let a = accounts.find((x) => x.id === inp.id);
      if (!a) {
        a = { id: accounts.length + 10, platform: inp.platform, name: inp.name, settings: {}, hasToken: false, guest: true, health: { status: 'connecting', since: Date.now(), reconnects: 0 } };
        accounts.push(a);
      }
      bindSecrets(a, inp);
      a.name = inp.name; a.settings = inp.settings || {};
      if (inp.token) a.hasToken = true;
      if (inp.clearToken) a.hasToken = false;
      a.guest = !a.hasToken;
      const keys = new Set(a.secretKeys || []);
      for (const [k, v] of Object.entries(inp.secrets || {})) v ? keys.add(k) : keys.delete(k);
      a.secretKeys = [...keys];
      return a;
    },
    RemoveAccount: (id) => { const i = accounts.findIndex((a) => a.id === id); if (i < 0) throw new Error('no such account'); accounts.splice(i, 1); return null; },
    ListChannels: () => channels,
    JoinChannel: (accountId, name) => {
      const a = accounts.find((x) => x.id === accountId);
      if (!a) throw new Error('no such account');
      if (!/^[\w.-]{1,50}$/.test(name)) throw new Error(`invalid channel name: ${name}`);
      const c = { id: Math.max(...channels.map((x) => x.id), 0) + 1, accountId, platform: a.platform, name, health: { status: 'connecting', since: Date.now(), reconnects: 0 }, readOnly: a.guest, viewers: 0, capabilities: caps(a.platform), queueOpen: 0 };
      channels.push(c); byId.set(c.id, c);
      setTimeout(() => { c.health = { status: a.guest ? 'guest' : 'connected', since: Date.now(), reconnects: 0 }; touch(c); }, 800);
      return c;
    },
    RetryChannel: (id) => { const c = byId.get(id); if (!c) throw new Error('channel is not joined'); c.joinFailed = false; c.health = { status: 'connected', since: Date.now(), reconnects: 0 }; touch(c); return c; },
    LeaveChannel: (id) => { const i = channels.findIndex((c) => c.id === id); if (i >= 0) channels.splice(i, 1); byId.delete(id); return null; },
    RecentMessages: (cid, beforeId, limit) => {
      const h = (history.get(cid) || []).filter((m) => !beforeId || m.id < beforeId);
      return h.slice(-Math.min(limit || 100, 500)).reverse();
    },
    Queue: (cid, limit) => [...queue.values()].filter((q) => !cid || q.channelId === cid).slice(0, limit || 500),
    ResolveItem: (id, status) => {
      if (status !== 'approved' && status !== 'dismissed') throw new Error(`bad status ${status}`);
      return resolveItem(id, status);
    },
    Act: (req) => act(req),
    AuditLog: (cid, limit) => actions.filter((a) => !cid || a.channelId === cid).slice(-(limit || 200)).reverse(),
    ModEvents: (cid, limit) => events.filter((e) => !cid || e.channelId === cid).slice(-(limit || 200)).reverse(),
    ListRules: () => rules,
    SaveRule: (r) => {
      if (!r?.kind) throw new Error('rule kind required');
      if (r.kind === 'blocked_regex') { try { new RegExp(r.params?.pattern ?? ''); } catch (e) { throw new Error(`bad pattern: ${e.message}`); } }
      if (!r.id) { r = { ...r, id: nextRule++ }; rules.push(r); } else rules = rules.map((x) => (x.id === r.id ? r : x));
      return r;
    },
    DeleteRule: (id) => { rules = rules.filter((r) => r.id !== id); return null; },
    Search: (q, cid, limit) => {
      const res = [];
      const ql = String(q).toLowerCase();
      for (const [c, h] of history) {
        if (cid && c !== cid) continue;
        for (const m of h) if (m.text.toLowerCase().includes(ql)) res.push(m);
      }
      return res.sort((a, b) => b.id - a.id).slice(0, limit || 100);
    },
  };

  const cookieOk = (req) => (req.headers.cookie || '').split(/;\s*/).includes(`mc_session=${session}`);
  // Like the Go server: calls and the event socket need the HttpOnly cookie;
  // ?token= only on a page load, which sets it (no redirect here, so the
  // frontend's own removal of the token from the address bar is exercised).
  const authed = (req) => cookieOk(req);

  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    const sec = { 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer' };
    if (url.pathname.startsWith('/api/')) {
      if (!authed(req)) { res.writeHead(401, { 'Content-Type': 'application/json', ...sec }); res.end('{"error":"unauthorized"}'); return; }
      const name = url.pathname.slice(5);
      const fn = methods[name];
      if (req.method !== 'POST' || !fn) { res.writeHead(404, { 'Content-Type': 'application/json' }); res.end(JSON.stringify({ error: `no route ${name}` })); return; }
      let body = '';
      for await (const chunk of req) body += chunk;
      try {
        const args = body ? JSON.parse(body) : [];
        if (!Array.isArray(args)) throw new Error('body must be a JSON array of arguments');
        const result = fn(...args);
        res.writeHead(200, { 'Content-Type': 'application/json', ...sec });
        res.end(JSON.stringify(result ?? null));
      } catch (e) {
        res.writeHead(400, { 'Content-Type': 'application/json', ...sec });
        res.end(JSON.stringify({ error: e.message }));
      }
      return;
    }
    const headers = { ...sec };
    if (url.searchParams.get('token') === token) headers['Set-Cookie'] = `mc_session=${session}; HttpOnly; SameSite=Strict; Path=/`;
    let p = normalize(decodeURIComponent(url.pathname)).replace(/^(\.\.[/\\])+/, '');
    if (p === '/' || p === '') p = '/index.html';
    try {
      const data = await readFile(join(DIST, p));
      res.writeHead(200, { 'Content-Type': TYPES[extname(p)] || 'application/octet-stream', ...headers });
      res.end(data);
    } catch {
      res.writeHead(404, { 'Content-Type': 'text/plain', ...headers });
      res.end('not found (did you run npm run build?)');
    }
  });

  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname !== '/api/events' || !authed(req)) { socket.write('HTTP/1.1 401 Unauthorized\r\n\r\n'); socket.destroy(); return; }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  let tick = 0;
  const timer = setInterval(() => {
    tick++;
    const n = Math.floor(Math.random() * 4);
    for (let i = 0; i < n; i++) randomMessage();
    if (tick % 20 === 0) {
      const c = pick(channels);
      c.viewers = Math.max(0, c.viewers + Math.floor(Math.random() * 200 - 90));
      touch(c);
    }
    if (tick % 37 === 0) {
      const h = history.get(2) || [];
      const m = h[h.length - 3];
      if (m) out.updates.push({ channelId: 2, ids: [m.id], deleted: true, note: `deleted by ${HOSTILE[4]}` });
      const ev = { id: nextEvent++, channelId: 2, kind: 'delete', user: m?.user.username, actor: HOSTILE[0], text: HOSTILE[3], at: Date.now() };
      events.push(ev); out.events.push(ev);
    }
    if (tick % 15 === 0) {
      // An edit of a recent message (VeroAI edits in place): new text, earlier one kept for MessageVersions.
      const h = history.get(pick([1, 2, 5])) || [];
      const m = h[h.length - 1 - Math.floor(Math.random() * Math.min(h.length, 10))];
      if (m) editMessage(m, `${pick(WORDS)} (edited) ${tick % 2 ? pick(HOSTILE) : pick(WORDS)}`);
    }
    if (tick % 50 === 0) {
      const c = byId.get(6);
      if (c) {
        const up = c.health.status !== 'connected';
        c.health = up ? { status: 'connected', since: Date.now(), reconnects: c.health.reconnects } : { status: 'reconnecting', since: Date.now(), reconnects: c.health.reconnects + 1, nextRetry: Date.now() + 3000 };
        touch(c);
      }
    }
    const b = Object.fromEntries(Object.entries(out).filter(([, v]) => v.length));
    out = { messages: [], updates: [], queue: [], actions: [], channels: [], accounts: [], events: [], notices: [] };
    if (!Object.keys(b).length) return;
    const frame = JSON.stringify({ name: 'console:batch', data: b });
    for (const ws of wss.clients) if (ws.readyState === 1) ws.send(frame);
  }, 100);

  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  const addr = server.address();
  const url = `http://127.0.0.1:${addr.port}/?token=${token}`;
  if (!quiet) console.log(`mock console at ${url}`);
  return {
    url,
    token,
    close: () => new Promise((r) => { clearInterval(timer); for (const ws of wss.clients) ws.terminate(); wss.close(); server.close(() => r()); server.closeAllConnections?.(); }),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const i = process.argv.indexOf('--port');
  const port = i > 0 ? Number(process.argv[i + 1]) : Number(process.env.PORT || 5174);
  startMock({ port, token: process.env.MOCK_TOKEN || undefined });
}
