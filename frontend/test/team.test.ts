// @vitest-environment happy-dom
// Team mode in the app: the role gating logic, /auth/me and login answers,
// the login screen, the entry that picks login or console, and controls the
// role may not use (disabled with the reason, or not shown).
import { flushSync } from 'svelte';
import { afterEach, describe, expect, it } from 'vitest';
import { denial, loadMe, logIn, may, type Me } from '../src/api/session';
import type { Transport } from '../src/api/transport';
import type { ChannelView, MessageView, QueueItemView, RuleView } from '../src/api/types';
import AuditPage from '../src/ui/c/AuditPage.svelte';
import Composer from '../src/ui/c/Composer.svelte';
import QueuesPage from '../src/ui/c/QueuesPage.svelte';
import Login from '../src/ui/c/Login.svelte';
import RulesPage from '../src/ui/c/RulesPage.svelte';
import Sidebar from '../src/ui/c/Sidebar.svelte';
import Root from '../src/ui/Root.svelte';
import { fakeConsole, mountWith, settle, type Mounted } from './harness';

// The server's table (backend/auth/roles.go), a few entries of it.
const METHODS = { Overview: 'observer', ListRules: 'observer', DryRunRule: 'observer', Act: 'moderator', ResolveItem: 'moderator', AddNote: 'moderator', SaveRule: 'lead', DeleteRule: 'lead', SaveAccount: 'lead' };
const user = (role: string): Me => ({ team: true, name: 'ana', role, methods: METHODS });

type Answer = { status: number; body: string; headers?: Record<string, string> };
/** fakeFetch answers each path from a table and records the requests. */
function fakeFetch(table: Record<string, Answer | (() => Answer)>) {
  const seen: { path: string; init?: RequestInit }[] = [];
  const f = async (path: string, init?: RequestInit): Promise<Response> => {
    seen.push({ path, init });
    const a = table[path];
    if (!a) throw new TypeError('connection refused');
    const x = typeof a === 'function' ? a() : a;
    return new Response(x.body, { status: x.status, headers: x.headers });
  };
  return { f, seen };
}
const loggedOut: Answer = { status: 401, body: '{"error":"not logged in: log in at /auth/login","login":"/auth/login"}' };

let mounted: Mounted[] = [];
afterEach(() => {
  for (const m of mounted) m.destroy();
  mounted = [];
});

describe('may and denial: the role gating logic', () => {
  it('allows everything outside team mode (single-user, desktop)', () => {
    for (const me of [null, undefined, { team: false }]) {
      expect(may(me, 'SaveRule')).toBe(true);
      expect(denial(me, 'Act')).toBe('');
    }
  });

  it('an observer reads only; a moderator acts but edits no rules or accounts; a lead does everything', () => {
    const obs = user('observer'), mod = user('moderator'), lead = user('lead');
    expect([may(obs, 'Overview'), may(obs, 'DryRunRule'), may(obs, 'Act'), may(obs, 'AddNote'), may(obs, 'SaveRule')]).toEqual([true, true, false, false, false]);
    expect([may(mod, 'Act'), may(mod, 'ResolveItem'), may(mod, 'SaveRule'), may(mod, 'SaveAccount')]).toEqual([true, true, false, false]);
    expect(Object.keys(METHODS).every((m) => may(lead, m))).toBe(true);
    expect(denial(obs, 'Act')).toBe('Your role (observer) may not do this: it needs moderator.');
    expect(denial(mod, 'DeleteRule')).toBe('Your role (moderator) may not do this: it needs lead.');
  });

  it('a method the server did not list needs lead, as on the server; an unknown role may nothing', () => {
    expect(may(user('moderator'), 'SomethingNew')).toBe(false);
    expect(may(user('lead'), 'SomethingNew')).toBe(true);
    expect(may(user('admin'), 'Overview')).toBe(false);
  });
});

