// The application shell: top bar, sidebar, current page, toasts, dialogs,
// keyboard shortcuts and the batch pump.
import { makeApi, type Api } from '../api/api';
import type { StreamState, Transport } from '../api/transport';
import type { ActionRequest, Batch, Overview } from '../api/types';
import { HIDDEN_STORAGE_KEY, HiddenSet, localStore } from '../state/hidden';
import { applyBatch, emptyChanges, newState, type Changes, type State } from '../state/store';
import { AccountsPage } from './accounts';
import { ActionFailures, type Ctx, type Page, type Route } from './ctx';
import { h, replace } from './dom';
import { DialogHost, showHelp, Toasts } from './overlay';
import { AuditPage, EventsPage, RulesPage, SearchPage } from './pages';
import { QueuesPage } from './queues';
import { Sidebar } from './sidebar';

const QUEUE_LIMIT = 1000;

export class App implements Ctx {
  readonly api: Api;
  readonly state: State = newState();
  readonly dialog = new DialogHost();
  readonly hidden = new HiddenSet(localStore());
  private readonly toasts = new Toasts();
  private readonly sidebar: Sidebar;
  private readonly main = h('main', { class: 'main' });
  private readonly streamEl = h('span', { class: 'stream', attrs: { 'data-testid': 'stream' } });
  private readonly metaEl = h('span', { class: 'meta' });
  private readonly searchIn = h('input', { class: 'input search', attrs: { type: 'search', placeholder: 'Search  /', 'aria-label': 'search', 'data-testid': 'top-search' } });
  private readonly nav = h('div', { class: 'nav' });
  private page: Page | null = null;
  private route: Route = { page: 'queues', channelId: 0 };
  private ov: Overview | null = null;
  private stream: StreamState = { state: 'connecting', attempt: 0 };
  private pending: Changes | null = null;
  private loadedQueue = false;
  /** failures reports each failed action once, with the platform's reason. */
  private readonly failures = new ActionFailures((a, label) => {
    const c = this.state.channels.get(a.channelId);
    this.toast('error', a.outcome || 'no reason given',
      `${label ?? a.kind} failed${c ? ` in ${c.name}` : ''}${a.target && !label ? ` (${a.target})` : ''}`);
  });

  constructor(private readonly root: HTMLElement, private readonly transport: Transport) {
    this.api = makeApi(transport);
    this.sidebar = new Sidebar(this);
    const searchForm = h('form', { class: 'search-form' }, this.searchIn);
    searchForm.addEventListener('submit', (e) => {
      e.preventDefault();
      this.go({ page: 'search', query: this.searchIn.value });
    });
    replace(root,
      h('header', { class: 'topbar' }, h('span', { class: 'brand' }, 'modconsole'), this.nav, searchForm, h('span', { class: 'grow' }), this.streamEl, this.metaEl),
      h('div', { class: 'body' }, this.sidebar.el, this.main),
      this.toasts.el,
      this.dialog.el);
    document.addEventListener('keydown', (e) => this.onKey(e));
    // Another tab hid or unhid something: follow it.
    window.addEventListener('storage', (e) => {
      if (e.key === HIDDEN_STORAGE_KEY || e.key === null) this.hidden.reload();
    });
    window.setInterval(() => this.tick(), 1000);
    this.renderNav();
    this.renderStream();
  }

  async start(): Promise<void> {
    this.transport.subscribe((b) => this.onBatch(b), (s) => { this.stream = s; this.renderStream(); }, () => void this.resync());
    await this.resync();
    this.go(this.route);
  }

  /** resync reloads the overview and the open queue (at start and after the event stream reconnects). */
  private async resync(): Promise<void> {
    try {
      const ov = await this.api.overview();
      this.ov = ov;
      this.state.accounts = new Map((ov.accounts ?? []).map((a) => [a.id, a]));
      this.state.channels = new Map((ov.channels ?? []).map((c) => [c.id, c]));
      this.metaEl.textContent = `${ov.mode} · ${ov.version}`;
      if (!ov.keyring?.ok) this.metaEl.appendChild(h('span', { class: 'tag tag-bad', attrs: { title: ov.keyring?.error ?? '' } }, 'no keyring'));
    } catch (e) {
      this.toast('error', (e as Error).message, 'Could not reach the console backend');
    }
    try {
      const q = (await this.api.queue(0, QUEUE_LIMIT)) ?? [];
      this.state.queue = new Map(q.filter((x) => x.status === 'open').map((x) => [x.id, x]));
      this.loadedQueue = q.length < QUEUE_LIMIT;
    } catch (e) {
      this.toast('error', (e as Error).message, 'Could not load the queue');
    }
    const ch = emptyChanges();
    ch.channels = ch.accounts = ch.queue = true;
    this.flush(ch);
  }

