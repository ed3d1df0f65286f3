// The secondary screens: audit log, mod events, search, rules.
import { PLATFORM_NAMES, type ActionView, type MessageView, type ModEventView, type RuleKindSpec, type RuleView } from '../api/types';
import type { Changes } from '../state/store';
import { spec, type Ctx, type Page } from './ctx';
import { h, replace } from './dom';
import { openUserCard } from './usercard';
import { fmtTime, renderText, renderUser } from './render';

function channelSelect(ctx: Ctx, allLabel: string): HTMLSelectElement {
  return h('select', { class: 'input', attrs: { 'aria-label': 'channel' } },
    h('option', { attrs: { value: 0 } }, allLabel),
    ...[...ctx.state.channels.values()].map((c) => h('option', { attrs: { value: c.id } }, `${PLATFORM_NAMES[c.platform] ?? c.platform} · ${c.name}`)));
}

function chanName(ctx: Ctx, id: number): string {
  const c = ctx.state.channels.get(id);
  return c ? c.name : id ? `#${id}` : 'all';
}

// ---- audit ----

export class AuditPage implements Page {
  readonly el: HTMLElement;
  private readonly body = h('tbody');
  private readonly filter: HTMLSelectElement;
  private rows = new Map<number, ActionView>();

  constructor(private readonly ctx: Ctx) {
    this.filter = channelSelect(ctx, 'All channels');
    this.filter.addEventListener('change', () => void this.load());
    this.el = h('div', { class: 'page page-audit' },
      h('div', { class: 'page-head' }, h('h1', null, 'Audit log'), this.filter),
      h('div', { class: 'table-wrap' }, h('table', { class: 'grid', attrs: { 'data-testid': 'audit' } },
        h('thead', null, h('tr', null, ...['Time', 'Channel', 'Action', 'Target', 'Params', 'Status', 'Outcome', 'Undo'].map((t) => h('th', null, t)))),
        this.body)));
    for (const a of ctx.state.actions.values()) this.rows.set(a.id, a);
    void this.load();
  }

  private async load(): Promise<void> {
    const cid = Number(this.filter.value);
    try {
      const list = (await this.ctx.api.auditLog(cid, 300)) ?? [];
      this.rows = new Map();
      for (const a of list) this.rows.set(a.id, a);
      for (const a of this.ctx.state.actions.values()) {
        const had = this.rows.get(a.id);
        if (!had || had.updated <= a.updated) if (!cid || a.channelId === cid) this.rows.set(a.id, a);
      }
      this.render();
    } catch (e) {
      this.ctx.toast('error', (e as Error).message, 'Could not load the audit log');
    }
  }

  private render(): void {
    const list = [...this.rows.values()].sort((a, b) => b.created - a.created || b.id - a.id).slice(0, 500);
    replace(this.body, ...list.map((a) => {
      const s = spec(this.ctx.state.channels.get(a.channelId), a.kind);
      return h('tr', { class: `st-${a.status.replace(/[^a-z]/g, '')}`, attrs: { 'data-testid': 'audit-row', 'data-kind': a.kind, 'data-status': a.status, 'data-created': a.created }, dataset: { actionId: a.id } },
        h('td', { class: 'time' }, fmtTime(a.created)),
        h('td', null, chanName(this.ctx, a.channelId)),
        h('td', null, a.kind, s.inferred ? h('span', { class: 'inferred' }, 'inferred') : null,
          a.actor?.startsWith('rule:') ? h('span', { class: 'muted', attrs: { 'data-testid': 'audit-actor' } }, ` by rule ${a.actor.slice(5)}`) : null),
        h('td', { class: 'target' }, a.target ?? ''),
        h('td', null, a.params ?? ''),
        h('td', null, h('span', { class: `status status-${a.status.replace(/[^a-z]/g, '')}`, attrs: { 'data-testid': 'audit-status' } }, a.status)),
        h('td', { class: a.status === 'failed' ? 'fail-reason' : '' }, a.outcome ?? '',
          a.resolvedItems ? h('span', { class: 'muted' }, ` and ${a.resolvedItems} held message${a.resolvedItems === 1 ? '' : 's'}`) : null),
        h('td', null, this.undoCell(a)));
    }));
  }