describe('loadMe and logIn: the server answers', () => {
  it('team mode without a session asks for the login screen; with one gives the user', async () => {
    expect(await loadMe(fakeFetch({ '/auth/me': loggedOut }).f)).toEqual({ kind: 'login' });
    const me = user('moderator');
    expect(await loadMe(fakeFetch({ '/auth/me': { status: 200, body: JSON.stringify(me) } }).f)).toEqual({ kind: 'app', me });
  });

  it('single-user mode, a 401 without a login route, an HTML page or no answer load the console without a user', async () => {
    for (const a of [
      { status: 200, body: '{"team":false}' },
      { status: 401, body: '{"error":"missing or wrong session cookie"}' },
      { status: 200, body: '<!doctype html><title>console</title>' },
    ]) {
      expect(await loadMe(fakeFetch({ '/auth/me': a }).f)).toEqual({ kind: 'app', me: null });
    }
    expect(await loadMe(fakeFetch({}).f)).toEqual({ kind: 'app', me: null });
  });

  it('logIn posts JSON and gives the message to show: none, the wrong password, the rate limit with its wait', async () => {
    const ok = fakeFetch({ '/auth/login': { status: 200, body: '{"name":"ana","role":"lead"}' } });
    expect(await logIn(ok.f, 'ana', 'a long password')).toBe('');
    expect(ok.seen[0]!.init?.method).toBe('POST');
    expect(JSON.parse(String(ok.seen[0]!.init?.body))).toEqual({ name: 'ana', password: 'a long password' });
    expect(await logIn(fakeFetch({ '/auth/login': { status: 401, body: '{"error":"Wrong name or password."}' } }).f, 'ana', 'x')).toBe('Wrong name or password.');
    const limited = { status: 429, body: '{"error":"Too many failed logins for this name: wait a little and try again."}', headers: { 'Retry-After': '30' } };
    expect(await logIn(fakeFetch({ '/auth/login': limited }).f, 'ana', 'x')).toBe('Too many failed logins for this name: wait a little and try again. Next attempt in 30 s.');
    expect(await logIn(fakeFetch({ '/auth/login': { status: 503, body: '{"error":"user lookup failed"}' } }).f, 'ana', 'x')).toBe('Login failed (HTTP 503): user lookup failed');
    expect(await logIn(fakeFetch({}).f, 'ana', 'x')).toContain('did not answer');
    expect(await logIn(ok.f, ' ', 'x')).toBe('Enter your name and password.');
  });
});

function submitLogin(el: HTMLElement, name: string, password: string): void {
  const n = el.querySelector<HTMLInputElement>('[data-testid=login-name]')!;
  const p = el.querySelector<HTMLInputElement>('[data-testid=login-password]')!;
  n.value = name;
  n.dispatchEvent(new Event('input', { bubbles: true }));
  p.value = password;
  p.dispatchEvent(new Event('input', { bubbles: true }));
  flushSync();
  el.querySelector('form')!.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
}

describe('Login: the login screen', () => {
  it('shows the rate-limit answer as text, clears the password, and calls onDone after a success', async () => {
    let answer: Answer = { status: 429, body: '{"error":"Too many failed logins for this name: wait a little and try again."}', headers: { 'Retry-After': '30' } };
    const { f } = fakeFetch({ '/auth/login': () => answer });
    let done = 0;
    const m = mountWith(Login, { fetchFn: f, onDone: () => done++ });
    mounted.push(m);
    submitLogin(m.el, 'ana', '<b>pw</b>');
    await settle();
    const err = m.el.querySelector('[data-testid=login-error]');
    expect(err?.getAttribute('role')).toBe('alert');
    expect(err?.textContent).toBe('Too many failed logins for this name: wait a little and try again. Next attempt in 30 s.');
    expect(m.el.querySelector<HTMLInputElement>('[data-testid=login-password]')!.value).toBe('');
    expect(done).toBe(0);
    answer = { status: 200, body: '{"name":"ana","role":"lead"}' };
    submitLogin(m.el, 'ana', 'a long password');
    await settle();
    expect(done).toBe(1);
    expect(m.el.querySelector('[data-testid=login-error]')).toBeNull();
  });
});