  overview(): Overview | null {
    return this.ov;
  }

  queueLoaded(): boolean {
    return this.loadedQueue;
  }

  toast(level: 'info' | 'warn' | 'error', text: string, title?: string): void {
    this.toasts.show(level, text, title);
  }

  async act(req: ActionRequest, label: string, onFailed?: () => void): Promise<boolean> {
    try {
      const a = await this.api.act(req);
      if (a && typeof a.id === 'number') {
        const prev = this.state.actions.get(a.id);
        if (!prev || prev.updated <= a.updated) this.state.actions.set(a.id, a);
        this.failures.submitted(this.state.actions.get(a.id) ?? a, label, onFailed);
      }
      return true;
    } catch (e) {
      // Refused by the API (a limit, a missing target): the one notice.
      this.toast('error', (e as Error).message, `${label} failed`);
      onFailed?.();
      return false;
    }
  }

  go(r: Route): void {
    this.route = r;
    this.page?.destroy?.();
    let p: Page;
    switch (r.page) {
      case 'queues': p = new QueuesPage(this, r.channelId); break;
      case 'audit': p = new AuditPage(this); break;
      case 'events': p = new EventsPage(this); break;
      case 'search': p = new SearchPage(this, r.query); break;
      case 'rules': p = new RulesPage(this); break;
      case 'accounts': p = new AccountsPage(this); break;
    }
    this.page = p;
    replace(this.main, p.el);
    this.sidebar.setRoute(r);
    this.renderNav();
  }

  private renderNav(): void {
    const items: [string, Route][] = [
      ['Queues', { page: 'queues', channelId: this.route.page === 'queues' ? this.route.channelId : 0 }],
      ['Audit log', { page: 'audit' }],
      ['Mod events', { page: 'events' }],
      ['Search', { page: 'search' }],
      ['Rules', { page: 'rules' }],
      ['Accounts', { page: 'accounts' }],
    ];
    replace(this.nav, ...items.map(([label, r]) => {
      const b = h('button', { class: `navbtn ${this.route.page === r.page ? 'active' : ''}`, attrs: { type: 'button', 'data-page': r.page } }, label);
      b.addEventListener('click', () => this.go(r));
      return b;
    }));
  }

  private renderStream(): void {
    const s = this.stream;
    this.streamEl.className = `stream stream-${s.state}`;
    if (s.state === 'open') replace(this.streamEl, h('span', { class: 'dot' }), this.transport.kind === 'desktop' ? 'live' : 'live');
    else if (s.state === 'connecting') replace(this.streamEl, h('span', { class: 'dot' }), 'connecting…');
    else {
      const left = s.nextRetry ? Math.max(0, Math.ceil((s.nextRetry - Date.now()) / 1000)) : 0;
      replace(this.streamEl, h('span', { class: 'dot' }), `event stream lost · retry ${left ? `in ${left}s` : 'now'} (#${s.attempt})`);
    }
  }

  private onBatch(b: Batch): void {
    this.pending = applyBatch(this.state, b, this.pending ?? emptyChanges());
    for (const a of b.actions ?? []) this.failures.update(a);
    for (const n of b.notices ?? []) {
      const c = n.channelId ? this.state.channels.get(n.channelId) : undefined;
      if (n.level === 'error' || n.level === 'warn') this.toast(n.level, n.text, c ? c.name : undefined);
    }
    if (this.pending && !this.scheduled) {
      this.scheduled = true;
      requestAnimationFrame(() => {
        this.scheduled = false;
        const ch = this.pending;
        this.pending = null;
        if (ch) this.flush(ch);
      });
    }
  }
  private scheduled = false;

  private flush(ch: Changes): void {
    if (ch.channels || ch.accounts || ch.queue) this.sidebar.render();
    this.page?.update?.(ch);
  }

  private tick(): void {
    this.page?.tick?.();
    if (this.stream.state !== 'open') this.renderStream();
    for (const c of this.state.channels.values()) {
      if (c.health.status === 'reconnecting' && c.health.nextRetry) {
        this.sidebar.render();
        break;
      }
    }
  }

  private onKey(e: KeyboardEvent): void {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
    const t = e.target as HTMLElement | null;
    if (t && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName))) {
      if (e.key === 'Escape') t.blur();
      return;
    }
    if (this.dialog.isOpen() || document.querySelector('.backdrop')) return;
    if (e.key === '?') {
      e.preventDefault();
      showHelp(this.dialog.el);
      return;
    }
    if (e.key === '/') {
      e.preventDefault();
      if (this.page instanceof SearchPage) this.page.input.focus();
      else this.searchIn.focus();
      return;
    }
    if (this.page?.key?.(e)) e.preventDefault();
  }
}
