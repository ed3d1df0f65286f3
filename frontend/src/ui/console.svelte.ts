// Console is the app's shared context: the API, the in-memory state (the
// plain store of state/store.ts, folded by applyBatch), and the few reactive
// values the components read. `rev` goes up on every flushed batch: a
// component that shows state derives from it; `onFlush` hands it the
// Changes of the batch (what the old views' update(ch) got).
import { makeApi, type Api } from '../api/api';
import type { MethodName } from '../api/names';
import { denial, may, type Me } from '../api/session';
import type { StreamState, Transport } from '../api/transport';
import type { ActionRequest, ActionView, Batch, ClaimView, Overview, PeopleMarksView, QueueCountsView, QueueItemView, ShieldView } from '../api/types';
import { HIDDEN_STORAGE_KEY, HiddenSet, localStore } from '../state/hidden';
import { KEEP_MINUTES, MINUTE, RateStore } from '../state/rates';
import { applyBatch, boundQueue, emptyChanges, newState, type Changes, type State } from '../state/store';
import { ClaimSet } from './claims';
import { ActionFailures, type Route } from './ctx';
import { Marks } from './marks';
import { UNDO_MS, UndoTracker, type UndoToast } from './undo';
import { THEME_STORAGE_KEY, Theme } from './theme.svelte';

const QUEUE_LIMIT = 1000;
/** FLUSH_LATEST_MS: a batch is shown at the next animation frame, or after this long when the page gets
 * none (a hidden tab): the bounded state (the queue's keepers) is folded at least this often. */
const FLUSH_LATEST_MS = 1000;
/** RATE_MINUTES is the window of rates loaded at start (the sparklines' and the header charts' default). */
const RATE_MINUTES = 60;
/** QUEUE_COUNTS_MS is the delay before QueueCounts is asked again after a queue change (changes within it share one call). */
const QUEUE_COUNTS_MS = 250;

export type ToastLevel = 'info' | 'warn' | 'error';
export interface ToastItem {
  id: number;
  level: ToastLevel;
  title?: string;
  text: string;
  /** count is how many times this same notice came while it was up (absent: once). */
  count?: number;
}

/** CardReq is the user card asked for: a user of a channel. */
export interface CardReq {
  channelId: number;
  userId: string;
  username: string;
}

export type DialogReq =
  | { kind: 'confirm'; title: string; body: string; ok: string; withReason: boolean; done: (v: { reason: string } | null) => void }
  | { kind: 'timeout'; title: string; presets: number[]; note?: string; done: (v: { seconds: number; reason: string } | null) => void }
  | { kind: 'help'; done: (v: null) => void };

export class Console {
  readonly api: Api;
  readonly state: State = newState();
  readonly hidden = new HiddenSet(localStore());
  /** rates are the channels' per-minute counts for the charts (ChannelRates, then the batches). */
  readonly rates = new RateStore();
  /** theme is the colour theme (system preference or the moderator's switch). */
  readonly theme = new Theme(localStore(), window);
  route = $state<Route>({ page: 'queues', channelId: 0 });
  stream = $state<StreamState>({ state: 'connecting', attempt: 0 });
  ov = $state.raw<Overview | null>(null);
  /** shield is Shield mode's state, from the overview and then the batches. */
  shield = $state.raw<ShieldView | null>(null);
  /** rev counts flushed changes to state; derive views from it. */
  rev = $state(0);
  /** hiddenRev counts changes to the locally hidden set. */
  hiddenRev = $state(0);
  /** now is the clock, updated every second (countdowns). */
  now = $state(Date.now());
  toasts = $state<ToastItem[]>([]);
  dialog = $state.raw<DialogReq | null>(null);
  /** loadedQueue says the console's queue held every open item (the first load had them all and none was let
   * go since: state/store boundQueue); only then may its size stand in for the server's count. */
  loadedQueue = $state(false);
  /** queueCounts is the server's count of open queue items (QueueCounts), asked again after every change to the
   * queue or the channels: the sidebar's badges and the unfiltered queue header both show it, so they agree.
   * null until the first answer. */
  queueCounts = $state.raw<QueueCountsView | null>(null);
  private countsTimer = 0;
  private countsBusy = false;
  private countsAgain = false;
  /** card is the user card shown (c/UserCard.svelte), or null. */
  card = $state.raw<CardReq | null>(null);
  /** marks are the watched and noted users chat marks; marksRev counts their changes. */
  readonly marks = new Marks();
  marksRev = $state(0);
  /** claims say who is looking at which queue item (team mode); claimsRev counts their changes. */
  readonly claims = new ClaimSet();
  claimsRev = $state(0);
  /** undos are the shown undo toasts (c/UndoToasts.svelte). */
  undos = $state<UndoToast[]>([]);
  private cardReturn: HTMLElement | null = null;
  private readonly undoTracker = new UndoTracker((a, label) => this.offerUndo(a, label));
  private pending: Changes | null = null;
  private scheduled = false;
  private flushTimer = 0;
  private flushers = new Set<(ch: Changes) => void>();
  private toastSeq = 0;
  private readonly toastTimers = new Map<number, number>();
  /** failures reports each failed action once, with the platform's reason. */
  private readonly failures = new ActionFailures((a, label) => {
    const c = this.state.channels.get(a.channelId);
    const what = label ?? `${a.kind.charAt(0).toUpperCase()}${a.kind.slice(1)}`;
    this.toast('error', a.outcome || 'no reason given',
      `${what} failed${c ? ` in ${c.name}` : ''}${a.target && !label ? ` (${a.target})` : ''}`);
  });
  /** pageKey is the shown page's shortcut handler (returns true when it used the key). */
  pageKey: ((e: KeyboardEvent) => boolean) | null = null;
  /** pageSearch focuses the shown page's own search box, when it has one. */
  pageSearch: (() => void) | null = null;