/** A browser transport whose calls answer from a table and whose session can end. */
function fakeTransport(): { t: Transport; end: () => void; calls: string[] } {
  let ended: (() => void) | null = null;
  const calls: string[] = [];
  const t: Transport = {
    kind: 'browser',
    async call<T>(method: string): Promise<T> {
      calls.push(method);
      return (method.startsWith('List') || method === 'ModEvents' || method === 'RecentMessages' || method === 'Queue' ? [] : null) as T;
    },
    openExternal() {},
    subscribe() {},
    onSessionEnd(cb) { ended = cb; },
  };
  return { t, end: () => ended?.(), calls };
}

describe('Root: login screen or console', () => {
  it('shows the login screen when /auth/me answers 401, then the console with who is logged in', async () => {
    let meAnswer: Answer = loggedOut;
    const { f } = fakeFetch({ '/auth/me': () => meAnswer, '/auth/login': { status: 200, body: '{"name":"ana","role":"observer"}' } });
    const { t, calls } = fakeTransport();
    const m = mountWith(Root, { transport: t, fetchFn: f, reload: () => {} });
    mounted.push(m);
    await settle();
    expect(m.el.querySelector('[data-testid=login]')).not.toBeNull();
    expect(m.el.querySelector('.topbar')).toBeNull();
    expect(calls).toEqual([]); // nothing was asked of the API before the login
    meAnswer = { status: 200, body: JSON.stringify(user('observer')) };
    submitLogin(m.el, 'ana', 'a long password');
    await settle();
    expect(m.el.querySelector('[data-testid=login]')).toBeNull();
    expect(m.el.querySelector('[data-testid=who]')?.textContent).toBe('ana · observer');
    expect(m.el.querySelector('[data-testid=logout]')?.textContent).toBe('Log out');
  });

  it('single-user mode loads the console at once: no login screen, no user in the top bar', async () => {
    const { f } = fakeFetch({ '/auth/me': { status: 200, body: '{"team":false}' } });
    const { t } = fakeTransport();
    const m = mountWith(Root, { transport: t, fetchFn: f, reload: () => {} });
    mounted.push(m);
    await settle();
    expect(m.el.querySelector('.topbar')).not.toBeNull();
    expect(m.el.querySelector('[data-testid=login]')).toBeNull();
    expect(m.el.querySelector('[data-testid=who]')).toBeNull();
    expect(m.el.querySelector('[data-testid=logout]')).toBeNull();
  });

  it('a session that ends while the console is open brings the login screen back; the login after it reloads the page', async () => {
    const { f } = fakeFetch({ '/auth/me': { status: 200, body: JSON.stringify(user('lead')) }, '/auth/login': { status: 200, body: '{}' } });
    const { t, end } = fakeTransport();
    let reloads = 0;
    const m = mountWith(Root, { transport: t, fetchFn: f, reload: () => reloads++ });
    mounted.push(m);
    await settle();
    expect(m.el.querySelector('[data-testid=who]')?.textContent).toBe('ana · lead');
    end();
    flushSync();
    expect(m.el.querySelector('[data-testid=login-again]')).not.toBeNull();
    expect(m.el.querySelector('.topbar')).toBeNull();
    submitLogin(m.el, 'ana', 'a long password');
    await settle();
    expect(reloads).toBe(1);
  });

  it('Log out posts /auth/logout and reloads (the login screen follows)', async () => {
    const { f, seen } = fakeFetch({ '/auth/me': { status: 200, body: JSON.stringify(user('moderator')) }, '/auth/logout': { status: 200, body: '{}' } });
    const { t } = fakeTransport();
    let reloads = 0;
    const m = mountWith(Root, { transport: t, fetchFn: f, reload: () => reloads++ });
    mounted.push(m);
    await settle();
    m.el.querySelector<HTMLButtonElement>('[data-testid=logout]')!.click();
    await settle();
    expect(seen.map((s) => [s.path, s.init?.method])).toContainEqual(['/auth/logout', 'POST']);
    expect(reloads).toBe(1);
  });
});

const CID = 3;
const channel: ChannelView = {
  id: CID, accountId: 1, platform: 'velora', name: 'lumen', readOnly: false, viewers: 0, queueOpen: 0,
  health: { status: 'connected', since: 0, reconnects: 0 },
  capabilities: { actions: { send: { supported: true }, ban: { supported: true }, clear: { supported: true } } },
};