  /** undoCell offers the reversal of a ban or timeout (unban, lift timeout), or says why there is none. */
  private undoCell(a: ActionView): HTMLElement | null {
    if (a.status === 'failed') {
      if (a.kind !== 'ban' && a.kind !== 'timeout' && a.kind !== 'unban' && a.kind !== 'delete') return null;
      const retry = h('button', { class: 'btn btn-small', attrs: { type: 'button', 'data-testid': 'audit-retry' } }, 'Retry');
      retry.addEventListener('click', async () => {
        retry.disabled = true;
        try {
          await this.ctx.api.retryAction(a.id);
        } catch (e) {
          this.ctx.toast('error', (e as Error).message, 'Could not retry');
          retry.disabled = false;
        }
      });
      return retry;
    }
    if (a.undoRefused) return h('span', { class: 'muted', attrs: { title: a.undoRefused, 'data-testid': 'audit-undo-refused' } }, a.undo ? `no ${a.undo}` : 'cannot be undone');
    if (!a.undo) return null;
    const b = h('button', { class: 'btn btn-small', attrs: { type: 'button', 'data-testid': 'audit-undo' } }, a.undo);
    b.addEventListener('click', async () => {
      b.disabled = true;
      try {
        await this.ctx.api.reverse(a.id);
      } catch (e) {
        this.ctx.toast('error', (e as Error).message, `Cannot ${a.undo}`);
        b.disabled = false;
      }
    });
    return b;
  }

  update(ch: Changes): void {
    if (!ch.actions.length) return;
    const cid = Number(this.filter.value);
    for (const a of ch.actions) if (!cid || a.channelId === cid) this.rows.set(a.id, a);
    this.render();
  }
}

// ---- mod events ----

export class EventsPage implements Page {
  readonly el: HTMLElement;
  private readonly list = h('div', { class: 'feed', attrs: { 'data-testid': 'events' } });
  private readonly filter: HTMLSelectElement;
  private events: ModEventView[] = [];

  constructor(private readonly ctx: Ctx) {
    this.filter = channelSelect(ctx, 'All channels');
    this.filter.addEventListener('change', () => void this.load());
    this.el = h('div', { class: 'page page-events' }, h('div', { class: 'page-head' }, h('h1', null, 'Mod events'), this.filter), this.list);
    void this.load();
  }

  private async load(): Promise<void> {
    try {
      this.events = ((await this.ctx.api.modEvents(Number(this.filter.value), 300)) ?? []).slice();
      this.events.sort((a, b) => b.at - a.at);
      this.render();
    } catch (e) {
      this.ctx.toast('error', (e as Error).message, 'Could not load mod events');
    }
  }

  private render(): void {
    replace(this.list, ...this.events.slice(0, 500).map((ev) =>
      h('div', { class: `feed-row ev-${ev.kind.replace(/[^a-z_]/g, '')}` },
        h('span', { class: 'time' }, fmtTime(ev.at)),
        h('span', { class: 'chan-label' }, chanName(this.ctx, ev.channelId)),
        h('span', { class: 'tag' }, ev.kind),
        ev.user ? h('button', { class: 'user link-like', attrs: { type: 'button', title: 'open the user card', 'data-testid': 'event-user' }, on: { click: () =>
          openUserCard(this.ctx, document.querySelector<HTMLElement>('.dialog-host') ?? document.body, ev.channelId, ev.userId ?? '', ev.username ?? ev.user ?? '') } }, ev.user) : null,
        ev.actor ? h('span', { class: 'muted' }, `by ${ev.actor}`) : null,
        ev.text ? h('span', { class: 'feed-text' }, ev.text) : null,
        ev.expires ? h('span', { class: 'muted' }, `until ${fmtTime(ev.expires)}`) : null,
        this.reversal(ev))));
    if (!this.events.length) replace(this.list, h('div', { class: 'empty' }, 'No moderation events yet.'));
  }

  /** reversal offers the unban of a ban or timeout the platform reported, or says why not. */
  private reversal(ev: ModEventView): HTMLElement | null {
    if ((ev.kind !== 'ban' && ev.kind !== 'timeout') || !(ev.userId || ev.username)) return null;
    const c = this.ctx.state.channels.get(ev.channelId);
    const s = spec(c, 'unban');
    const label = ev.kind === 'ban' ? 'unban' : 'lift timeout';
    if (ev.kind === 'timeout' && c?.capabilities.noTimeoutLift) return h('span', { class: 'muted', attrs: { title: c.capabilities.noTimeoutLift } }, `no ${label}`);
    if (!s.supported) return h('span', { class: 'muted', attrs: { title: s.note ?? '' } }, `no ${label}`);
    const b = h('button', { class: 'btn btn-small', attrs: { type: 'button', 'data-testid': 'event-undo' } }, label);
    b.addEventListener('click', () => {
      b.disabled = true;
      void this.ctx.act({ channelId: ev.channelId, kind: 'unban', userId: ev.userId, username: ev.username ?? ev.user }, `${label} ${ev.user ?? ''}`);
    });
    return b;
  }

