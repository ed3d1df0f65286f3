// Pure helpers of the queues screen: capability notes and the local-only
// substitutes a channel needs.
import type { ActionKind, ActionSpec, ChannelView, Platform, QueueItemView, QueuePageView, QueueQuery } from '../api/types';
import { spec } from './ctx';

export const MOD_KINDS: ActionKind[] = ['ban', 'timeout', 'delete', 'pin'];
export const VERB_LABEL: Record<string, string> = { ban: 'Ban', timeout: 'Timeout', delete: 'Delete', pin: 'Pin', announce: 'Announce', clear: 'Clear chat' };
/** CHANNEL_KINDS are the channel-level actions whose absence the composer explains. */
export const CHANNEL_KINDS: ActionKind[] = ['announce', 'clear', 'pin'];

/** LocalHide says which local-only substitutes a channel needs: hiding users where it cannot ban or time out, hiding messages where it cannot delete. */
export interface LocalHide {
  user: boolean;
  message: boolean;
  ban: ActionSpec;
  timeout: ActionSpec;
  del: ActionSpec;
}

/** capNote is "Label: note", without repeating the label when the note already starts with it (Kick: "Pinning: …"). */
export function capNote(kind: ActionKind, note: string | undefined): string {
  const label = VERB_LABEL[kind] ?? kind;
  const n = note || 'not available here';
  const stem = label.toLowerCase().split(' ')[0]!.slice(0, 5);
  return n.toLowerCase().startsWith(stem) ? n : `${label}: ${n}`;
}

export function localHide(c: ChannelView | undefined): LocalHide {
  const ban = spec(c, 'ban');
  const timeout = spec(c, 'timeout');
  const del = spec(c, 'delete');
  return { user: !ban.supported || !timeout.supported, message: !del.supported, ban, timeout, del };
}

/** inputMaxLength bounds a text input (whose maxlength counts UTF-16 units)
 * without ever blocking a text the platform accepts: the API checks the exact
 * limit, counted the platform's way. */
export function inputMaxLength(c: ChannelView | undefined): number {
  const max = c?.capabilities.maxMessage || 500;
  // A rune is at most 2 UTF-16 units; a UTF-16 unit is at least 1 byte.
  return (c?.capabilities.messageUnit ?? 'runes') === 'runes' ? 2 * max : max;
}

// ---- the queue list: paging, live items, grouping, selection ----

/** QueueOrder is the list's sort: oldest held first (the default) or newest first. */
export type QueueOrder = 'oldest' | 'newest';

/** QueueFilter is what one queue view shows. Zero values do not filter. */
export interface QueueFilter {
  channelId: number;
  platform: Platform | '';
  ruleId: number;
  order: QueueOrder;
}

/** matchesFilter says whether an open item belongs in a view with filter f. */
export function matchesFilter(f: QueueFilter, it: QueueItemView): boolean {
  if (f.channelId && it.channelId !== f.channelId) return false;
  if (f.platform && it.platform !== f.platform) return false;
  if (f.ruleId && !(it.ruleIds ?? []).includes(f.ruleId)) return false;
  return true;
}

/** LIST_LIVE_CAP bounds what live items add to a list: once it took that many, a finished "oldest first"
 * list stops taking the items that arrive after its end (its next page brings them, when the moderator
 * scrolls there), and a "newest first" list longer than that lets go of its tail beyond what the moderator
 * scrolled to (trimTail). Pages loaded by scrolling are never let go. */
export const LIST_LIVE_CAP = 1000;

/**
 * QueueList is the ordered ids of the open items a view pages through with
 * QueuePage (keyset pages over the item id: ascending for "oldest",
 * descending for "newest"). Items that arrive live are taken in where the
 * pages already reached; beyond that, a later page brings them, so every
 * open item is listed exactly once.
 */
export class QueueList {
  /** ids in display order. */
  ids: number[] = [];
  /** next is the cursor of the next page (QueuePageView.next). */
  next = 0;
  /** started says whether the first page arrived. */
  started = false;
  /** done says whether the last page arrived. */
  done = false;
  /** total is the server's count of the open items matching the filter (last page or count fetched). */
  total = 0;
  /** loading says a page is on its way (one at a time per list). */
  loading = false;
  /** live counts the ids offer listed (LIST_LIVE_CAP bounds them; pages are not counted). */
  live = 0;
  private readonly known = new Set<number>();

  constructor(readonly filter: QueueFilter) {}

  /** query is the QueuePage request of the next page. */
  query(limit: number): QueueQuery {
    const f = this.filter;
    return { channelId: f.channelId, platform: (f.platform || '') as Platform, ruleId: f.ruleId, order: f.order, after: this.next, limit };
  }