  /** me is team mode's logged-in user (null in single-user mode and the desktop window: no roles). */
  me = $state.raw<Me | null>(null);

  constructor(private readonly transport: Transport) {
    // A call the role may not make is refused here with the reason (a
    // shortcut key reaches it too); the server's 403 stays the real guard.
    this.api = makeApi({
      kind: transport.kind,
      call: <T>(method: MethodName, ...args: unknown[]): Promise<T> => {
        const why = denial(this.me, method);
        return why ? Promise.reject(new Error(why)) : transport.call<T>(method, ...args);
      },
      openExternal: (url) => transport.openExternal(url),
      subscribe: (a, b, c) => transport.subscribe(a, b, c),
    });
    this.hidden.onChange(() => { this.hiddenRev++; });
    window.addEventListener('storage', (e) => {
      if (e.key === HIDDEN_STORAGE_KEY || e.key === null) this.hidden.reload();
      if (e.key === THEME_STORAGE_KEY || e.key === null) this.theme.reload();
    });
    window.setInterval(() => {
      const before = this.now;
      this.now = Date.now();
      if (Math.floor(before / MINUTE) !== Math.floor(this.now / MINUTE)) this.rates.prune(this.now - KEEP_MINUTES * MINUTE);
    }, 1000);
  }

  /** may reports whether the logged-in user's role may call method (always, outside team mode). */
  may(method: MethodName): boolean {
    return may(this.me, method);
  }

  /**
   * gate is an attachment for a control that calls method: when the role
   * may not, the control is disabled and its tooltip says why.
   * Use: <button {@attach ctx.gate('Act')}>…
   */
  gate(method: MethodName): (el: Element) => void {
    return (el) => {
      const why = denial(this.me, method);
      if (!why) return;
      const b = el as HTMLButtonElement;
      b.disabled = true;
      b.title = why;
      b.setAttribute('aria-disabled', 'true');
      b.dataset.denied = method;
    };
  }

  get kind(): 'desktop' | 'browser' {
    return this.transport.kind;
  }

  async start(): Promise<void> {
    this.transport.subscribe((b) => this.onBatch(b), (s) => { this.stream = s; }, () => void this.resync());
    await this.resync();
  }

  /** resync reloads the overview and the open queue (at start and after the event stream reconnects). */
  async resync(): Promise<void> {
    try {
      const ov = await this.api.overview();
      this.ov = ov;
      this.claims.me = ov.me ?? '';
      this.shield = ov.shield ?? null;
      this.state.accounts = new Map((ov.accounts ?? []).map((a) => [a.id, a]));
      this.state.channels = new Map((ov.channels ?? []).map((c) => [c.id, c]));
    } catch (e) {
      this.toast('error', (e as Error).message, 'Could not reach the console backend');
    }
    try {
      const q = (await this.api.queue(0, QUEUE_LIMIT)) ?? [];
      this.state.queue = new Map(q.filter((x) => x.status === 'open').map((x) => [x.id, x]));
      this.claims.clear();
      this.setClaims(null, q);
      this.state.queueEvicted = 0;
      boundQueue(this.state);
      this.loadedQueue = q.length < QUEUE_LIMIT && this.state.queueEvicted === 0;
    } catch (e) {
      this.toast('error', (e as Error).message, 'Could not load the queue');
    }
    try {
      this.setMarks(await this.api.peopleMarks());
    } catch {
      /* chat shows no marks until the next change; the card still has them */
    }
    const ch = emptyChanges();
    ch.channels = ch.accounts = ch.queue = true;
    this.flush(ch);
    await this.loadRates(0, RATE_MINUTES);
  }

