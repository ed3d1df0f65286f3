// The platform-specific part of the account form, built from the backend's
// PlatformInfo: the main token (when the platform takes one), one write-only
// field per known secret, one labelled input per known setting, and a
// free-form area for any other setting. Secret values are never shown: the
// UI only learns which ones are stored (AccountView.secretKeys).
import type { AccountInput, AccountView, FieldInfo, PlatformInfo } from '../api/types';
import { h } from './dom';

/** AccountParts is what the fields contribute to an AccountInput. */
export type AccountParts = Pick<AccountInput, 'settings' | 'token' | 'clearToken' | 'secrets' | 'confirmHosts'>;

/** ALLOW_INSECURE is the per-account setting that permits plain ws:/http: to other hosts; the form shows it as a checkbox. */
export const ALLOW_INSECURE = 'allow_insecure';

/** hostOf is the lower-case host[:port] of a URL, or '' when it has none. */
export function hostOf(raw: string): string {
  try {
    return new URL(raw.trim()).host.toLowerCase();
  } catch {
    return '';
  }
}

const isOn = (v: string | undefined) => !!v && (v.trim() === '1' || v.trim().toLowerCase() === 'true');

export type Collected = { ok: true; value: AccountParts } | { ok: false; errors: string[] };

export interface AccountFields {
  el: HTMLElement;
  /** collect reads the fields, or says which required settings are missing (and marks them). */
  collect(): Collected;
  /** forget empties every typed token and secret value. */
  forget(): void;
}

const GENERIC_TOKEN = 'Token (empty = guest, read-only)';

let seq = 0;
const nextId = () => `acf-${++seq}`;

/** fieldList returns the well-formed entries of a FieldInfo list (the backend may send null). */
function fieldList(list: FieldInfo[] | null | undefined): FieldInfo[] {
  return (list ?? []).filter((f) => f && typeof f.key === 'string' && f.key.trim() !== '');
}

/** tokenTakes says whether the platform takes a main token (unknown platforms: yes, as before). */
export function takesToken(info: PlatformInfo | undefined): boolean {
  return !info || (typeof info.tokenLabel === 'string' && info.tokenLabel.trim() !== '');
}

