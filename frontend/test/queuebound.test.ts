// @vitest-environment happy-dom
// The console's queue is bounded (state/store boundQueue): it keeps what the
// shown queue view lists (and will list at the next flush) plus a window of the
// newest items per channel and in all; the rest is read again with QueuePage.
import { describe, expect, it, vi } from 'vitest';
import type { MessageView, QueueItemView } from '../src/api/types';
import { applyBatch, boundQueue, emptyChanges, newState, QUEUE_LIVE_CAP, QUEUE_PER_CHANNEL, type State } from '../src/state/store';
import { LIST_LIVE_CAP, QueueList, type QueueFilter } from '../src/ui/queues';
import { fakeConsole } from './harness';

const CHANNELS = 100;

function item(id: number, channelId: number, status = 'open'): QueueItemView {
  const m = { id: 100_000 + id, channelId, platform: 'velora', platformId: `p${id}`, user: { id: `u${id % 37}`, username: `u${id % 37}` }, text: `m${id}`, at: id, deleted: false, held: false } as MessageView;
  return { id, channelId, platform: 'velora', message: m, ruleIds: [1], reasons: ['r'], status, at: id };
}

const view = (channelId: number, order: 'oldest' | 'newest' = 'oldest'): QueueFilter => ({ channelId, platform: '', ruleId: 0, order });

/** page answers a QueuePage query from the "server's" open items (ids ascending), as the service does. */
function page(open: Map<number, QueueItemView>, l: QueueList, limit: number) {
  const f = l.filter;
  const q = l.query(limit);
  let ids = [...open.keys()].filter((id) => !f.channelId || open.get(id)!.channelId === f.channelId).sort((a, b) => a - b);
  const total = ids.length;
  if (f.order === 'newest') ids = ids.reverse().filter((id) => !q.after || id < q.after);
  else ids = ids.filter((id) => id > q.after);
  const got = ids.slice(0, limit);
  return { items: got.map((id) => open.get(id)!), next: ids.length > limit ? got[got.length - 1]! : 0, total };
}

/** perChannelFree counts, per channel, the items of s.queue that no keeper keeps. */
function free(s: State): { total: number; max: number } {
  const by = new Map<number, number>();
  for (const q of s.queue.values()) {
    if ([...s.queueKeepers].some((k) => k.keeps(q))) continue;
    by.set(q.channelId, (by.get(q.channelId) ?? 0) + 1);
  }
  return { total: [...by.values()].reduce((a, b) => a + b, 0), max: Math.max(0, ...by.values()) };
}

