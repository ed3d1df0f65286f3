// Accounts: add, edit, remove per platform. The token field is write-only:
// the UI only ever learns whether a token is stored.
import { PLATFORMS, PLATFORM_NAMES, type AccountInput, type AccountView, type Platform, type PlatformInfo } from '../api/types';
import { ALLOW_INSECURE, buildAccountFields, takesToken, type AccountFields } from './accountForm';
import type { Changes } from '../state/store';
import type { Ctx, Page } from './ctx';
import { h, replace } from './dom';
import { healthClass, healthText } from './health';

/** isInsecure says whether the account allows plain ws:/http: to other hosts. */
function isInsecure(a: AccountView): boolean {
  const v = (a.settings ?? {})[ALLOW_INSECURE]?.trim().toLowerCase();
  return v === '1' || v === 'true';
}

/** expiryWarning warns about a token that expires within a day (or has). */
function expiryWarning(at: number | undefined, what: string): HTMLElement | null {
  if (!at) return null;
  const left = at - Date.now();
  if (left > 24 * 3600 * 1000) return null;
  const text = left <= 0 ? `${what} expired ${new Date(at).toLocaleString()}: enter a new one`
    : `${what} expires ${new Date(at).toLocaleString()}`;
  return h('span', { class: 'tag tag-warn', attrs: { 'data-testid': 'account-token-expiry' } }, text);
}

export class AccountsPage implements Page {
  readonly el: HTMLElement;
  private readonly keyring = h('div', { class: 'keyring', attrs: { 'data-testid': 'keyring' } });
  private readonly list = h('div', { class: 'accounts', attrs: { 'data-testid': 'accounts' } });
  private readonly formBox = h('div', { class: 'account-form-box' });

  constructor(private readonly ctx: Ctx) {
    this.el = h('div', { class: 'page page-accounts' }, h('div', { class: 'page-head' }, h('h1', null, 'Accounts')), this.keyring, this.list, this.formBox);
    this.renderKeyring();
    this.render();
    this.edit(null);
  }

  private renderKeyring(): void {
    const k = this.ctx.overview()?.keyring;
    if (!k) {
      replace(this.keyring, h('span', { class: 'muted' }, 'Keyring status unknown.'));
      return;
    }
    this.keyring.className = `keyring ${k.ok && k.saved !== false ? 'ok' : 'bad'}`;
    if (k.ok && k.saved === false) replace(this.keyring,
      h('strong', null, 'Tokens are kept in memory only. '),
      `They are not saved (${k.backend || 'in-memory'}) and are gone when the console stops: this run was started with --secrets memory.`);
    else if (k.ok) replace(this.keyring, `Tokens are stored in the OS keyring (${k.backend || 'system'}).`);
    else replace(this.keyring,
      h('strong', null, 'No keyring reachable. '),
      `Tokens cannot be stored${k.backend ? ` (${k.backend})` : ''}: ${k.error || 'no Secret Service found'}. `,
      'Accounts without a token connect as guests (read-only). Nothing is written in plain text.');
  }

  private render(): void {
    const accs = [...this.ctx.state.accounts.values()].sort((a, b) => a.platform.localeCompare(b.platform) || a.name.localeCompare(b.name));
    if (!accs.length) {
      replace(this.list, h('div', { class: 'empty' }, 'No accounts yet: add one below.'));
      return;
    }
    replace(this.list, ...accs.map((a) => {
      const edit = h('button', { class: 'btn btn-small', attrs: { type: 'button' } }, 'Edit');
      edit.addEventListener('click', () => this.edit(a));
      const rm = h('button', { class: 'btn btn-small', attrs: { type: 'button' } }, 'Remove');
      rm.addEventListener('click', () => void this.remove(a));
      const settings = Object.entries(a.settings ?? {}).map(([k, v]) => `${k}=${v}`).join('  ');
      return h('div', { class: 'account', attrs: { 'data-testid': 'account' }, dataset: { accountId: a.id } },
        h('span', { class: `plat plat-${a.platform}` }, this.platformLabel(a.platform)),
        h('span', { class: 'acc-name' }, a.name),
        h('span', { class: a.hasToken || !a.guest ? 'token-ok' : 'token-none', attrs: { 'data-testid': 'account-token' } }, this.tokenText(a)),
        a.secretKeys?.length ? h('span', { class: 'muted', attrs: { 'data-testid': 'account-secrets' } }, `secrets stored: ${a.secretKeys.join(', ')}`) : null,
        a.held?.length ? h('span', { class: 'token-none', attrs: { 'data-testid': 'account-held', title: 'Edit the account to enter them again or confirm the new host' } },
          `not sent: ${a.held.join(', ')} (endpoint moved to ${(a.heldHosts ?? []).join(', ') || 'a new host'})`) : null,
        isInsecure(a) ? h('span', { class: 'tag tag-warn', attrs: { 'data-testid': 'account-insecure' } }, 'plain ws:/http: allowed') : null,
        this.signInBox(a),
        expiryWarning(a.tokenExpires, 'pasted token'),
        h('span', { class: `health ${healthClass(a.health)}` }, h('span', { class: 'dot' }), healthText(a.health, a.guest)),
        settings ? h('span', { class: 'muted settings' }, settings) : null,
        h('span', { class: 'grow' }),
        edit, rm);
    }));
  }