export function buildAccountFields(info: PlatformInfo | undefined, a: AccountView | null): AccountFields {
  const stored = new Set(a?.secretKeys ?? []);
  const current = a?.settings ?? {};
  const parts: HTMLElement[] = [];
  const secretInputs: HTMLInputElement[] = [];

  // ---- main token ----
  let token: HTMLInputElement | null = null;
  let clearTok: HTMLInputElement | null = null;
  if (takesToken(info)) {
    const label = info?.tokenLabel.trim() || GENERIC_TOKEN;
    const id = nextId();
    token = h('input', { class: 'input', attrs: { id, type: 'password', autocomplete: 'new-password', spellcheck: 'false', placeholder: a?.hasToken ? 'stored — type to replace' : label, 'aria-label': 'token', 'data-testid': 'token-input' } });
    secretInputs.push(token);
    clearTok = a?.hasToken ? h('input', { attrs: { type: 'checkbox', 'data-testid': 'token-clear' } }) : null;
    const tokenInput = token;
    clearTok?.addEventListener('change', () => { tokenInput.disabled = !!clearTok?.checked; if (clearTok?.checked) tokenInput.value = ''; });
    parts.push(h('div', { class: 'acc-field token-field', attrs: { 'data-testid': 'token-field' } },
      h('label', { class: 'field-label', attrs: { for: id } }, label),
      h('div', { class: 'field-input' }, token,
        a ? storedTag(a.hasToken, 'token-stored') : null,
        clearTok ? h('label', { class: 'check' }, clearTok, 'remove stored token') : null)));
  } else {
    // No main token on this platform; a token stored earlier can still be removed.
    clearTok = a?.hasToken ? h('input', { attrs: { type: 'checkbox', 'data-testid': 'token-clear' } }) : null;
    parts.push(h('div', { class: 'acc-field token-field muted', attrs: { 'data-testid': 'no-token' } },
      `${info?.label || 'This platform'} takes no main token${fieldList(info?.secrets).length ? ': it signs in with the secrets below' : ''}.`,
      clearTok ? h('label', { class: 'check' }, clearTok, 'remove the token stored earlier') : null));
  }

  // ---- secrets held back: an endpoint moved since they were entered ----
  let confirm: HTMLInputElement | null = null;
  const held = (a?.held ?? []).filter((x) => typeof x === 'string');
  if (held.length) {
    const hosts = (a?.heldHosts ?? []).join(', ') || 'a new host';
    confirm = h('input', { attrs: { type: 'checkbox', 'data-testid': 'confirm-hosts' } });
    parts.push(h('div', { class: 'acc-field held-field warn', attrs: { 'data-testid': 'held-secrets', role: 'alert' } },
      h('strong', null, `Not sent: ${held.join(', ')}. `),
      `An endpoint now points at ${hosts}, which ${held.length > 1 ? 'they were' : 'it was'} not entered for. Enter ${held.length > 1 ? 'them' : 'it'} again, or confirm:`,
      h('label', { class: 'check' }, confirm, `send the stored ${held.length > 1 ? 'secrets' : held[0]} to ${hosts}`)));
  }

  // ---- secrets ----
  interface SecretRow { key: string; input: HTMLInputElement; remove: HTMLInputElement | null; stored: boolean }
  const secretRows: SecretRow[] = [];
  const secretRow = (f: FieldInfo): HTMLElement => {
    const isStored = stored.has(f.key);
    const id = nextId();
    const input = h('input', { class: 'input', attrs: { id, type: 'password', autocomplete: 'new-password', spellcheck: 'false', placeholder: isStored ? 'stored — type to replace' : 'not set', 'aria-label': `secret ${f.key}`, 'data-key': f.key } });
    secretInputs.push(input);
    const remove = isStored ? h('input', { attrs: { type: 'checkbox', 'data-testid': 'secret-remove' } }) : null;
    remove?.addEventListener('change', () => { input.disabled = !!remove.checked; if (remove.checked) input.value = ''; });
    secretRows.push({ key: f.key, input, remove, stored: isStored });
    return h('div', { class: 'acc-field secret-field', attrs: { 'data-testid': 'secret-field', 'data-key': f.key, 'data-stored': isStored ? 'true' : 'false' } },
      h('label', { class: 'field-label', attrs: { for: id } }, f.label || f.key, h('code', { class: 'field-key' }, f.key)),
      h('div', { class: 'field-input' }, input, storedTag(isStored, 'secret-stored'), remove ? h('label', { class: 'check' }, remove, 'remove') : null));
  };
  const knownSecrets = fieldList(info?.secrets);
  const knownSecretKeys = new Set(knownSecrets.map((f) => f.key));
  // Stored secrets this platform does not list (older names): shown so they can be removed.
  const strays = [...stored].filter((k) => !knownSecretKeys.has(k)).sort();
  let freeSecrets: FreeForm | null = null;
  if (info) {
    const rows = [...knownSecrets.map(secretRow), ...strays.map((k) => secretRow({ key: k, label: 'Stored secret this platform does not list' }))];
    if (rows.length) parts.push(h('fieldset', { class: 'fieldset', attrs: { 'data-testid': 'secrets' } }, h('legend', null, 'Secrets (write-only: stored values are never shown)'), ...rows));
  } else {
    // No platform description (older backend): stored secrets by name, plus free-form new ones.
    const rows = strays.map((k) => secretRow({ key: k, label: k }));
    freeSecrets = freeForm('secret', true, []);
    parts.push(h('fieldset', { class: 'fieldset', attrs: { 'data-testid': 'secrets' } }, h('legend', null, 'Secrets (write-only)'), ...rows, freeSecrets.el));
  }

  // ---- settings ----
  interface SettingRow { f: FieldInfo; input: HTMLInputElement }
  const settingRows: SettingRow[] = [];
  const known = fieldList(info?.settings);
  const knownKeys = new Set(known.map((f) => f.key));
  let insecure: HTMLInputElement | null = null;
  const hasStored = !!a && (a.hasToken || (a.secretKeys?.length ?? 0) > 0);
  const settingEls = known.map((f) => {
    const id = nextId();
    if (f.key === ALLOW_INSECURE) {
      insecure = h('input', { attrs: { id, type: 'checkbox', 'aria-label': `setting ${f.key}`, 'data-key': f.key, 'data-testid': 'allow-insecure' } });
      insecure.checked = isOn(current[f.key]);
      return h('div', { class: 'acc-field setting-field insecure-field', attrs: { 'data-testid': 'setting-field', 'data-key': f.key } },
        h('label', { class: 'check', attrs: { for: id } }, insecure, 'Allow plain ws:/http: to hosts other than this machine',
          h('code', { class: 'field-key' }, f.key)),
        h('div', { class: 'muted small' }, 'Off by default: the token would travel unencrypted.'));
    }
    const input = h('input', { class: 'input', attrs: { id, type: 'text', spellcheck: 'false', placeholder: f.default || (f.required ? 'required' : ''), 'aria-label': `setting ${f.key}`, 'aria-required': f.required ? 'true' : undefined, required: !!f.required && !f.default, 'data-key': f.key } });
    input.value = current[f.key] ?? '';
    // An endpoint moved away from the stored secrets' host holds them back: say so before saving.
    const moved = f.endpoint && hasStored ? h('div', { class: 'muted small warn', attrs: { 'data-testid': 'endpoint-moved', hidden: true } }) : null;
    input.addEventListener('input', () => {
      input.removeAttribute('aria-invalid'); input.classList.remove('invalid');
      if (!moved) return;
      const before = hostOf(current[f.key] || f.default || '');
      const now = hostOf(input.value || f.default || '');
      moved.hidden = !now || now === before;
      moved.textContent = moved.hidden ? '' : `New host ${now}: the stored token and secrets are not sent there until you enter them again or confirm after saving.`;
    });
    settingRows.push({ f, input });
    return h('div', { class: `acc-field setting-field${f.required ? ' required' : ''}`, attrs: { 'data-testid': 'setting-field', 'data-key': f.key } },
      h('label', { class: 'field-label', attrs: { for: id } }, f.label || f.key,
        f.required ? h('span', { class: 'req', attrs: { title: 'required', 'data-testid': 'required' } }, ' *') : null,
        h('code', { class: 'field-key' }, f.key)),
      h('div', { class: 'field-input' }, input, moved));
  });
  const others = Object.entries(current).filter(([k]) => !knownKeys.has(k)).sort(([x], [y]) => x.localeCompare(y));
  const freeSettings = freeForm('setting', false, others);
  parts.push(h('fieldset', { class: 'fieldset', attrs: { 'data-testid': 'settings' } },
    h('legend', null, 'Settings'),
    ...settingEls,
    settingEls.length ? h('div', { class: 'muted small' }, 'Empty: the default (shown greyed) applies. * required.') : null,
    h('div', { class: 'other-settings', attrs: { 'data-testid': 'other-settings' } },
      settingEls.length ? h('div', { class: 'muted small' }, 'Other settings') : null,
      freeSettings.el)));

  const collect = (): Collected => {
    const errors: string[] = [];
    const settings: Record<string, string> = {};
    for (const { f, input } of settingRows) {
      const v = input.value.trim();
      const missing = !!f.required && !v && !f.default;
      input.classList.toggle('invalid', missing);
      if (missing) {
        input.setAttribute('aria-invalid', 'true');
        errors.push(`${f.label || f.key} (${f.key}) is required`);
      } else input.removeAttribute('aria-invalid');
      if (v) settings[f.key] = v;
    }
    const ins = insecure as HTMLInputElement | null;
    if (ins?.checked) settings[ALLOW_INSECURE] = '1';
    for (const [k, v] of freeSettings.read()) {
      if (knownKeys.has(k)) errors.push(`setting ${k} has its own field above`);
      else if (k in settings) errors.push(`setting ${k} is given twice`);
      else settings[k] = v;
    }
    if (errors.length) return { ok: false, errors };
    const value: AccountParts = { settings };
    const tok = token && !token.disabled ? token.value.trim() : '';
    if (tok) value.token = tok;
    if (clearTok?.checked) value.clearToken = true;
    const secrets: Record<string, string> = {};
    for (const r of secretRows) {
      if (r.remove?.checked) secrets[r.key] = '';
      else if (r.input.value) secrets[r.key] = r.input.value;
    }
    for (const [k, v] of freeSecrets?.read() ?? []) if (v && !(k in secrets)) secrets[k] = v;
    if (Object.keys(secrets).length) value.secrets = secrets;
    if (confirm?.checked) value.confirmHosts = true;
    return { ok: true, value };
  };

  const forget = () => {
    for (const i of secretInputs) i.value = '';
    for (const i of freeSecrets?.inputs() ?? []) i.value = '';
  };

  return { el: h('div', { class: 'account-fields', attrs: { 'data-testid': 'account-fields', 'data-platform': info?.platform ?? '' } }, ...parts), collect, forget };
}