  /** loadRates loads `minutes` of per-minute rates from the log, of one channel or all (0). */
  async loadRates(channelId: number, minutes: number): Promise<void> {
    try {
      const v = await this.api.channelRates(channelId, minutes);
      if (v) this.rates.load(v, channelId);
      this.touch();
    } catch (e) {
      this.toast('warn', (e as Error).message, 'Could not load the message rates');
    }
  }

  /** setClaims folds claim changes (a batch's or an answer's) and the claims queue items were read with. */
  setClaims(list: ClaimView[] | null | undefined, items: QueueItemView[] = []): void {
    const a = this.claims.apply(list);
    const b = this.claims.fromItems(items);
    if (a || b) this.claimsRev++;
  }

  private setMarks(v: PeopleMarksView | null | undefined): void {
    this.marks.set(v);
    this.marksRev++;
  }

  /** onFlush registers fn for every flushed batch; the returned function removes it. */
  onFlush(fn: (ch: Changes) => void): () => void {
    this.flushers.add(fn);
    return () => this.flushers.delete(fn);
  }

  /** touch tells the views that state changed outside a batch (after an API answer). */
  touch(ch: Partial<Changes> = {}): void {
    this.flush({ ...emptyChanges(), ...ch });
  }

  /** refreshQueueCounts asks QueueCounts after delay ms, unless a call is already due; while a call is on its
   * way, once it answered (so answers come in order and a slow store's answers are never all overtaken). */
  refreshQueueCounts(delay = QUEUE_COUNTS_MS): void {
    if (this.countsBusy) {
      this.countsAgain = true;
      return;
    }
    if (this.countsTimer) return;
    this.countsTimer = window.setTimeout(() => {
      this.countsTimer = 0;
      void this.loadQueueCounts();
    }, delay);
  }

  /** loadQueueCounts asks QueueCounts now (changes meanwhile ask again once it answered). */
  async loadQueueCounts(): Promise<void> {
    this.countsBusy = true;
    try {
      const c = await this.api.queueCounts();
      if (c) this.queueCounts = c;
    } catch {
      /* asked again at the next change */
    } finally {
      this.countsBusy = false;
      if (this.countsAgain) {
        this.countsAgain = false;
        this.refreshQueueCounts();
      }
    }
  }

  private flush(ch: Changes): void {
    this.rev++;
    if (ch.queue || ch.channels) this.refreshQueueCounts();
    for (const fn of this.flushers) fn(ch);
  }

  private onBatch(b: Batch): void {
    if (b.shield) this.shield = b.shield;
    if (b.people) this.setMarks(b.people);
    if (b.claims?.length) this.setClaims(b.claims);
    this.pending = applyBatch(this.state, b, this.pending ?? emptyChanges());
    if (this.loadedQueue && this.state.queueEvicted) this.loadedQueue = false;
    this.rates.add(b.rates);
    for (const a of b.actions ?? []) {
      this.failures.update(a);
      this.undoTracker.update(a);
      if (this.undos.some((u) => u.id === a.id)) {
        this.undos = this.undos.map((u) => (u.id === a.id
          ? { ...u, action: { ...a, resolvedItems: Math.max(a.resolvedItems ?? 0, u.action.resolvedItems ?? 0) || undefined } } : u));
      }
    }
    for (const n of b.notices ?? []) {
      const c = n.channelId ? this.state.channels.get(n.channelId) : undefined;
      if (n.level === 'error' || n.level === 'warn') this.toast(n.level, n.text, c ? c.name : undefined);
    }
    if (this.pending && !this.scheduled) {
      this.scheduled = true;
      requestAnimationFrame(() => this.flushPending());
      this.flushTimer = window.setTimeout(() => this.flushPending(), FLUSH_LATEST_MS);
    }
  }

  /** flushPending shows the batches folded since the last flush (at an animation frame, or the timer's). */
  private flushPending(): void {
    if (!this.scheduled) return;
    this.scheduled = false;
    window.clearTimeout(this.flushTimer);
    const ch = this.pending;
    this.pending = null;
    if (ch) this.flush(ch);
  }

  go(r: Route): void {
    this.route = r;
  }

  /** toast shows a notice; the same notice while it is still up counts up on it ("×2") instead of stacking. */
  toast(level: ToastLevel, text: string, title?: string): void {
    const ms = level === 'error' ? 12_000 : 4_000;
    const same = this.toasts.find((t) => t.level === level && t.text === text && t.title === title);
    if (same) {
      this.toasts = this.toasts.map((t) => (t.id === same.id ? { ...t, count: (t.count ?? 1) + 1 } : t));
      this.toastTimer(same.id, ms);
      return;
    }
    const id = ++this.toastSeq;
    const next = [...this.toasts, { id, level, text, title }];
    for (const t of next.slice(0, -6)) this.closeToast(t.id);
    this.toasts = next.slice(-6);
    this.toastTimer(id, ms);
  }