describe('controls the role may not use', () => {
  function composer(me: Me | null) {
    const { ctx, calls } = fakeConsole();
    ctx.me = me;
    ctx.state.channels.set(CID, channel);
    const m = mountWith(Composer, { channelId: CID, replyTo: null }, ctx);
    mounted.push(m);
    return { ctx, el: m.el, calls };
  }

  it('an observer has no send box (the reason instead); a moderator and single-user mode have it', () => {
    const obs = composer(user('observer'));
    expect(obs.el.querySelector('[data-testid=send-input]')).toBeNull();
    expect(obs.el.querySelector('[data-verb=clear]')).toBeNull();
    expect(obs.el.querySelector('[data-testid=send-denied]')?.textContent).toContain('need the moderator role');
    expect(composer(user('moderator')).el.querySelector('[data-testid=send-input]')).not.toBeNull();
    expect(composer(null).el.querySelector('[data-testid=send-input]')).not.toBeNull();
  });

  it('a call the role may not make is refused before it is sent, with the reason', async () => {
    const { ctx, calls } = composer(user('observer'));
    await expect(ctx.api.act({ channelId: CID, kind: 'ban', username: 'x' })).rejects.toThrow('Your role (observer) may not do this: it needs moderator.');
    await ctx.api.listRules();
    expect(calls.map((c) => c[0])).toEqual(['ListRules']);
  });

  const rule: RuleView = { id: 1, name: 'caps', kind: 'caps', enabled: true, params: {}, action: 'hold' } as unknown as RuleView;
  async function rules(me: Me | null) {
    const { ctx } = fakeConsole({ ListRules: () => [rule] });
    ctx.me = me;
    const m = mountWith(RulesPage, {}, ctx);
    mounted.push(m);
    await settle();
    return m.el;
  }

  it('a moderator sees the rules with editing disabled and the reason as the tooltip; a lead may edit', async () => {
    const el = await rules(user('moderator'));
    for (const sel of ['[data-testid=rule-edit]', '[data-testid=rule-save]', 'input[aria-label="enable caps"]']) {
      const b = el.querySelector<HTMLButtonElement>(sel);
      expect(b, sel).not.toBeNull();
      expect(b!.disabled, sel).toBe(true);
      expect(b!.title, sel).toBe('Your role (moderator) may not do this: it needs lead.');
    }
    expect(el.querySelector<HTMLButtonElement>('[data-testid=rule-try]')!.disabled).toBe(false);
    const lead = await rules(user('lead'));
    for (const sel of ['[data-testid=rule-edit]', '[data-testid=rule-save]', 'input[aria-label="enable caps"]']) {
      expect(lead.querySelector<HTMLButtonElement>(sel)!.disabled, sel).toBe(false);
    }
  });

  it('the sidebar: a moderator may not join or leave channels (lead), an observer neither; a lead may', async () => {
    for (const [role, denied] of [['observer', true], ['moderator', true], ['lead', false]] as const) {
      const { ctx } = fakeConsole();
      ctx.me = user(role);
      ctx.me.methods = { ...METHODS, JoinChannel: 'lead', LeaveChannel: 'lead' };
      ctx.state.channels.set(CID, channel);
      const m = mountWith(Sidebar, {}, ctx);
      mounted.push(m);
      await settle();
      const join = m.el.querySelector<HTMLButtonElement>('.join-form button[type=submit]')!;
      const leave = m.el.querySelector<HTMLButtonElement>('button.leave')!;
      expect([join.disabled, leave.disabled], role).toEqual([denied, denied]);
      expect(join.title, role).toBe(denied ? `Your role (${role}) may not do this: it needs lead.` : '');
    }
  });
});

const rule0: RuleView = { id: 1, name: 'caps', kind: 'caps', enabled: true, params: {}, channelId: 0, position: 0 };

