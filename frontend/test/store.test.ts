import { describe, expect, it } from 'vitest';
import type { MessageView, QueueItemView } from '../src/api/types';
import { applyBatch, newState, openQueue } from '../src/state/store';

const msg = (id: number, channelId = 1, userId = 'u1'): MessageView => ({
  id, channelId, platform: 'velora', platformId: `p${id}`, user: { id: userId, username: userId }, text: `m${id}`, at: id, deleted: false, held: false,
});
const item = (id: number, m: MessageView, status = 'open'): QueueItemView => ({ id, channelId: m.channelId, message: m, reasons: ['r'], status, at: id });

describe('applyBatch', () => {
  it('appends messages per channel and reports what changed', () => {
    const s = newState();
    const ch = applyBatch(s, { messages: [msg(1), msg(2), msg(3, 2)] });
    expect(s.chat.get(1)?.length).toBe(2);
    expect(s.chat.get(2)?.length).toBe(1);
    expect(ch.appended.get(1)).toBe(2);
    expect([...ch.chat].sort()).toEqual([1, 2]);
  });

  it('marks deleted ids, purges a user and clears a channel', () => {
    const s = newState();
    applyBatch(s, { messages: [msg(1), msg(2, 1, 'bad'), msg(3, 1, 'bad'), msg(4, 2)] });
    applyBatch(s, { updates: [{ channelId: 1, ids: [1], deleted: true, note: 'deleted' }] });
    expect(s.chat.get(1)?.at(0)).toMatchObject({ deleted: true, note: 'deleted' });
    applyBatch(s, { updates: [{ channelId: 1, userId: 'bad', deleted: true, note: 'banned' }] });
    const rows = s.chat.get(1)!.toArray();
    expect(rows.filter((r) => r.purged).map((r) => r.id)).toEqual([2, 3]);
    expect(rows[1]!.rev).toBeGreaterThan(0);
    applyBatch(s, { updates: [{ channelId: 2, cleared: true, deleted: true }] });
    expect(s.chat.get(2)?.length).toBe(0);
  });

  it('keeps only open queue items and applies channel/action updates', () => {
    const s = newState();
    applyBatch(s, { queue: [item(1, msg(1)), item(2, msg(2, 2))] });
    expect(openQueue(s, 0).map((q) => q.id)).toEqual([1, 2]);
    expect(openQueue(s, 2).map((q) => q.id)).toEqual([2]);
    applyBatch(s, { queue: [item(1, msg(1), 'approved')] });
    expect(openQueue(s, 0).map((q) => q.id)).toEqual([2]);
    const ch = applyBatch(s, { actions: [{ id: 7, key: 'k', channelId: 1, platform: 'velora', kind: 'ban', status: 'failed', outcome: 'Slow mode is enabled', created: 1, updated: 2 }] });
    expect(ch.actions[0]?.outcome).toBe('Slow mode is enabled');
    expect(s.actions.get(7)?.status).toBe('failed');
  });

  it('updates the queue copy of a deleted message', () => {
    const s = newState();
    applyBatch(s, { messages: [msg(5)], queue: [item(1, msg(5))] });
    applyBatch(s, { updates: [{ channelId: 1, ids: [5], deleted: true }] });
    expect(s.queue.get(1)?.message.deleted).toBe(true);
  });
});