  private toastTimer(id: number, ms: number): void {
    window.clearTimeout(this.toastTimers.get(id));
    this.toastTimers.set(id, window.setTimeout(() => this.closeToast(id), ms));
  }

  closeToast(id: number): void {
    window.clearTimeout(this.toastTimers.get(id));
    this.toastTimers.delete(id);
    this.toasts = this.toasts.filter((t) => t.id !== id);
  }

  /** act sends a moderator action and reports failures; resolves to whether it was accepted.
   * onFailed runs once if the action fails, now or when its outcome arrives (to give back typed text). */
  async act(req: ActionRequest, label: string, onFailed?: () => void): Promise<boolean> {
    try {
      const a = await this.api.act(req);
      if (a && typeof a.id === 'number') {
        const prev = this.state.actions.get(a.id);
        // A settled state (from a batch that overtook this answer) never goes back to pending.
        const settled = (x: ActionView) => x.status === 'failed' || x.status === 'confirmed';
        if (!prev || (prev.updated <= a.updated && (settled(a) || !settled(prev)))) this.state.actions.set(a.id, a);
        this.failures.submitted(this.state.actions.get(a.id) ?? a, label, onFailed);
        // A batch may have overtaken Act's answer, but only the answer is sure to
        // carry "and N held messages" (resolvedItems).
        const cur = this.state.actions.get(a.id) ?? a;
        this.undoTracker.submitted({ ...cur, resolvedItems: Math.max(cur.resolvedItems ?? 0, a.resolvedItems ?? 0) || undefined }, label);
      }
      return true;
    } catch (e) {
      // Refused by the API (a limit, a missing target): the one notice.
      this.toast('error', (e as Error).message, `${label} failed`);
      onFailed?.();
      return false;
    }
  }

  /** openCard shows the user card of a user of channelId (one card at a time). */
  openCard(channelId: number, userId: string, username: string): void {
    if (!channelId || (!userId && !username)) return;
    if (!this.card) this.cardReturn = document.activeElement as HTMLElement | null;
    this.card = { channelId, userId, username };
  }

  /** closeCard closes the user card and gives the focus back to where it was. */
  closeCard(): void {
    this.card = null;
    const el = this.cardReturn;
    this.cardReturn = null;
    if (el?.isConnected) el.focus?.();
  }

  /** offerUndo shows the undo toast of a confirmed action for UNDO_MS. */
  private offerUndo(a: ActionView, label: string): void {
    const t: UndoToast = { id: a.id, label, action: a, until: Date.now() + UNDO_MS, state: 'offered' };
    this.undos = [...this.undos.filter((u) => u.id !== a.id), t].slice(-4);
    window.setTimeout(() => {
      this.undos = this.undos.filter((u) => u.id !== a.id || u.state === 'sending');
    }, UNDO_MS);
  }

  /** undo sends the reversal of the toast's action through Reverse. */
  async undo(id: number): Promise<void> {
    const t = this.undos.find((u) => u.id === id);
    if (!t || t.state !== 'offered') return;
    const set = (p: Partial<UndoToast>) => { this.undos = this.undos.map((u) => (u.id === id ? { ...u, ...p } : u)); };
    set({ state: 'sending' });
    try {
      const r = await this.api.reverse(id);
      if (r && typeof r.id === 'number') this.failures.submitted(r, `Undo (${t.action.undo ?? 'reversal'})`);
      set({ state: 'sent', text: `${t.action.undo ?? 'Undo'} sent.` });
    } catch (e) {
      set({ state: 'error', text: (e as Error).message });
    }
    window.setTimeout(() => { this.undos = this.undos.filter((u) => u.id !== id); }, 4000);
  }

  closeUndo(id: number): void {
    this.undos = this.undos.filter((u) => u.id !== id);
  }

  confirm(title: string, body: string, ok: string, withReason: boolean): Promise<{ reason: string } | null> {
    return new Promise((resolve) => this.openDialog({ kind: 'confirm', title, body, ok, withReason, done: resolve }));
  }

  timeout(title: string, presets: number[], note?: string): Promise<{ seconds: number; reason: string } | null> {
    return new Promise((resolve) => this.openDialog({ kind: 'timeout', title, presets, note, done: resolve }));
  }

  help(): void {
    this.openDialog({ kind: 'help', done: () => {} });
  }

  private openDialog(d: DialogReq): void {
    const prev = document.activeElement as HTMLElement | null;
    const done = d.done as (v: unknown) => void;
    let finished = false;
    this.dialog = {
      ...d,
      done: (v: unknown) => {
        if (finished) return;
        finished = true;
        this.dialog = null;
        prev?.focus?.();
        done(v);
      },
    } as DialogReq;
  }

  isDialogOpen(): boolean {
    return this.dialog !== null || this.card !== null;
  }

  queueLoaded(): boolean {
    return this.loadedQueue;
  }
}
