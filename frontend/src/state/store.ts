// The console's in-memory state and the pure application of batches to it.
import type {
  AccountView, ActionView, Batch, ChannelView, MessageUpdate, MessageView, ModEventView, Notice, QueueItemView,
} from '../api/types';
import { BoundedWindow } from './window';

/** ChatRow is a message as shown: the view plus what later updates said about it. */
export interface ChatRow {
  id: number;
  m: MessageView;
  deleted: boolean;
  note?: string;
  purged?: boolean;
  rev: number;
}

export const WINDOW_CAP = 1000;
const ACTIONS_CAP = 500;
const EVENTS_CAP = 500;
const NOTICES_CAP = 100;
/** QUEUE_PER_CHANNEL is how many of a channel's newest open items the console keeps beyond what a view lists. */
export const QUEUE_PER_CHANNEL = 200;
/** QUEUE_LIVE_CAP is how many open items the console keeps in all beyond what a view lists (the rest are
 * read from the server when a view pages to them: QueuePage). */
export const QUEUE_LIVE_CAP = 2000;

/** QueueKeeper is a queue view's hold on items: the console never drops an open item a keeper keeps
 * (the view lists it, or will list it when the batch is flushed). */
export interface QueueKeeper {
  keeps(it: QueueItemView): boolean;
}

export interface State {
  accounts: Map<number, AccountView>;
  channels: Map<number, ChannelView>;
  chat: Map<number, BoundedWindow<ChatRow>>;
  /** queue holds open items only, and not all of them: every item a keeper (a shown queue view's loaded
   * pages) has, plus the newest QUEUE_PER_CHANNEL of each channel and QUEUE_LIVE_CAP in all (boundQueue).
   * Counts come from the server (QueueCounts), never from this map's size. */
  queue: Map<number, QueueItemView>;
  /** queueKeepers are the shown queue views; their items stay in queue. */
  queueKeepers: Set<QueueKeeper>;
  /** queueEvicted counts the items boundQueue dropped (0: queue still holds every open item it was sent). */
  queueEvicted: number;
  actions: Map<number, ActionView>; // recent, bounded
  events: ModEventView[]; // newest last, bounded
  notices: Notice[]; // newest last, bounded
  dropped: number;
  historyLoaded: Set<number>; // channels whose first history page was fetched
}

/** Changes tells the views what a batch touched. */
export interface Changes {
  channels: boolean;
  accounts: boolean;
  chat: Set<number>; // channel ids whose chat changed
  appended: Map<number, number>; // channel id → new messages appended
  evicted: Map<number, number>; // channel id → rows evicted from the front
  queue: boolean;
  /** queueEvicted maps a channel id to the highest id of its open items boundQueue dropped (a view that
   * would have listed one pages to it instead). */
  queueEvicted: Map<number, number>;
  actions: ActionView[];
  events: boolean;
  notices: Notice[];
}

export function newState(): State {
  return {
    accounts: new Map(),
    channels: new Map(),
    chat: new Map(),
    queue: new Map(),
    queueKeepers: new Set(),
    queueEvicted: 0,
    actions: new Map(),
    events: [],
    notices: [],
    dropped: 0,
    historyLoaded: new Set(),
  };
}

export function emptyChanges(): Changes {
  return {
    channels: false,
    accounts: false,
    chat: new Set(),
    appended: new Map(),
    evicted: new Map(),
    queue: false,
    queueEvicted: new Map(),
    actions: [],
    events: false,
    notices: [],
  };
}

export function chatWindow(s: State, channelId: number): BoundedWindow<ChatRow> {
  let w = s.chat.get(channelId);
  if (!w) {
    w = new BoundedWindow<ChatRow>(WINDOW_CAP);
    s.chat.set(channelId, w);
  }
  return w;
}

export function toRow(m: MessageView): ChatRow {
  return { id: m.id, m, deleted: m.deleted, note: m.note || undefined, rev: 0 };
}

function trimOldest<K, V>(map: Map<K, V>, cap: number): void {
  while (map.size > cap) {
    const k = map.keys().next().value as K;
    map.delete(k);
  }
}