  private async remove(a: AccountView): Promise<void> {
    const ok = await this.ctx.dialog.confirm(`Remove ${a.name}?`, 'Its channels are left and its token is deleted from the keyring.', 'Remove', false);
    if (!ok) return;
    try {
      await this.ctx.api.removeAccount(a.id);
      this.ctx.state.accounts.delete(a.id);
      this.render();
    } catch (e) {
      this.ctx.toast('error', (e as Error).message, 'Could not remove the account');
    }
  }

  /** infos are the platform descriptions from Overview (empty with an older backend). */
  private infos(): PlatformInfo[] {
    const list = this.ctx.overview()?.platforms;
    return Array.isArray(list) ? list.filter((p) => p && typeof p.platform === 'string') : [];
  }

  private info(p: Platform): PlatformInfo | undefined {
    return this.infos().find((x) => x.platform === p);
  }

  /** signInBox shows the browser sign-in of a platform with OAuth: the app and
   * scopes in use, the actions the scopes do not allow, and the buttons. */
  private signInBox(a: AccountView): HTMLElement | null {
    const o = a.oauth;
    if (!o || !this.info(a.platform)?.oauth) return null;
    const label = this.platformLabel(a.platform).replace(/ \(.*\)$/, '');
    const box = h('span', { class: 'signin', attrs: { 'data-testid': 'account-signin' } });
    const signIn = h('button', { class: 'btn btn-small', attrs: { type: 'button', 'data-testid': 'account-signin-button', disabled: !!o.pending } },
      o.pending ? 'Waiting for the browser…' : o.signIn ? `Sign in to ${label} again` : o.signedIn ? 'Sign in again' : `Sign in with ${label}`);
    signIn.addEventListener('click', () => void this.signIn(a));
    if (o.signedIn) {
      box.append(h('span', { class: 'token-ok', attrs: { 'data-testid': 'account-signin-state' } },
        `signed in${o.clientId ? ` (app ${o.clientId})` : ''}${o.scopes?.length ? ` · scopes ${o.scopes.join(' ')}` : ''}`));
      const out = h('button', { class: 'btn btn-small', attrs: { type: 'button', 'data-testid': 'account-signout-button' } }, 'Sign out');
      out.addEventListener('click', () => void this.signOut(a));
      box.append(signIn, out);
    } else {
      box.append(signIn);
    }
    if (o.signIn) box.append(h('span', { class: 'token-none', attrs: { 'data-testid': 'account-signin-again' } }, `Sign in again: ${o.signIn} — actions wait until then`));
    if (o.error) box.append(h('span', { class: 'token-none' }, `Sign-in failed: ${o.error}`));
    if (o.missing?.length) box.append(h('span', { class: 'tag tag-warn', attrs: { 'data-testid': 'account-missing-scopes' } }, `will not work: ${o.missing.join('; ')}`));
    return box;
  }

  private async signIn(a: AccountView): Promise<void> {
    try {
      const v = await this.ctx.api.signIn(a.id);
      // The desktop app opens the system browser itself; in browser mode
      // the page opens the authorize page in a new tab.
      if (this.ctx.overview()?.mode !== 'desktop') {
        // noopener: the platform's page gets no handle on this one (and
        // window.open then returns null, so there is nothing to check).
        window.open(v.url, '_blank', 'noopener');
      }
    } catch (e) {
      this.ctx.toast('error', (e as Error).message, 'Could not start the sign-in');
    }
  }