  update(ch: Changes): void {
    if (!ch.events) return;
    const cid = Number(this.filter.value);
    const known = new Set(this.events.map((e) => e.id));
    const fresh = this.ctx.state.events.filter((e) => !known.has(e.id) && (!cid || e.channelId === cid));
    if (!fresh.length) return;
    this.events = fresh.reverse().concat(this.events).slice(0, 500);
    this.render();
  }
}

// ---- search ----

export class SearchPage implements Page {
  readonly el: HTMLElement;
  readonly input = h('input', { class: 'input grow', attrs: { type: 'search', placeholder: 'Search logged messages', 'aria-label': 'search query', 'data-testid': 'search-input' } });
  private readonly results = h('div', { class: 'feed', attrs: { 'data-testid': 'search-results' } });
  private readonly filter: HTMLSelectElement;

  constructor(private readonly ctx: Ctx, query?: string) {
    this.filter = channelSelect(ctx, 'All channels');
    const form = h('form', { class: 'page-head' }, h('h1', null, 'Search'), this.input, this.filter, h('button', { class: 'btn btn-primary', attrs: { type: 'submit' } }, 'Search'));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.run();
    });
    this.el = h('div', { class: 'page page-search' }, form, this.results);
    if (query) {
      this.input.value = query;
      void this.run();
    }
  }

  private async run(): Promise<void> {
    const q = this.input.value.trim();
    if (!q) return;
    try {
      const list: MessageView[] = (await this.ctx.api.search(q, Number(this.filter.value), 200)) ?? [];
      replace(this.results, h('div', { class: 'muted' }, `${list.length} result${list.length === 1 ? '' : 's'}`),
        ...list.map((m) => h('div', { class: `feed-row ${m.deleted ? 'deleted' : ''}`, attrs: { 'data-testid': 'search-row' } },
          h('span', { class: 'time' }, `${new Date(m.at).toLocaleDateString()} ${fmtTime(m.at)}`),
          h('span', { class: 'chan-label' }, chanName(this.ctx, m.channelId)),
          renderUser(m.user),
          h('span', { class: 'msg-text' }, renderText(m)))));
    } catch (e) {
      this.ctx.toast('error', (e as Error).message, 'Search failed');
    }
  }
}

// ---- rules ----

/** ruleKinds returns the rule kinds the backend knows, with their params. */
function ruleKinds(ctx: Ctx): RuleKindSpec[] {
  return ctx.overview()?.ruleKinds ?? [];
}

export class RulesPage implements Page {
  readonly el: HTMLElement;
  private readonly list = h('div', { class: 'rules', attrs: { 'data-testid': 'rules' } });
  private rules: RuleView[] = [];

  constructor(private readonly ctx: Ctx) {
    this.el = h('div', { class: 'page page-rules' }, h('div', { class: 'page-head' }, h('h1', null, 'Auto-moderation rules')), this.list, this.form());
    void this.load();
  }

  private async load(): Promise<void> {
    try {
      this.rules = (await this.ctx.api.listRules()) ?? [];
      this.render();
    } catch (e) {
      this.ctx.toast('error', (e as Error).message, 'Could not load rules');
    }
  }

  private render(): void {
    if (!this.rules.length) {
      replace(this.list, h('div', { class: 'empty' }, 'No rules: nothing is held automatically.'));
      return;
    }
    replace(this.list, ...this.rules.map((r) => {
      const toggle = h('input', { attrs: { type: 'checkbox', 'aria-label': `enable ${r.name}` } });
      toggle.checked = r.enabled;
      toggle.addEventListener('change', () => void this.save({ ...r, enabled: toggle.checked }));
      const del = h('button', { class: 'btn btn-small', attrs: { type: 'button' } }, 'Delete');
      del.addEventListener('click', () => void this.remove(r));
      const params = Object.entries(r.params ?? {}).map(([k, v]) => `${k}=${v}`).join('  ');
      return h('div', { class: `rule ${r.enabled ? '' : 'disabled'}` },
        h('label', { class: 'rule-toggle' }, toggle),
        h('span', { class: 'tag' }, ruleKinds(this.ctx).find((k) => k.kind === r.kind)?.label ?? r.kind),
        h('span', { class: 'rule-name' }, r.name),
        h('span', { class: 'rule-params' }, params),
        h('span', { class: 'muted' }, r.channelId ? chanName(this.ctx, r.channelId) : 'all channels'),
        del);
    }));
  }

  private async save(r: RuleView): Promise<void> {
    try {
      const saved = await this.ctx.api.saveRule(r);
      const i = this.rules.findIndex((x) => x.id === saved.id);
      if (i >= 0) this.rules[i] = saved;
      else this.rules.push(saved);
      this.render();
    } catch (e) {
      this.ctx.toast('error', (e as Error).message, 'Could not save the rule');
      this.render();
    }
  }