/** applyBatch folds one batch into s and reports what changed. */
export function applyBatch(s: State, b: Batch, ch: Changes = emptyChanges()): Changes {
  for (const c of b.channels ?? []) {
    s.channels.set(c.id, c);
    ch.channels = true;
  }
  for (const a of b.accounts ?? []) {
    s.accounts.set(a.id, a);
    ch.accounts = true;
  }

  if (b.messages?.length) {
    const byChan = new Map<number, ChatRow[]>();
    for (const m of b.messages) {
      let arr = byChan.get(m.channelId);
      if (!arr) byChan.set(m.channelId, (arr = []));
      arr.push(toRow(m));
    }
    for (const [cid, rows] of byChan) {
      const { added, evicted } = chatWindow(s, cid).push(rows);
      if (added || evicted) ch.chat.add(cid);
      ch.appended.set(cid, (ch.appended.get(cid) ?? 0) + added);
      if (evicted) ch.evicted.set(cid, (ch.evicted.get(cid) ?? 0) + evicted);
    }
  }

  for (const u of b.updates ?? []) {
    const w = s.chat.get(u.channelId);
    if (isEdit(u)) {
      applyEdit(s, u, ch);
      // An edit leaves deleted and held as they were; only a deletion sent with it changes them.
      if (!u.deleted && !u.cleared && !u.userId && !u.username) continue;
    }
    if (u.cleared) {
      if (w) w.clear();
      for (const [id, q] of s.queue) if (q.channelId === u.channelId && u.deleted) s.queue.delete(id);
      ch.chat.add(u.channelId);
      ch.queue = true;
      continue;
    }
    const mark = (r: ChatRow, purged: boolean): ChatRow => ({
      ...r,
      deleted: r.deleted || u.deleted,
      note: u.note ?? r.note,
      purged: r.purged || purged,
      rev: r.rev + 1,
    });
    if (u.ids?.length && w) {
      for (const id of u.ids) if (w.update(id, (r) => mark(r, false))) ch.chat.add(u.channelId);
    }
    const byUser = userMatcher(u);
    if (byUser && w) {
      if (w.updateWhere((r) => byUser(r.m.user), (r) => mark(r, true)) > 0) ch.chat.add(u.channelId);
    }
    // Queue items show the same message: keep their flags in step.
    for (const [qid, q] of s.queue) {
      if (q.channelId !== u.channelId) continue;
      const hit = (u.ids?.includes(q.message.id) ?? false) || (!!byUser && byUser(q.message.user));
      if (hit && u.deleted) {
        s.queue.set(qid, { ...q, message: { ...q.message, deleted: true } });
        ch.queue = true;
      }
    }
  }

  for (const q of b.queue ?? []) {
    if (q.status === 'open') s.queue.set(q.id, q);
    else s.queue.delete(q.id);
    ch.queue = true;
  }
  if (b.queue?.length) boundQueue(s, ch);

  for (const a of b.actions ?? []) {
    s.actions.delete(a.id); // re-insert so the map's order stays by last update
    s.actions.set(a.id, a);
    ch.actions.push(a);
  }
  trimOldest(s.actions, ACTIONS_CAP);

  if (b.events?.length) {
    s.events.push(...b.events);
    if (s.events.length > EVENTS_CAP) s.events.splice(0, s.events.length - EVENTS_CAP);
    ch.events = true;
  }
  if (b.notices?.length) {
    s.notices.push(...b.notices);
    if (s.notices.length > NOTICES_CAP) s.notices.splice(0, s.notices.length - NOTICES_CAP);
    ch.notices.push(...b.notices);
  }
  if (b.dropped) s.dropped += b.dropped;
  return ch;
}

/** isEdit says whether an update carries a message's new text. */
/** userMatcher selects the messages of the user an update names: by id, or by
 * username (ASCII case ignored, as the store compares) when the platform gave no id. */
