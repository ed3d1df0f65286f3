// HiddenSet: users and messages the moderator hid on this machine only, for
// platforms that cannot ban, time out or delete (socket-base, VeroAI, guest
// connections). Entries are per channel (channel id + user id, or channel id
// + console message id), kept in localStorage, bounded (oldest dropped), and
// never sent anywhere. A collapsed row can be shown again for this session
// without unhiding it.
import type { MessageView } from '../api/types';

export type HiddenKind = 'user' | 'message';

export interface HiddenEntry {
  kind: HiddenKind;
  channelId: number;
  /** user id for 'user', the console's message id (as a string) for 'message'. */
  id: string;
  /** what to call it in the list: a user's name or a message snippet (chat data: text only). */
  label: string;
  /** unix ms when hidden. */
  at: number;
}

/** RowHiding says how a row is to be shown. */
export type RowHiding =
  | { hidden: false }
  | { hidden: true; by: HiddenKind; revealed: boolean };

export const HIDDEN_CAP = 5000;
export const HIDDEN_STORAGE_KEY = 'modconsole.hidden.v1';
const LABEL_MAX = 80;

function keyOf(kind: HiddenKind, channelId: number, id: string): string {
  return `${kind === 'user' ? 'u' : 'm'}:${channelId}:${id}`;
}

function clip(s: string): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > LABEL_MAX ? `${t.slice(0, LABEL_MAX - 1)}…` : t;
}

function valid(e: unknown): e is HiddenEntry {
  if (!e || typeof e !== 'object') return false;
  const x = e as Record<string, unknown>;
  return (x.kind === 'user' || x.kind === 'message')
    && typeof x.channelId === 'number' && Number.isFinite(x.channelId)
    && typeof x.id === 'string' && x.id !== '' && x.id.length <= 200
    && typeof x.label === 'string'
    && typeof x.at === 'number';
}

export class HiddenSet {
  /** insertion order = age: the first entry is the oldest. */
  private entries = new Map<string, HiddenEntry>();
  /** messages shown again for this session (channelId:messageId), not persisted. */
  private revealed = new Set<string>();
  private listeners = new Set<() => void>();
  /** version changes on every change; views use it in row keys. */
  version = 0;

  constructor(
    private readonly storage: Pick<Storage, 'getItem' | 'setItem'> | null,
    readonly cap = HIDDEN_CAP,
    private readonly storageKey = HIDDEN_STORAGE_KEY,
  ) {
    if (cap < 1) throw new Error('hidden: cap must be positive');
    this.load();
  }

  get size(): number {
    return this.entries.size;
  }

  /** load reads the stored entries; anything malformed is skipped. */
  load(): void {
    this.entries.clear();
    let raw: string | null = null;
    try {
      raw = this.storage?.getItem(this.storageKey) ?? null;
    } catch {
      raw = null; // storage disabled: start empty
    }
    if (raw) {
      let list: unknown;
      try {
        list = JSON.parse(raw);
      } catch {
        list = null;
      }
      if (Array.isArray(list)) {
        for (const e of list) {
          if (!valid(e)) continue;
          const entry: HiddenEntry = { kind: e.kind, channelId: e.channelId, id: e.id, label: clip(e.label), at: e.at };
          const k = keyOf(entry.kind, entry.channelId, entry.id);
          this.entries.delete(k);
          this.entries.set(k, entry);
        }
      }
    }
    this.trim();
    this.version++;
  }

  /** reload re-reads storage (another tab changed it) and tells the listeners. */
  reload(): void {
    this.load();
    for (const fn of this.listeners) fn();
  }

  private save(): void {
    if (!this.storage) return;
    try {
      this.storage.setItem(this.storageKey, JSON.stringify([...this.entries.values()]));
    } catch {
      /* quota or disabled storage: the set still works for this session */
    }
  }

  private trim(): void {
    while (this.entries.size > this.cap) {
      const k = this.entries.keys().next().value as string;
      this.entries.delete(k);
    }
  }

  private changed(): void {
    this.version++;
    this.save();
    for (const fn of this.listeners) fn();
  }

  /** onChange registers fn; the returned function removes it. */
  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private add(kind: HiddenKind, channelId: number, id: string, label: string, at: number): void {
    if (!id) return;
    const k = keyOf(kind, channelId, id);
    this.entries.delete(k); // hiding again makes it the newest
    this.entries.set(k, { kind, channelId, id, label: clip(label), at });
    this.trim();
    this.changed();
  }

  hideUser(channelId: number, userId: string, label: string, at = Date.now()): void {
    this.add('user', channelId, userId, label || userId, at);
  }

  hideMessage(channelId: number, messageId: number, label: string, at = Date.now()): void {
    this.add('message', channelId, String(messageId), label, at);
  }

  /** unhide removes an entry; it returns whether there was one. */
  unhide(kind: HiddenKind, channelId: number, id: string | number): boolean {
    const ok = this.entries.delete(keyOf(kind, channelId, String(id)));
    if (ok) this.changed();
    return ok;
  }

  isUserHidden(channelId: number, userId: string | undefined): boolean {
    return !!userId && this.entries.has(keyOf('user', channelId, userId));
  }

  isMessageHidden(channelId: number, messageId: number): boolean {
    return this.entries.has(keyOf('message', channelId, String(messageId)));
  }

  /** reveal shows one collapsed row again for this session (not stored). */
  reveal(channelId: number, messageId: number): void {
    this.revealed.add(`${channelId}:${messageId}`);
    this.version++;
    for (const fn of this.listeners) fn();
  }

  /** rowHiding tells how the row of message m is to be shown. */
  rowHiding(m: Pick<MessageView, 'id' | 'channelId' | 'user'>): RowHiding {
    const by: HiddenKind | null = this.isMessageHidden(m.channelId, m.id)
      ? 'message'
      : this.isUserHidden(m.channelId, m.user?.id) ? 'user' : null;
    if (!by) return { hidden: false };
    return { hidden: true, by, revealed: this.revealed.has(`${m.channelId}:${m.id}`) };
  }

  /** collapsed is true when m's row is hidden and not shown again this session. */
  collapsed(m: Pick<MessageView, 'id' | 'channelId' | 'user'>): boolean {
    const h = this.rowHiding(m);
    return h.hidden && !h.revealed;
  }

  /** list returns channelId's entries (0 = every channel), newest first. */
  list(channelId = 0): HiddenEntry[] {
    const out: HiddenEntry[] = [];
    for (const e of this.entries.values()) if (!channelId || e.channelId === channelId) out.push({ ...e });
    return out.reverse();
  }
}

/** localStore returns window.localStorage when it can be used, else null. */
export function localStore(): Storage | null {
  try {
    const s = window.localStorage;
    const probe = '__modconsole_probe__';
    s.setItem(probe, '1');
    s.removeItem(probe);
    return s;
  } catch {
    return null;
  }
}
