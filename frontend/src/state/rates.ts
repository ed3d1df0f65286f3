// Per-minute activity of the channels (messages, held messages, our
// actions) for the charts: loaded from the log by ChannelRates, then added to
// from each batch's `rates` (docs/api.md). Plain data, like the store.
import type { RatePointView, RatesView } from '../api/types';

/** MINUTE is a minute in milliseconds. */
export const MINUTE = 60_000;
/** KEEP_MINUTES bounds what is kept per channel (the longest chart window, a day). */
export const KEEP_MINUTES = 24 * 60;

/** RateCounts is one channel's activity in one minute. */
export interface RateCounts {
  messages: number;
  held: number;
  actions: number;
}

/** RateSeries is a window of minutes with a value per minute of each count (0 where nothing happened). */
export interface RateSeries {
  /** minutes are the minutes' starts in unix ms, oldest first. */
  minutes: number[];
  messages: number[];
  held: number[];
  actions: number[];
}

/** minuteOf returns the start (unix ms) of the minute of t. */
export function minuteOf(t: number): number {
  return t - (((t % MINUTE) + MINUTE) % MINUTE);
}

function valid(p: RatePointView): boolean {
  return Number.isFinite(p.channelId) && p.channelId > 0 && Number.isFinite(p.minute) && p.minute > 0;
}

const count = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0);

/** RateStore holds the per-minute counts of every channel. */
export class RateStore {
  private readonly byChan = new Map<number, Map<number, RateCounts>>();

  private minutesOf(ch: number): Map<number, RateCounts> {
    let m = this.byChan.get(ch);
    if (!m) this.byChan.set(ch, (m = new Map()));
    return m;
  }

  /** load replaces what is known from v.since on with the log's counts: of
   * channelId, or of every channel when channelId is 0. */
  load(v: RatesView, channelId = 0): void {
    const since = Number(v.since) || 0;
    const chans = channelId ? [channelId] : [...this.byChan.keys()];
    for (const ch of chans) {
      const m = this.byChan.get(ch);
      if (!m) continue;
      for (const k of [...m.keys()]) if (k >= since) m.delete(k);
    }
    for (const p of v.points ?? []) {
      if (!valid(p) || (channelId && p.channelId !== channelId)) continue;
      this.minutesOf(p.channelId).set(minuteOf(p.minute), { messages: count(p.messages), held: count(p.held), actions: count(p.actions) });
    }
  }

  /** add adds a batch's rate points; it reports whether anything changed. */
  add(points: RatePointView[] | null | undefined): boolean {
    let changed = false;
    for (const p of points ?? []) {
      if (!valid(p)) continue;
      const m = this.minutesOf(p.channelId);
      const k = minuteOf(p.minute);
      const c = m.get(k) ?? { messages: 0, held: 0, actions: 0 };
      c.messages += count(p.messages);
      c.held += count(p.held);
      c.actions += count(p.actions);
      m.set(k, c);
      changed = true;
    }
    return changed;
  }

  /** prune drops minutes before `before` (unix ms) and channels left empty. */
  prune(before: number): void {
    for (const [ch, m] of this.byChan) {
      for (const k of [...m.keys()]) if (k < before) m.delete(k);
      if (!m.size) this.byChan.delete(ch);
    }
  }

  /** forget drops a channel (it was left). */
  forget(channelId: number): void {
    this.byChan.delete(channelId);
  }

  /** series returns the `minutes` minutes ending with the minute of `now`, of
   * channelId, or summed over every channel when channelId is 0. */
  series(channelId: number, now: number, minutes: number): RateSeries {
    const n = Math.max(1, Math.floor(minutes));
    const last = minuteOf(now);
    const first = last - (n - 1) * MINUTE;
    const out: RateSeries = { minutes: [], messages: new Array(n).fill(0), held: new Array(n).fill(0), actions: new Array(n).fill(0) };
    for (let i = 0; i < n; i++) out.minutes.push(first + i * MINUTE);
    const maps = channelId ? [this.byChan.get(channelId)] : [...this.byChan.values()];
    for (const m of maps) {
      if (!m) continue;
      for (const [k, c] of m) {
        if (k < first || k > last) continue;
        const i = (k - first) / MINUTE;
        out.messages[i] = (out.messages[i] ?? 0) + c.messages;
        out.held[i] = (out.held[i] ?? 0) + c.held;
        out.actions[i] = (out.actions[i] ?? 0) + c.actions;
      }
    }
    return out;
  }
}