  private async remove(r: RuleView): Promise<void> {
    const ok = await this.ctx.dialog.confirm(`Delete rule "${r.name}"?`, 'Messages it would hold will pass.', 'Delete', false);
    if (!ok) return;
    try {
      await this.ctx.api.deleteRule(r.id);
      this.rules = this.rules.filter((x) => x.id !== r.id);
      this.render();
    } catch (e) {
      this.ctx.toast('error', (e as Error).message, 'Could not delete the rule');
    }
  }

  private form(): HTMLElement {
    const kindSel = h('select', { class: 'input', attrs: { 'aria-label': 'rule kind' } }, ...ruleKinds(this.ctx).map((k) => h('option', { attrs: { value: k.kind, title: k.help } }, k.label)));
    const name = h('input', { class: 'input', attrs: { type: 'text', placeholder: 'name', 'aria-label': 'rule name', maxlength: 100 } });
    const chan = channelSelect(this.ctx, 'All channels');
    const paramsBox = h('span', { class: 'rule-param-fields' });
    let inputs: [string, HTMLInputElement][] = [];
    const renderParams = () => {
      const k = ruleKinds(this.ctx).find((x) => x.kind === kindSel.value);
      inputs = (k?.params ?? []).map((p) => [p.key, h('input', { class: 'input', attrs: { type: 'text', placeholder: p.default ? `${p.label}: ${p.default}` : p.label, 'aria-label': p.label, title: p.help ?? p.label } })]);
      replace(paramsBox, ...inputs.map(([, el]) => el));
    };
    kindSel.addEventListener('change', renderParams);
    renderParams();
    const tryBtn = h('button', { class: 'btn', attrs: { type: 'button', 'data-testid': 'rule-try' } }, 'Try on history');
    const tryOut = h('div', { class: 'rule-try', attrs: { 'data-testid': 'rule-try-result', 'aria-live': 'polite' } });
    const formRule = (): RuleView => {
      const params: Record<string, string> = {};
      for (const [k, el] of inputs) if (el.value.trim()) params[k] = el.value.trim();
      const label = ruleKinds(this.ctx).find((x) => x.kind === kindSel.value)?.label ?? kindSel.value;
      return { id: 0, kind: kindSel.value, name: name.value.trim() || label, enabled: true, params, channelId: Number(chan.value) };
    };
    tryBtn.addEventListener('click', () => {
      replace(tryOut, h('span', { class: 'muted' }, 'Trying…'));
      this.ctx.api.dryRunRule({ rule: formRule(), channelId: 0, last: 0, since: 0, until: 0 }).then((res) => {
        const per = (res.channels ?? []).filter((c) => c.matched > 0).map((c) => `${chanName(this.ctx, c.channelId)}: ${c.matched}`).join(', ');
        replace(tryOut,
          h('div', null, `Would have caught ${res.matched} of the last ${res.scanned} messages${per ? ` (${per})` : ''}; ${res.alreadyHeld} of them were held already.`),
          ...(res.sample ?? []).slice(0, 10).map((hit) => h('div', { class: 'feed-row', attrs: { 'data-testid': 'rule-try-row' } },
            h('span', { class: 'chan-label' }, chanName(this.ctx, hit.message.channelId)),
            renderUser(hit.message.user),
            h('span', { class: 'msg-text' }, renderText(hit.message)),
            h('span', { class: 'muted' }, hit.reason))));
      }).catch((e: unknown) => {
        replace(tryOut);
        this.ctx.toast('error', (e as Error).message, 'Could not try the rule');
      });
    });
    const form = h('form', { class: 'rule-form' }, h('div', { class: 'side-title' }, 'Add rule'), kindSel, name, paramsBox, chan, tryBtn, h('button', { class: 'btn btn-primary', attrs: { type: 'submit' } }, 'Add'), tryOut);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const params: Record<string, string> = {};
      for (const [k, el] of inputs) if (el.value.trim()) params[k] = el.value.trim();
      if (kindSel.value === 'blocked_regex' && params.pattern) {
        try {
          new RegExp(params.pattern.replace(/^\(\?i\)/, ''));
        } catch (err) {
          this.ctx.toast('warn', (err as Error).message, 'Pattern looks invalid');
        }
      }
      const label = ruleKinds(this.ctx).find((x) => x.kind === kindSel.value)?.label ?? kindSel.value;
      void this.save({ id: 0, kind: kindSel.value, name: name.value.trim() || label, enabled: true, params, channelId: Number(chan.value) }).then(() => {
        name.value = '';
        renderParams();
      });
    });
    return form;
  }
}
