// @vitest-environment happy-dom
import { flushSync } from 'svelte';
import { afterEach, describe, expect, it } from 'vitest';
import type { AccountInput, AccountView, Overview, PlatformInfo } from '../src/api/types';
import AccountsPage from '../src/ui/c/AccountsPage.svelte';
import { fakeConsole, mountWith, settle, type Mounted } from './harness';

const health = { status: 'connected' as const, since: 0, reconnects: 0 };
const VELORA: PlatformInfo = { platform: 'velora', label: 'Velora', tokenLabel: 'Token', settings: [{ key: 'url', label: 'Gateway URL', default: 'https://api.velora.tv' }] };
const acc = (id: number, name: string): AccountView => ({ id, platform: 'velora', name, settings: {}, hasToken: true, guest: false, health });

let mounted: Mounted[] = [];
afterEach(() => {
  for (const m of mounted) m.destroy();
  mounted = [];
});

function setup() {
  const saved: AccountInput[] = [];
  const { ctx } = fakeConsole({ SaveAccount: (a) => { saved.push(a as AccountInput); return { ...acc(9, (a as AccountInput).name), id: (a as AccountInput).id || 9 }; } });
  ctx.ov = { mode: 'browser', version: 't', platforms: [VELORA], accounts: [], channels: [] } as unknown as Overview;
  ctx.state.accounts = new Map([[1, acc(1, 'first')], [2, acc(2, 'second')]]);
  const m = mountWith(AccountsPage, {}, ctx);
  mounted.push(m);
  return { ctx, el: m.el, saved };
}

const click = (el: Element | null) => { (el as HTMLElement).click(); flushSync(); };
const rows = (el: HTMLElement) => el.querySelectorAll('[data-testid=accounts] [data-testid=account]').length;

describe('AccountsPage: a list with an "Add account" button', () => {
  it('shows the list without a form; Add opens the form beside the list, Cancel closes it', () => {
    const { el } = setup();
    expect(rows(el)).toBe(2);
    expect(el.querySelector('[data-testid=account-form]')).toBeNull();
    click(el.querySelector('[data-testid=account-add]'));
    const form = el.querySelector('[data-testid=account-form]');
    expect(form?.getAttribute('data-account-id')).toBe('0');
    expect(rows(el)).toBe(2); // the list stays
    expect(el.querySelector('[data-testid=token-input]')).not.toBeNull();
    click(el.querySelector('[data-testid=account-cancel]'));
    expect(el.querySelector('[data-testid=account-form]')).toBeNull();
  });

  it('Edit opens the same form for that account; saving closes it', async () => {
    const { el, saved } = setup();
    click(el.querySelector('[data-account-id="2"] [data-testid=account-edit]'));
    expect(el.querySelector('[data-testid=account-form]')?.getAttribute('data-account-id')).toBe('2');
    expect(el.querySelector<HTMLInputElement>('[data-testid=account-name]')?.value).toBe('second');
    el.querySelector('[data-testid=account-form]')!.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
    await settle();
    expect(saved.map((a) => [a.id, a.name])).toEqual([[2, 'second']]);
    expect(el.querySelector('[data-testid=account-form]')).toBeNull();
    expect(rows(el)).toBe(2);
  });

  it('a new account needs a name: the form says so and stays open', async () => {
    const { el, saved } = setup();
    click(el.querySelector('[data-testid=account-add]'));
    el.querySelector('[data-testid=account-form]')!.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
    await settle();
    expect(saved).toEqual([]);
    expect(el.querySelector('[data-testid=account-errors]')?.textContent).toContain('name');
    expect(el.querySelector('[data-testid=account-form]')).not.toBeNull();
  });
});

describe('AccountsPage: where the tokens are stored', () => {
  const banner = (el: HTMLElement) => el.querySelector('[data-testid=keyring]')?.textContent ?? '';
  it('names the OS keyring in single-user mode and the team secret store in team mode', () => {
    const { ctx, el } = setup();
    ctx.ov = { ...ctx.ov!, keyring: { ok: true, saved: true, kind: 'keyring', backend: 'OS keyring (Secret Service)' } };
    flushSync();
    expect(banner(el)).toContain('stored in the OS keyring');
    ctx.ov = { ...ctx.ov!, keyring: { ok: true, saved: true, kind: 'team', backend: 'team secret store (PostgreSQL, key 0011223344556677)' } };
    flushSync();
    expect(banner(el)).toContain('stored in the team secret store');
    expect(banner(el)).not.toContain('keyring');
    click(el.querySelector('[data-testid=account-add]'));
    expect(el.querySelector('[data-testid=account-form]')?.textContent).toContain('go straight to the team secret store');
  });

  it('says when the team secret store is not usable, with its error', () => {
    const { ctx, el } = setup();
    ctx.ov = { ...ctx.ov!, keyring: { ok: false, saved: true, kind: 'team', backend: 'team secret store (PostgreSQL, key 0011223344556677)', error: "secrets: this database's secrets were sealed with another key" } };
    flushSync();
    expect(banner(el)).toContain('The team secret store is not usable');
    expect(banner(el)).toContain('sealed with another key');
    expect(banner(el)).not.toContain('No keyring');
  });
});