  has(id: number): boolean {
    return this.known.has(id);
  }

  get size(): number {
    return this.ids.length;
  }

  /** addPage takes the answer to query(); returns the items it added. */
  addPage(p: QueuePageView): QueueItemView[] {
    const added: QueueItemView[] = [];
    for (const it of p.items ?? []) {
      if (it.status !== 'open' || !matchesFilter(this.filter, it)) continue;
      if (this.insert(it.id)) added.push(it);
    }
    this.started = true;
    this.next = p.next;
    this.done = p.next === 0;
    this.total = p.total;
    return added;
  }

  /** offer takes an open item seen live; returns whether it was listed now
   * (false when it does not match, is listed already, or a later page brings it). */
  offer(it: QueueItemView): boolean {
    if (it.status !== 'open' || !matchesFilter(this.filter, it) || this.known.has(it.id)) return false;
    if (!this.started) return false;
    if (this.done && this.filter.order === 'oldest' && it.id > this.last() && this.live >= LIST_LIVE_CAP) {
      this.missed(it.id);
      return false;
    }
    if (!this.done && (this.filter.order === 'newest' ? it.id < this.next : it.id > this.next)) return false;
    if (!this.insert(it.id)) return false;
    this.live++;
    return true;
  }

  /** keeps says whether the list has the item or offer would list it (the console keeps such items:
   * state/store's QueueKeeper). */
  keeps(it: QueueItemView): boolean {
    if (this.known.has(it.id)) return true;
    if (it.status !== 'open' || !this.started || !matchesFilter(this.filter, it)) return false;
    if (this.done && this.filter.order === 'oldest' && it.id > this.last() && this.live >= LIST_LIVE_CAP) return false;
    return this.done || (this.filter.order === 'newest' ? it.id >= this.next : it.id <= this.next);
  }

  /** missed tells a finished "oldest first" list that an open item after its end is not listed (the
   * console let go of it, or the list is full): the list is no longer done, and its next page starts
   * after its last id. */
  missed(id: number): void {
    if (!this.done || this.filter.order !== 'oldest' || !this.started || id <= this.last()) return;
    this.done = false;
    this.next = this.last();
  }

  /** trimTail lets a "newest first" list go of its ids after the first keep (at least LIST_LIVE_CAP):
   * its next page brings them again. Returns how many it dropped. */
  trimTail(keep: number): number {
    keep = Math.max(keep, LIST_LIVE_CAP);
    if (this.filter.order !== 'newest' || this.ids.length <= keep) return 0;
    const cut = this.ids.splice(keep);
    for (const id of cut) this.known.delete(id);
    this.next = this.ids[this.ids.length - 1]!;
    this.done = false;
    return cut.length;
  }

  /** rank is how many listed ids come before id in the list's order (listed or not). */
  rank(id: number): number {
    let lo = 0;
    let hi = this.ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.before(this.ids[mid]!, id)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private last(): number {
    return this.ids.length ? this.ids[this.ids.length - 1]! : 0;
  }

  /** remove drops an id (resolved); returns whether it was listed. */
  remove(id: number): boolean {
    if (!this.known.delete(id)) return false;
    const i = this.indexOf(id);
    if (i >= 0) this.ids.splice(i, 1);
    return true;
  }

  /** prune drops every id for which open is false; returns how many. */
  prune(open: (id: number) => boolean): number {
    const before = this.ids.length;
    this.ids = this.ids.filter((id) => {
      if (open(id)) return true;
      this.known.delete(id);
      return false;
    });
    return before - this.ids.length;
  }

  private before(a: number, b: number): boolean {
    return this.filter.order === 'newest' ? a > b : a < b;
  }

  /** indexOf finds id by binary search (ids are sorted by the order). */
  private indexOf(id: number): number {
    let lo = 0;
    let hi = this.ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.before(this.ids[mid]!, id)) lo = mid + 1;
      else hi = mid;
    }
    return this.ids[lo] === id ? lo : -1;
  }

  private insert(id: number): boolean {
    if (this.known.has(id)) return false;
    this.known.add(id);
    const n = this.ids.length;
    if (n === 0 || this.before(this.ids[n - 1]!, id)) {
      this.ids.push(id);
      return true;
    }
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.before(this.ids[mid]!, id)) lo = mid + 1;
      else hi = mid;
    }
    this.ids.splice(lo, 0, id);
    return true;
  }
}

/** personKey names the author of an item within its channel (grouping, bulk ban). */
export function personKey(it: QueueItemView): string {
  const u = it.message.user;
  return `${it.channelId}\u0000${u.id || '@' + u.username.toLowerCase()}`;
}