describe('the bounded queue (boundQueue)', () => {
  it('never holds more than the caps beyond what a view lists, over 50,000 open items in 100 channels', () => {
    const s = newState();
    const server = new Map<number, QueueItemView>();
    // The selected view: channel 7, oldest first, its first three pages loaded.
    const l = new QueueList(view(7));
    s.queueKeepers.add(l);
    let id = 0;
    let maxSize = 0;
    for (let b = 0; b < 250; b++) {
      const batch: QueueItemView[] = [];
      for (let i = 0; i < 200; i++) {
        const it = item(++id, 1 + (id % CHANNELS));
        server.set(it.id, it);
        batch.push(it);
      }
      const ch = applyBatch(s, { queue: batch });
      maxSize = Math.max(maxSize, s.queue.size);
      if (b === 200) {
        for (let p = 0; p < 3; p++) {
          const pg = page(server, l, 100);
          for (const x of pg.items) s.queue.set(x.id, x);
          l.addPage(pg);
        }
      }
      const f = free(s);
      expect(f.total).toBeLessThanOrEqual(QUEUE_LIVE_CAP);
      expect(f.max).toBeLessThanOrEqual(QUEUE_PER_CHANNEL);
      if (b > 20 && b !== 200) expect(ch.queueEvicted.size).toBeGreaterThan(0);
    }
    expect(server.size).toBe(50_000);
    expect(l.size).toBe(300);
    // Never more than the loaded pages plus the live cap (and one batch, before it is bounded).
    expect(maxSize).toBeLessThanOrEqual(l.size + QUEUE_LIVE_CAP + 200);
    expect(s.queue.size).toBeLessThanOrEqual(l.size + QUEUE_LIVE_CAP);
    // The loaded pages are all still there, and they are channel 7's oldest 300.
    for (const x of l.ids) expect(s.queue.get(x)?.channelId).toBe(7);
    expect(l.ids).toEqual([...server.values()].filter((x) => x.channelId === 7).slice(0, 300).map((x) => x.id));
    // What it kept beyond them are the newest.
    const newest = Math.max(...server.keys());
    expect(s.queue.has(newest)).toBe(true);
    expect(s.queue.has(1)).toBe(false);
    expect(s.queueEvicted).toBeGreaterThan(40_000);
  });

  it('lets go of resolved items, kept or not', () => {
    const s = newState();
    const l = new QueueList(view(0));
    s.queueKeepers.add(l);
    const open = Array.from({ length: 5000 }, (_, i) => item(i + 1, 1 + (i % 10)));
    l.addPage({ items: open.slice(0, 100), next: 100, total: 5000 });
    applyBatch(s, { queue: open });
    expect(s.queue.has(50)).toBe(true); // listed
    applyBatch(s, { queue: [item(50, 1 + (49 % 10), 'approved'), item(4999, 1 + (4998 % 10), 'dismissed')] });
    expect(s.queue.has(50)).toBe(false);
    expect(s.queue.has(4999)).toBe(false);
    expect(s.queue.has(5000)).toBe(true);
  });

  it('keeps the items a finished list will take at the next flush, up to the list\'s own cap', () => {
    const s = newState();
    const l = new QueueList(view(3));
    s.queueKeepers.add(l);
    s.queue.set(1, item(1, 3));
    l.addPage({ items: [item(1, 3)], next: 0, total: 1 });
    expect(l.done).toBe(true);
    // 900 items of channel 3 in one batch (more than QUEUE_PER_CHANNEL): the list takes them all.
    const burst = Array.from({ length: 900 }, (_, i) => item(10 + i, 3));
    const ch = applyBatch(s, { queue: burst });
    expect(ch.queueEvicted.size).toBe(0);
    for (const it of burst) expect(s.queue.has(it.id)).toBe(true);
    for (const it of s.queue.values()) l.offer(it);
    expect(l.size).toBe(901);
    // Past LIST_LIVE_CAP the list stops taking items after its end: it pages to them instead.
    const more = Array.from({ length: 400 }, (_, i) => item(2000 + i, 3));
    const ch2 = applyBatch(s, { queue: more });
    for (const it of more) l.offer(it);
    expect(ch2.queueEvicted.size).toBe(0); // all were kept until the flush offered them
    expect(l.live).toBe(LIST_LIVE_CAP);
    expect(l.size).toBe(LIST_LIVE_CAP + 1); // the paged item and LIST_LIVE_CAP live ones
    expect(l.done).toBe(false);
    expect(l.query(100).after).toBe(l.ids[l.ids.length - 1]);
    // The 301 it did not take are the channel's window now: the next batch bounds them.
    const ch3 = applyBatch(s, { queue: [item(3000, 4)] });
    expect(s.queue.size).toBe(l.size + QUEUE_PER_CHANNEL + 1);
    expect(ch3.queueEvicted.get(3)).toBeGreaterThan(l.ids[l.ids.length - 1]!);
    for (const id of l.ids) expect(s.queue.has(id)).toBe(true);
  });

  it('a list paged to its end takes LIST_LIVE_CAP live items more, however long it is', () => {
    const l = new QueueList(view(0));
    const paged = Array.from({ length: 2600 }, (_, i) => item(i + 1, 1 + (i % 9)));
    l.addPage({ items: paged, next: 0, total: 2600 });
    expect(l.offer(item(3000, 1))).toBe(true);
    expect(l.done).toBe(true);
    for (let i = 1; i < LIST_LIVE_CAP; i++) l.offer(item(3000 + i, 2));
    expect(l.size).toBe(2600 + LIST_LIVE_CAP);
    expect(l.offer(item(9000, 2))).toBe(false);
    expect(l.done).toBe(false);
    // Its next page brings the rest; the items before its end still join it live.
    expect(l.query(100).after).toBe(3000 + LIST_LIVE_CAP - 1);
    l.addPage({ items: [item(9000, 2)], next: 0, total: 3601 });
    expect(l.done).toBe(true);
    expect(l.ids[l.ids.length - 1]).toBe(9000);
  });

  it('a finished list that missed an evicted item after its end pages to it', () => {
    const l = new QueueList(view(0));
    l.addPage({ items: [item(1, 1), item(2, 1)], next: 0, total: 2 });
    l.missed(2); // not after the end: nothing to page
    expect(l.done).toBe(true);
    l.missed(9);
    expect(l.done).toBe(false);
    expect(l.query(100).after).toBe(2);
  });

  it('a "newest first" list lets go of its tail beyond what was scrolled to', () => {
    const l = new QueueList(view(0, 'newest'));
    l.addPage({ items: [item(5, 1), item(4, 1)], next: 0, total: 2 });
    for (let i = 0; i < 3000; i++) l.offer(item(10 + i, 1 + (i % 5)));
    expect(l.size).toBe(3002);
    expect(l.trimTail(0)).toBe(3002 - LIST_LIVE_CAP);
    expect(l.size).toBe(LIST_LIVE_CAP);
    expect(l.ids[0]).toBe(3009);
    expect(l.done).toBe(false);
    expect(l.query(10).after).toBe(l.ids[LIST_LIVE_CAP - 1]);
    // The moderator scrolled to rank 1,500: that much stays.
    for (let i = 0; i < 1000; i++) l.offer(item(5000 + i, 1));
    expect(l.trimTail(1500)).toBe(500);
    expect(l.size).toBe(1500);
  });

  it('boundQueue without a keeper keeps the newest per channel and in all', () => {
    const s = newState();
    for (let i = 1; i <= 3000; i++) s.queue.set(i, item(i, 2 + (i % 20)));
    for (let i = 3001; i <= 4000; i++) s.queue.set(i, item(i, 1));
    const ch = emptyChanges();
    boundQueue(s, ch);
    const c1 = [...s.queue.values()].filter((q) => q.channelId === 1).map((q) => q.id);
    expect(c1.length).toBe(QUEUE_PER_CHANNEL);
    expect(Math.min(...c1)).toBe(4000 - QUEUE_PER_CHANNEL + 1);
    expect(s.queue.size).toBe(QUEUE_LIVE_CAP);
    expect(Math.min(...s.queue.keys())).toBe(3000 - (QUEUE_LIVE_CAP - QUEUE_PER_CHANNEL) + 1);
    expect(ch.queueEvicted.get(1)).toBe(4000 - QUEUE_PER_CHANNEL);
    expect(ch.queue).toBe(true);
  });
});