function storedTag(isStored: boolean, testid: string): HTMLElement {
  return isStored
    ? h('span', { class: 'tag tag-stored', attrs: { 'data-testid': testid } }, 'stored')
    : h('span', { class: 'muted small', attrs: { 'data-testid': `${testid}-none` } }, 'not set');
}

interface FreeForm {
  el: HTMLElement;
  /** read returns the rows with a key, keys trimmed, in order. */
  read(): [string, string][];
  inputs(): HTMLInputElement[];
}

/** freeForm is a key/value list with add and remove buttons. */
function freeForm(what: 'setting' | 'secret', secret: boolean, initial: [string, string][]): FreeForm {
  const rows = h('div', { class: 'kv', attrs: { 'data-testid': `free-${what}s` } });
  const add = (k = '', v = '') => {
    const ki = h('input', { class: 'input', attrs: { type: 'text', spellcheck: 'false', placeholder: 'key', 'aria-label': `${what} key` } });
    const vi = h('input', { class: 'input', attrs: { type: secret ? 'password' : 'text', autocomplete: secret ? 'new-password' : 'off', placeholder: 'value', 'aria-label': `${what} value` } });
    ki.value = k;
    vi.value = v;
    const del = h('button', { class: 'icon-btn', attrs: { type: 'button', 'aria-label': 'remove row' } }, '×');
    const row = h('div', { class: 'kv-row' }, ki, vi, del);
    del.addEventListener('click', () => row.remove());
    rows.appendChild(row);
  };
  for (const [k, v] of initial) add(k, v);
  const addBtn = h('button', { class: 'btn btn-small', attrs: { type: 'button', 'data-testid': `add-${what}` } }, `Add ${secret ? 'secret' : 'setting'}`);
  addBtn.addEventListener('click', () => add());
  const pairs = () => [...rows.querySelectorAll('.kv-row')].map((r) => [...r.querySelectorAll('input')] as HTMLInputElement[]);
  return {
    el: h('div', { class: 'kv-box' }, rows, addBtn),
    read: () => {
      const out: [string, string][] = [];
      for (const [ki, vi] of pairs()) {
        const k = ki?.value.trim();
        if (k) out.push([k, vi?.value ?? '']);
      }
      return out;
    },
    inputs: () => pairs().map((p) => p[1]).filter((x): x is HTMLInputElement => !!x),
  };
}