export function userMatcher(u: MessageUpdate): ((user: { id: string; username: string }) => boolean) | null {
  if (u.userId) {
    const uid = u.userId;
    return (user) => user.id === uid;
  }
  if (u.username) {
    const name = asciiLower(u.username);
    return (user) => asciiLower(user.username) === name;
  }
  return null;
}

function asciiLower(s: string): string {
  return s.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

export function isEdit(u: MessageUpdate): u is MessageUpdate & { text: string } {
  return typeof u.text === 'string';
}

/** editedMessage is m with its new text; the old tokens described the old text, so they go. */
export function editedMessage(m: MessageView, text: string): MessageView {
  return { ...m, text, tokens: null, edits: (m.edits ?? 0) + 1 };
}

/**
 * applyEdit replaces the text of the update's messages in the chat window and
 * in queue items, counting the edit. Deleted, held and notes stay as they
 * were; messages not in memory are left alone (history brings them edited).
 */
function applyEdit(s: State, u: MessageUpdate & { text: string }, ch: Changes): void {
  const ids = u.ids ?? [];
  if (!ids.length) return;
  const w = s.chat.get(u.channelId);
  if (w) {
    for (const id of ids) {
      if (w.update(id, (r) => ({ ...r, m: editedMessage(r.m, u.text), rev: r.rev + 1 }))) ch.chat.add(u.channelId);
    }
  }
  for (const [qid, q] of s.queue) {
    if (q.channelId !== u.channelId || !ids.includes(q.message.id)) continue;
    s.queue.set(qid, { ...q, message: editedMessage(q.message, u.text) });
    ch.queue = true;
  }
}

/**
 * boundQueue drops the open items no keeper has beyond the newest
 * QUEUE_PER_CHANNEL of each channel and the newest QUEUE_LIVE_CAP in all
 * (item ids grow with arrival: the lowest go). A dropped item is still open
 * on the server: a view reads it again with QueuePage when it pages to it.
 * Returns how many it dropped; ch.queueEvicted records the highest dropped
 * id per channel.
 */
export function boundQueue(s: State, ch?: Changes): number {
  const free = new Map<number, number[]>(); // channel id → ids no keeper has
  let total = 0;
  for (const [id, q] of s.queue) {
    let kept = false;
    for (const k of s.queueKeepers) if (k.keeps(q)) { kept = true; break; }
    if (kept) continue;
    let a = free.get(q.channelId);
    if (!a) free.set(q.channelId, (a = []));
    a.push(id);
    total++;
  }
  let over = total > QUEUE_LIVE_CAP;
  for (const a of free.values()) if (a.length > QUEUE_PER_CHANNEL) over = true;
  if (!over) return 0;
  const drop: number[] = [];
  const rest: number[] = [];
  for (const a of free.values()) {
    a.sort((x, y) => y - x); // newest first
    if (a.length > QUEUE_PER_CHANNEL) {
      for (let i = QUEUE_PER_CHANNEL; i < a.length; i++) drop.push(a[i]!);
      a.length = QUEUE_PER_CHANNEL;
    }
    for (const id of a) rest.push(id);
  }
  if (rest.length > QUEUE_LIVE_CAP) {
    rest.sort((x, y) => y - x);
    for (let i = QUEUE_LIVE_CAP; i < rest.length; i++) drop.push(rest[i]!);
  }
  for (const id of drop) {
    const q = s.queue.get(id)!;
    s.queue.delete(id);
    if (ch && id > (ch.queueEvicted.get(q.channelId) ?? 0)) ch.queueEvicted.set(q.channelId, id);
  }
  s.queueEvicted += drop.length;
  if (ch && drop.length) ch.queue = true;
  return drop.length;
}

/** openQueue lists the open items the console holds for channelId (0 = all), oldest first (not every open item: boundQueue). */
export function openQueue(s: State, channelId: number): QueueItemView[] {
  const out: QueueItemView[] = [];
  for (const q of s.queue.values()) if (channelId === 0 || q.channelId === channelId) out.push(q);
  out.sort((a, b) => a.at - b.at || a.id - b.id);
  return out;
}