describe('QueueCounts while the queue changes faster than it answers', () => {
  it('shows every answer in order, one call at a time (a slow store is never overtaken for good)', async () => {
    vi.useFakeTimers();
    try {
      let total = 0;
      let busy = 0;
      let maxBusy = 0;
      const { ctx, calls } = fakeConsole({
        QueueCounts: async () => {
          busy++;
          maxBusy = Math.max(maxBusy, busy);
          const n = ++total;
          await new Promise((r) => setTimeout(r, 400)); // slower than the 250 ms between asks
          busy--;
          return { total: n, channels: {}, platforms: {} };
        },
      });
      const seen: number[] = [];
      for (let t = 0; t < 4000; t += 100) {
        ctx.refreshQueueCounts(); // a queue change every 100 ms
        await vi.advanceTimersByTimeAsync(100);
        const c = ctx.queueCounts?.total;
        if (c && c !== seen[seen.length - 1]) seen.push(c);
      }
      await vi.advanceTimersByTimeAsync(2000);
      expect(maxBusy).toBe(1);
      expect(seen.length).toBeGreaterThanOrEqual(5);
      expect([...seen].sort((a, b) => a - b)).toEqual(seen);
      // The last change was asked about after it happened: the final answer is the last call's.
      expect(ctx.queueCounts?.total).toBe(calls.filter(([m]) => m === 'QueueCounts').length);
    } finally {
      vi.useRealTimers();
    }
  });
});
