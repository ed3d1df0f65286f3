// @vitest-environment happy-dom
import { flushSync } from 'svelte';
import { afterEach, describe, expect, it } from 'vitest';
import type { AccountView, PlatformInfo } from '../src/api/types';
import AccountFields, { takesToken, type Collected } from '../src/ui/c/AccountFields.svelte';
import { mountWith, type Mounted } from './harness';

const SOCKETBASE: PlatformInfo = {
  platform: 'socketbase', label: 'socket-base',
  tokenLabel: 'A JWT for this project (or leave empty and store the jwt_secret)',
  secrets: [{ key: 'jwt_secret', label: "The project's jwt_secret" }],
  settings: [
    { key: 'url', label: 'Base URL', default: 'https://api.socket-base.com' },
    { key: 'hash', label: 'Project hash', required: true },
    { key: 'sub', label: 'User id (sub) of minted JWTs', default: 'modconsole' },
  ],
};
const KICHAT: PlatformInfo = {
  platform: 'kichat', label: 'Kick (via Kichat)', tokenLabel: '',
  secrets: [{ key: 'kick', label: 'Kick OAuth token' }],
  settings: [{ key: 'url', label: 'Kichat relay URL', default: 'https://api.kichat.dev' }],
};
const health = { status: 'connected' as const, since: 0, reconnects: 0 };
const account = (over: Partial<AccountView>): AccountView => ({
  id: 7, platform: 'socketbase', name: 'demo', settings: { hash: 'demo-project', sub: 'nightmod', namespace: '/chat' }, hasToken: false, guest: false, health, secretKeys: ['jwt_secret'], ...over,
});
const q = <T extends Element>(el: Element, sel: string) => el.querySelector<T>(sel);

let mounted: Mounted[] = [];
afterEach(() => {
  for (const m of mounted) m.destroy();
  mounted = [];
});

/** buildAccountFields mounts the fields for a platform and an account (null: a new one). */
function buildAccountFields(info: PlatformInfo | undefined, a: AccountView | null): { el: HTMLElement; collect(): Collected; forget(): void } {
  const m = mountWith(AccountFields, { info, account: a });
  mounted.push(m);
  const i = m.instance as unknown as { collect(): Collected; forget(): void };
  return { el: m.el.querySelector<HTMLElement>('[data-testid=account-fields]')!, collect: () => i.collect(), forget: () => { i.forget(); flushSync(); } };
}

/** type puts v in an input as typing does. */
function type(input: HTMLInputElement | null | undefined, v: string): void {
  input!.value = v;
  input!.dispatchEvent(new Event('input', { bubbles: true }));
  flushSync();
}

/** tick sets a checkbox as a click does. */
function tick(box: HTMLInputElement | null | undefined, on = true): void {
  box!.checked = on;
  box!.dispatchEvent(new Event('change', { bubbles: true }));
  flushSync();
}