describe('who changed rules and links', () => {
  it('a rule says who changed it last; the audit log lists rule and link changes as text', async () => {
    const { ctx } = fakeConsole({ ListRules: () => [{ ...rule0, changedBy: 'ana', changedAt: 1_800_000_000_000 }] });
    const m = mountWith(RulesPage, {}, ctx);
    mounted.push(m);
    await settle();
    expect(m.el.querySelector('[data-testid=rule-changed]')?.textContent).toBe('last changed by ana');

    const XSS = '<img src=x onerror="window.__xss=1">';
    const { ctx: c2 } = fakeConsole({
      FilterAuditLog: () => ({ actions: [], next: 0, changes: [
        { id: 2, subject: 'link', subjectId: 1, name: `velora:${XSS} + kichat:amy`, change: 'linked', actor: 'bo', created: 1_800_000_060_000 },
        { id: 1, subject: 'rule', subjectId: 7, name: 'caps', change: 'created', actor: 'ana', created: 1_800_000_000_000 },
      ] }),
    });
    const a = mountWith(AuditPage, {}, c2);
    mounted.push(a);
    await settle();
    const rows = [...a.el.querySelectorAll<HTMLElement>('[data-testid=change-row]')];
    expect(rows.map((r) => [r.dataset.moderator, r.dataset.subject, r.dataset.change])).toEqual([['bo', 'link', 'linked'], ['ana', 'rule', 'created']]);
    expect(rows[0]!.textContent).toContain(`velora:${XSS} + kichat:amy`);
    expect(a.el.querySelector('[data-testid=audit-changes] img')).toBeNull();
    // Their moderators are offered in the Moderator filter's suggestions.
    expect([...a.el.querySelectorAll<HTMLOptionElement>('#audit-mods option')].map((o) => o.value)).toEqual(['ana', 'bo']);
  });
});

describe('the queue per role', { timeout: 30_000 }, () => {
  const held = (id: number): QueueItemView => ({
    id, channelId: CID, platform: 'velora', ruleIds: [1], reasons: ['r'], status: 'open', at: 1_700_000_000_000 + id,
    message: { id: 1000 + id, channelId: CID, platform: 'velora', platformId: `p${id}`, user: { id: `u${id}`, username: `u${id}` }, text: `m${id}`, at: 1_700_000_000_000 + id, deleted: false, held: true } as MessageView,
  });
  // What the queue page calls, as the server's table has them.
  const QUEUE_METHODS = {
    ...METHODS, QueuePage: 'observer', QueueCounts: 'observer', Queue: 'observer', ListChannels: 'observer', ModEvents: 'observer',
    RecentMessages: 'observer', ChannelRates: 'observer', Claims: 'observer', MessageVersions: 'observer', PeopleMarks: 'observer',
    ClaimNext: 'moderator', ClaimItems: 'moderator', ReleaseClaims: 'moderator',
  };
  async function queue(me: Me | null) {
    localStorage.clear();
    const { ctx } = fakeConsole();
    ctx.me = me;
    ctx.state.channels.set(CID, channel);
    ctx.state.historyLoaded.add(CID);
    for (const id of [1, 2]) ctx.state.queue.set(id, held(id));
    const m = mountWith(QueuesPage, { channelId: 0 }, ctx);
    mounted.push(m);
    await settle();
    await new Promise((r) => setTimeout(r, 300));
    await settle();
    return m.el;
  }

  it('an observer sees the held items without action buttons, with Next item disabled and why; a moderator has them', async () => {
    const obs = await queue({ ...user('observer'), methods: QUEUE_METHODS });
    expect(obs.querySelectorAll('[data-testid=queue-item]').length).toBe(2);
    expect(obs.querySelectorAll('[data-testid=queue-item] .row-actions button').length).toBe(0);
    const next = obs.querySelector<HTMLButtonElement>('[data-testid=claim-next]')!;
    expect([next.disabled, next.title]).toEqual([true, 'Your role (observer) may not do this: it needs moderator.']);
    const mod = await queue({ ...user('moderator'), methods: QUEUE_METHODS });
    expect(mod.querySelectorAll('[data-testid=queue-item] .row-actions button').length).toBeGreaterThan(0);
    expect(mod.querySelector<HTMLButtonElement>('[data-testid=claim-next]')!.disabled).toBe(false);
  });
});