  private async signOut(a: AccountView): Promise<void> {
    try {
      await this.ctx.api.signOut(a.id);
    } catch (e) {
      this.ctx.toast('error', (e as Error).message, 'Could not sign out');
    }
  }

  /** tokenText says how the account signs in, without ever showing a secret. */
  private tokenText(a: AccountView): string {
    if (a.hasToken) return 'token stored';
    if (a.guest) return 'no token — guest, read-only';
    return takesToken(this.info(a.platform)) ? 'no token stored' : 'signs in with its secrets';
  }

  private platformLabel(p: Platform): string {
    return this.info(p)?.label || PLATFORM_NAMES[p] || p;
  }

  private edit(a: AccountView | null): void {
    const known = this.infos().map((x) => x.platform);
    const choices = [...PLATFORMS.filter((p) => !known.length || known.includes(p)), ...known.filter((p) => !PLATFORMS.includes(p))];
    const platform = h('select', { class: 'input', attrs: { 'aria-label': 'platform', 'data-testid': 'account-platform', disabled: !!a } },
      ...choices.map((p) => h('option', { attrs: { value: p } }, this.platformLabel(p))));
    if (a) {
      if (!choices.includes(a.platform)) platform.appendChild(h('option', { attrs: { value: a.platform } }, a.platform));
      platform.value = a.platform;
    }
    const name = h('input', { class: 'input', attrs: { type: 'text', placeholder: 'account name', 'aria-label': 'account name', maxlength: 100 } });
    name.value = a?.name ?? '';
    const fieldsBox = h('div', { class: 'account-fields-box' });
    const errorsBox = h('div', { class: 'form-errors', attrs: { role: 'alert', 'data-testid': 'account-errors', hidden: true } });
    let fields: AccountFields = buildAccountFields(this.info(platform.value as Platform), a);
    replace(fieldsBox, fields.el);
    platform.addEventListener('change', () => {
      fields.forget();
      fields = buildAccountFields(this.info(platform.value as Platform), a);
      replace(fieldsBox, fields.el);
      errorsBox.hidden = true;
    });
    const form = h('form', { class: 'account-form', attrs: { 'data-testid': 'account-form', novalidate: true }, dataset: { accountId: a?.id ?? 0 } },
      h('div', { class: 'side-title' }, a ? `Edit ${a.name}` : 'Add account'),
      h('div', { class: 'row' }, platform, name),
      h('div', { class: 'muted' }, a
        ? `${a.hasToken ? 'token stored' : 'no token stored'}${a.secretKeys?.length ? ` · secrets stored: ${a.secretKeys.join(', ')}` : ''}`
        : 'Tokens and secrets go straight to the OS keyring and are never shown again.'),
      fieldsBox,
      errorsBox,
      h('div', { class: 'row' },
        h('button', { class: 'btn btn-primary', attrs: { type: 'submit', 'data-testid': 'account-save' } }, a ? 'Save' : 'Add account'),
        a ? h('button', { class: 'btn', attrs: { type: 'button' }, on: { click: () => this.edit(null) } }, 'Cancel') : null));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const errors: string[] = [];
      const accName = name.value.trim();
      if (!accName) errors.push('Give the account a name.');
      const got = fields.collect();
      if (!got.ok) errors.push(...got.errors);
      if (errors.length || !got.ok) {
        errorsBox.hidden = false;
        replace(errorsBox, ...errors.map((x) => h('div', null, x)));
        this.ctx.toast('warn', errors.join('; '), 'Not saved');
        return;
      }
      errorsBox.hidden = true;
      const input: AccountInput = { id: a?.id ?? 0, platform: platform.value as Platform, name: accName, ...got.value };
      fields.forget();
      void this.save(input);
    });
    replace(this.formBox, form);
  }

  private async save(input: AccountInput): Promise<void> {
    try {
      const saved = await this.ctx.api.saveAccount(input);
      this.ctx.state.accounts.set(saved.id, saved);
      this.ctx.toast('info', this.tokenText(saved), `Saved ${saved.name}`);
      this.render();
      this.edit(null);
    } catch (e) {
      this.ctx.toast('error', (e as Error).message, 'Could not save the account');
    }
  }

  update(ch: Changes): void {
    if (ch.accounts) this.render();
  }

  tick(): void {
    this.renderKeyring();
  }
}