describe('AccountFields', () => {
  it('labels the token field from tokenLabel and builds one field per secret and setting', () => {
    const f = buildAccountFields(SOCKETBASE, null);
    const tokenField = q(f.el, '[data-testid=token-field]')!;
    expect(tokenField.textContent).toContain(SOCKETBASE.tokenLabel);
    expect(q<HTMLInputElement>(tokenField, 'input')!.type).toBe('password');
    expect(q<HTMLInputElement>(tokenField, 'input')!.placeholder).toBe(SOCKETBASE.tokenLabel);
    const secret = q(f.el, '[data-testid=secret-field][data-key=jwt_secret]')!;
    expect(secret.textContent).toContain("The project's jwt_secret");
    expect(q<HTMLInputElement>(secret, 'input')!.type).toBe('password');
    expect(secret.getAttribute('data-stored')).toBe('false');
    const keys = [...f.el.querySelectorAll('[data-testid=setting-field]')].map((e) => e.getAttribute('data-key'));
    expect(keys).toEqual(['url', 'hash', 'sub']);
    const url = q<HTMLInputElement>(f.el, '[data-testid=setting-field][data-key=url] input')!;
    expect(url.placeholder).toBe('https://api.socket-base.com');
    expect(url.value).toBe('');
    const hash = q(f.el, '[data-testid=setting-field][data-key=hash]')!;
    expect(hash.querySelector('[data-testid=required]')).not.toBeNull();
    expect(q(f.el, '[data-testid=setting-field][data-key=url] [data-testid=required]')).toBeNull();
  });

  it('hides the token field when the platform takes no main token', () => {
    expect(takesToken(KICHAT)).toBe(false);
    expect(takesToken(SOCKETBASE)).toBe(true);
    expect(takesToken(undefined)).toBe(true);
    const f = buildAccountFields(KICHAT, null);
    expect(q(f.el, '[data-testid=token-field] input[type=password]')).toBeNull();
    expect(q(f.el, '[data-testid=token-input]')).toBeNull();
    expect(q(f.el, '[data-testid=secret-field][data-key=kick]')).not.toBeNull();
    const got = f.collect();
    expect(got.ok && got.value.token).toBeFalsy();
  });

  it('fills an existing account: settings in their fields, others free-form, stored secrets as "stored" with no value', () => {
    const f = buildAccountFields(SOCKETBASE, account({}));
    expect(q<HTMLInputElement>(f.el, '[data-testid=setting-field][data-key=hash] input')!.value).toBe('demo-project');
    expect(q<HTMLInputElement>(f.el, '[data-testid=setting-field][data-key=sub] input')!.value).toBe('nightmod');
    const free = [...f.el.querySelectorAll<HTMLInputElement>('[data-testid=other-settings] input')].map((i) => i.value);
    expect(free).toEqual(['namespace', '/chat']);
    const secret = q(f.el, '[data-testid=secret-field][data-key=jwt_secret]')!;
    expect(secret.getAttribute('data-stored')).toBe('true');
    expect(q(secret, '[data-testid=secret-stored]')?.textContent).toBe('stored');
    expect(q<HTMLInputElement>(secret, 'input[type=password]')!.value).toBe('');
    // Nothing secret is ever put in the form: every password input starts empty.
    for (const i of f.el.querySelectorAll<HTMLInputElement>('input[type=password]')) expect(i.value).toBe('');
    // Leaving the stored secret alone sends no secrets; settings come back whole.
    const got = f.collect();
    expect(got).toEqual({ ok: true, value: { settings: { hash: 'demo-project', sub: 'nightmod', namespace: '/chat' } } });
  });

  it('replaces or removes a stored secret and sets or clears the token', () => {
    let f = buildAccountFields(SOCKETBASE, account({ hasToken: true }));
    type(q<HTMLInputElement>(f.el, '[data-testid=secret-field][data-key=jwt_secret] input[type=password]'), 'new-secret');
    type(q<HTMLInputElement>(f.el, '[data-testid=token-input]'), '  eyJ.jwt  ');
    let got = f.collect();
    expect(got.ok && got.value.secrets).toEqual({ jwt_secret: 'new-secret' });
    expect(got.ok && got.value.token).toBe('eyJ.jwt');
    f.forget();
    expect(q<HTMLInputElement>(f.el, '[data-testid=secret-field][data-key=jwt_secret] input[type=password]')!.value).toBe('');

    f = buildAccountFields(SOCKETBASE, account({ hasToken: true }));
    tick(q<HTMLInputElement>(f.el, '[data-testid=secret-field][data-key=jwt_secret] [data-testid=secret-remove]'));
    tick(q<HTMLInputElement>(f.el, '[data-testid=token-clear]'));
    expect(q<HTMLInputElement>(f.el, '[data-testid=token-input]')!.disabled).toBe(true);
    got = f.collect();
    expect(got.ok && got.value.secrets).toEqual({ jwt_secret: '' });
    expect(got.ok && got.value.clearToken).toBe(true);
    expect(got.ok && got.value.token).toBeUndefined();
  });

  it('validates required settings before saving', () => {
    const f = buildAccountFields(SOCKETBASE, null);
    const got = f.collect();
    expect(got.ok).toBe(false);
    expect(!got.ok && got.errors.join(' ')).toContain('hash');
    const hash = q<HTMLInputElement>(f.el, '[data-testid=setting-field][data-key=hash] input')!;
    expect(hash.getAttribute('aria-invalid')).toBe('true');
    type(hash, '  my-project ');
    expect(hash.getAttribute('aria-invalid')).toBeNull(); // typing clears the mark
    const ok = f.collect();
    expect(ok).toEqual({ ok: true, value: { settings: { hash: 'my-project' } } });
    expect(hash.getAttribute('aria-invalid')).toBeNull();
  });

  it('keeps free-form settings and refuses a known key typed there', () => {
    const f = buildAccountFields(SOCKETBASE, account({ settings: { hash: 'h' } }));
    (q<HTMLButtonElement>(f.el, '[data-testid=add-setting]')!).click();
    flushSync();
    const [k, v] = [...f.el.querySelectorAll<HTMLInputElement>('[data-testid=other-settings] .kv-row input')];
    type(k, 'namespace');
    type(v, '/mods');
    expect(f.collect()).toEqual({ ok: true, value: { settings: { hash: 'h', namespace: '/mods' } } });
    type(k, 'url');
    const bad = f.collect();
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.errors[0]).toContain('url');
  });

  it('lists a stored secret the platform does not describe so it can be removed, and falls back without a description', () => {
    const f = buildAccountFields(KICHAT, account({ platform: 'kichat', settings: {}, secretKeys: ['kick', 'old'] }));
    expect(q(f.el, '[data-testid=secret-field][data-key=kick]')?.getAttribute('data-stored')).toBe('true');
    expect(q(f.el, '[data-testid=secret-field][data-key=old]')?.getAttribute('data-stored')).toBe('true');
    const g = buildAccountFields(undefined, account({ platform: 'velora', settings: { url: 'x' }, secretKeys: [] }));
    expect(q(g.el, '[data-testid=token-input]')).not.toBeNull();
    expect([...g.el.querySelectorAll<HTMLInputElement>('[data-testid=other-settings] input')].map((i) => i.value)).toEqual(['url', 'x']);
    expect(q(g.el, '[data-testid=add-secret]')).not.toBeNull();
  });

  it('renders labels as text, never as markup', () => {
    const evil: PlatformInfo = { ...SOCKETBASE, label: '<img src=x onerror=1>', tokenLabel: '<b>tok</b>', secrets: [{ key: 'jwt_secret', label: '<script>x</script>' }], settings: [{ key: 'hash', label: '<i>h</i>', default: '<u>d</u>' }] };
    const f = buildAccountFields(evil, null);
    expect(f.el.querySelectorAll('img, b, script, i, u').length).toBe(0);
    expect(f.el.textContent).toContain('<b>tok</b>');
  });

  it('shows secrets held back by a moved endpoint and confirms them only when ticked', () => {
    const info: PlatformInfo = { ...SOCKETBASE, settings: [{ key: 'url', label: 'Base URL', default: 'https://api.socket-base.com', endpoint: true }, { key: 'hash', label: 'Project hash', required: true }] };
    const f = buildAccountFields(info, account({ hasToken: true, settings: { hash: 'h', url: 'https://evil.example' }, held: ['token', 'jwt_secret'], heldHosts: ['evil.example'] }));
    const box = q(f.el, '[data-testid=held-secrets]')!;
    expect(box.textContent).toContain('token, jwt_secret');
    expect(box.textContent).toContain('evil.example');
    const got = f.collect();
    expect(got.ok && got.value.confirmHosts).toBeFalsy();
    q<HTMLInputElement>(box, '[data-testid=confirm-hosts]')!.click();
    flushSync();
    const confirmed = f.collect();
    expect(confirmed.ok && confirmed.value.confirmHosts).toBe(true);
    expect(q(buildAccountFields(info, account({})).el, '[data-testid=held-secrets]')).toBeNull();
  });

  it('warns before saving when an endpoint moves away from the stored secrets\' host', () => {
    const info: PlatformInfo = { ...SOCKETBASE, settings: [{ key: 'url', label: 'Base URL', default: 'https://api.socket-base.com', endpoint: true }, { key: 'hash', label: 'Project hash', required: true }] };
    const f = buildAccountFields(info, account({ hasToken: true, settings: { hash: 'h' } }));
    const input = q<HTMLInputElement>(f.el, '[data-testid=setting-field][data-key=url] input')!;
    const note = q<HTMLElement>(f.el, '[data-testid=endpoint-moved]')!;
    type(input, 'https://api.socket-base.com/v2');
    expect(note.hidden).toBe(true);
    type(input, 'https://collector.example');
    expect(note.hidden).toBe(false);
    expect(note.textContent).toContain('collector.example');
  });

  it('shows allow_insecure as a checkbox that writes 1 or nothing', () => {
    const info: PlatformInfo = { ...SOCKETBASE, settings: [...(SOCKETBASE.settings ?? []), { key: 'allow_insecure', label: 'allow insecure' }] };
    const on = buildAccountFields(info, account({ settings: { hash: 'h', allow_insecure: '1' } }));
    const box = q<HTMLInputElement>(on.el, '[data-testid=allow-insecure]')!;
    expect(box.type).toBe('checkbox');
    expect(box.checked).toBe(true);
    const a = on.collect();
    expect(a.ok && a.value.settings?.allow_insecure).toBe('1');
    box.click();
    flushSync();
    const b = on.collect();
    expect(b.ok && 'allow_insecure' in (b.value.settings ?? {})).toBe(false);
    const off = buildAccountFields(info, account({ settings: { hash: 'h' } }));
    expect(q<HTMLInputElement>(off.el, '[data-testid=allow-insecure]')!.checked).toBe(false);
  });
});
