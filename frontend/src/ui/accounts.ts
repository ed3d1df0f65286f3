// Accounts: add, edit, remove per platform. The token field is write-only:
// the UI only ever learns whether a token is stored.
import { PLATFORMS, PLATFORM_NAMES, type AccountInput, type AccountView, type Platform } from '../api/types';
import type { Changes } from '../state/store';
import type { Ctx, Page } from './ctx';
import { h, replace } from './dom';
import { healthClass, healthText } from './health';

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
    this.keyring.className = `keyring ${k.ok ? 'ok' : 'bad'}`;
    if (k.ok) replace(this.keyring, `Tokens are stored in the OS keyring (${k.backend || 'system'}).`);
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
        h('span', { class: `plat plat-${a.platform}` }, PLATFORM_NAMES[a.platform] ?? a.platform),
        h('span', { class: 'acc-name' }, a.name),
        h('span', { class: a.hasToken ? 'token-ok' : 'token-none' }, a.hasToken ? 'token stored' : 'no token — guest, read-only'),
        a.secretKeys?.length ? h('span', { class: 'muted' }, `secrets: ${a.secretKeys.join(', ')}`) : null,
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

  private edit(a: AccountView | null): void {
    const platform = h('select', { class: 'input', attrs: { 'aria-label': 'platform', disabled: !!a } }, ...PLATFORMS.map((p) => h('option', { attrs: { value: p } }, PLATFORM_NAMES[p])));
    if (a) platform.value = a.platform;
    const name = h('input', { class: 'input', attrs: { type: 'text', placeholder: 'account name', 'aria-label': 'account name', maxlength: 100 } });
    name.value = a?.name ?? '';
    const token = h('input', { class: 'input', attrs: { type: 'password', autocomplete: 'off', placeholder: a?.hasToken ? 'token stored — type to replace' : 'token (empty = guest, read-only)', 'aria-label': 'token' } });
    const clearTok = h('input', { attrs: { type: 'checkbox', disabled: !a?.hasToken } });
    const kv = (title: string, secret: boolean, initial: [string, string][]) => {
      const rows = h('div', { class: 'kv' });
      const add = (k = '', v = '') => {
        const ki = h('input', { class: 'input', attrs: { type: 'text', placeholder: 'key', 'aria-label': `${title} key` } });
        const vi = h('input', { class: 'input', attrs: { type: secret ? 'password' : 'text', autocomplete: 'off', placeholder: secret ? 'value (empty removes)' : 'value', 'aria-label': `${title} value` } });
        ki.value = k;
        vi.value = v;
        const del = h('button', { class: 'icon-btn', attrs: { type: 'button', 'aria-label': 'remove row' } }, '×');
        const row = h('div', { class: 'kv-row' }, ki, vi, del);
        del.addEventListener('click', () => {
          if (secret && ki.value.trim()) { vi.value = ''; row.classList.add('removed'); return; }
          row.remove();
        });
        rows.appendChild(row);
      };
      for (const [k, v] of initial) add(k, v);
      const addBtn = h('button', { class: 'btn btn-small', attrs: { type: 'button' } }, `Add ${secret ? 'secret' : 'setting'}`);
      addBtn.addEventListener('click', () => add());
      const read = (): Record<string, string> => {
        const out: Record<string, string> = {};
        for (const r of rows.querySelectorAll('.kv-row')) {
          const [ki, vi] = r.querySelectorAll('input');
          const k = ki?.value.trim();
          if (k) out[k] = vi?.value ?? '';
        }
        return out;
      };
      return { el: h('fieldset', { class: 'fieldset' }, h('legend', null, title), rows, addBtn), read };
    };
    const settings = kv('Settings', false, Object.entries(a?.settings ?? {}));
    const secrets = kv('Extra secrets (e.g. streamerbot)', true, (a?.secretKeys ?? []).map((k) => [k, '']));
    const form = h('form', { class: 'account-form' },
      h('div', { class: 'side-title' }, a ? `Edit ${a.name}` : 'Add account'),
      h('div', { class: 'row' }, platform, name),
      h('div', { class: 'row' }, token, a ? h('label', { class: 'check' }, clearTok, 'clear stored token') : null),
      h('div', { class: 'muted' }, a ? (a.hasToken ? 'token stored' : 'no token — guest, read-only') : 'The token goes straight to the OS keyring and is never shown again.'),
      settings.el,
      secrets.el,
      h('div', { class: 'row' },
        h('button', { class: 'btn btn-primary', attrs: { type: 'submit' } }, a ? 'Save' : 'Add account'),
        a ? h('button', { class: 'btn', attrs: { type: 'button' }, on: { click: () => this.edit(null) } }, 'Cancel') : null));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const input: AccountInput = {
        id: a?.id ?? 0,
        platform: platform.value as Platform,
        name: name.value.trim(),
        settings: settings.read(),
      };
      if (!input.name) {
        this.ctx.toast('warn', 'Give the account a name.');
        return;
      }
      if (token.value) input.token = token.value;
      if (clearTok.checked) input.clearToken = true;
      const sec = secrets.read();
      // Existing secrets whose value was left empty stay as they are, unless removed.
      for (const r of form.querySelectorAll('.kv-row')) {
        const [ki, vi] = r.querySelectorAll('input');
        const k = ki?.value.trim();
        if (k && k in sec && !vi?.value && !r.classList.contains('removed') && a?.secretKeys?.includes(k)) delete sec[k];
      }
      if (Object.keys(sec).length) input.secrets = sec;
      token.value = '';
      void this.save(input);
    });
    replace(this.formBox, form);
  }

  private async save(input: AccountInput): Promise<void> {
    try {
      const saved = await this.ctx.api.saveAccount(input);
      this.ctx.state.accounts.set(saved.id, saved);
      this.ctx.toast('info', saved.hasToken ? 'token stored' : 'no token — guest, read-only', `Saved ${saved.name}`);
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