/** QueueRow is one row of the list: an item, or a collapsed run of one user's consecutive items. */
export interface QueueRow {
  /** item is the row's shown item (a group's first). */
  item: QueueItemView;
  /** items are the items the row stands for: all of a collapsed group, else just item. */
  items: QueueItemView[];
  /** group is set on the first row of a run of one user's items (count = the run's length). */
  group?: { key: string; count: number; expanded: boolean };
  /** member marks the second and later items of an expanded run. */
  member: boolean;
}

/** groupRows turns items into rows: consecutive items of one user in one
 * channel become one row with a count, unless their person key is in expanded. */
export function groupRows(items: readonly QueueItemView[], expanded: ReadonlySet<string>): QueueRow[] {
  const rows: QueueRow[] = [];
  for (let i = 0; i < items.length; ) {
    const first = items[i]!;
    const key = personKey(first);
    let j = i + 1;
    while (j < items.length && personKey(items[j]!) === key) j++;
    const run = items.slice(i, j);
    if (run.length === 1) rows.push({ item: first, items: run, member: false });
    else if (!expanded.has(key)) rows.push({ item: first, items: run, group: { key, count: run.length, expanded: false }, member: false });
    else run.forEach((it, k) => rows.push({ item: it, items: [it], group: k === 0 ? { key, count: run.length, expanded: true } : undefined, member: k > 0 }));
    i = j;
  }
  return rows;
}

/** rowIndex maps every item id to the index of the row that shows it. */
export function rowIndex(rows: readonly QueueRow[]): Map<number, number> {
  const m = new Map<number, number>();
  rows.forEach((r, i) => { for (const it of r.items) m.set(it.id, i); });
  return m;
}

/** rangeIds is every item id of rows a..b (either order, inclusive). */
export function rangeIds(rows: readonly QueueRow[], a: number, b: number): number[] {
  const out: number[] = [];
  const lo = Math.max(0, Math.min(a, b));
  const hi = Math.min(rows.length - 1, Math.max(a, b));
  for (let i = lo; i <= hi; i++) for (const it of rows[i]!.items) out.push(it.id);
  return out;
}

/** strikesLabel is the badge text: "2 strikes in 30 days", or "" for none. */
export function strikesLabel(n: number | undefined, days = 30): string {
  if (!n || n < 0) return '';
  return `${n} strike${n === 1 ? '' : 's'} in ${days} days`;
}

// ---- the moderator's queue settings ----

/** QueuePrefs are the queue's settings the moderator chooses, kept in localStorage. */
export interface QueuePrefs {
  order: QueueOrder;
  /** confirm lists the actions that ask before they go out (ban by default). */
  confirm: Record<'ban' | 'timeout' | 'delete' | 'pin', boolean>;
  /** group joins consecutive items of one user into one row. */
  group: boolean;
}

export const QUEUE_PREFS_KEY = 'modconsole.queue.v1';

export function defaultPrefs(): QueuePrefs {
  return { order: 'oldest', confirm: { ban: true, timeout: false, delete: false, pin: false }, group: true };
}

/** loadPrefs reads the settings, falling back to the defaults field by field on anything malformed. */
export function loadPrefs(get: (k: string) => string | null): QueuePrefs {
  const p = defaultPrefs();
  let raw: unknown;
  try {
    raw = JSON.parse(get(QUEUE_PREFS_KEY) ?? 'null');
  } catch {
    return p;
  }
  if (!raw || typeof raw !== 'object') return p;
  const r = raw as Record<string, unknown>;
  if (r.order === 'oldest' || r.order === 'newest') p.order = r.order;
  if (typeof r.group === 'boolean') p.group = r.group;
  if (r.confirm && typeof r.confirm === 'object') {
    const c = r.confirm as Record<string, unknown>;
    for (const k of Object.keys(p.confirm) as (keyof QueuePrefs['confirm'])[]) if (typeof c[k] === 'boolean') p.confirm[k] = c[k];
  }
  return p;
}

/**
 * OneAtATime runs a task a moment after it is asked for, never two at once: asks while a run is on its
 * way make one more run after it (however many they were), and asks while one is waiting join it.
 */
export class OneAtATime {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running = false;
  private again = false;
  private stopped = false;

  constructor(private readonly run: () => Promise<void>, private readonly delayMs: number) {}

  /** ask schedules a run (or one more after the one on its way). */
  ask(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.timer ??= setTimeout(() => void this.fire(), this.delayMs);
  }

  /** stop cancels what is scheduled; later asks do nothing. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async fire(): Promise<void> {
    this.timer = undefined;
    this.running = true;
    try {
      await this.run();
    } catch {
      /* the task reports its own failures */
    } finally {
      this.running = false;
      if (this.again) {
        this.again = false;
        this.ask();
      }
    }
  }
}
