import { describe, expect, it } from 'vitest';
import type { MessageView, QueueItemView } from '../src/api/types';
import { applyBatch, newState, openQueue } from '../src/state/store';

const msg = (id: number, channelId = 1, userId = 'u1'): MessageView => ({
  id, channelId, platform: 'velora', platformId: `p${id}`, user: { id: userId, username: userId }, text: `m${id}`, at: id, deleted: false, held: false,
});
const item = (id: number, m: MessageView, status = 'open'): QueueItemView => ({ id, channelId: m.channelId, platform: m.platform, message: m, ruleIds: [1], reasons: ['r'], status, at: id });

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

  it('purges a user named by username only (no id), ignoring case, and their queue items', () => {
    const s = newState();
    const bad = (id: number): MessageView => ({ ...msg(id, 1, 'u-bad'), user: { id: 'u-bad', username: 'BadGuy' } });
    applyBatch(s, { messages: [msg(1), bad(2), bad(3)], queue: [item(9, bad(3))] });
    applyBatch(s, { updates: [{ channelId: 1, username: 'badguy', deleted: true, note: 'banned' }] });
    const rows = s.chat.get(1)!.toArray();
    expect(rows.filter((r) => r.purged).map((r) => r.id)).toEqual([2, 3]);
    expect(rows[0]!.deleted).toBe(false);
    expect(s.queue.get(9)?.message.deleted).toBe(true);
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

describe('applyBatch: edits', () => {
  const edit = (channelId: number, id: number, text: string) => ({ channelId, ids: [id], deleted: false, text, edited: true });

  it('replaces the text of a message in the window, counts the edit and drops stale tokens', () => {
    const s = newState();
    applyBatch(s, { messages: [{ ...msg(1), tokens: [{ kind: 'text', text: 'm1' }] }, msg(2)] });
    const ch = applyBatch(s, { updates: [edit(1, 1, 'fixed typo')] });
    const r = s.chat.get(1)!.at(0)!;
    expect(r.m.text).toBe('fixed typo');
    expect(r.m.tokens).toBeNull();
    expect(r.m.edits).toBe(1);
    expect(r.rev).toBe(1);
    expect(r.deleted).toBe(false);
    expect(ch.chat.has(1)).toBe(true);
    expect(ch.appended.get(1) ?? 0).toBe(0);
    expect(s.chat.get(1)!.at(1)!.m.text).toBe('m2');
    applyBatch(s, { updates: [edit(1, 1, 'again')] });
    expect(s.chat.get(1)!.at(0)!.m).toMatchObject({ text: 'again', edits: 2 });
  });

  it('keeps a deleted message deleted (and its note) when it is edited', () => {
    const s = newState();
    applyBatch(s, { messages: [msg(1), msg(2, 1, 'bad')] });
    applyBatch(s, { updates: [{ channelId: 1, ids: [1], deleted: true, note: 'deleted by mod' }, { channelId: 1, userId: 'bad', deleted: true, note: 'banned' }] });
    applyBatch(s, { updates: [edit(1, 1, 'sneaky edit'), edit(1, 2, 'also sneaky')] });
    const [a, b] = s.chat.get(1)!.toArray();
    expect(a).toMatchObject({ deleted: true, note: 'deleted by mod' });
    expect(a!.m.text).toBe('sneaky edit');
    expect(b).toMatchObject({ deleted: true, purged: true, note: 'banned' });
  });

  it('keeps a history row deleted with its note from the view', () => {
    const s = newState();
    applyBatch(s, { messages: [{ ...msg(3), deleted: true, note: 'timed out', edits: 2 }] });
    applyBatch(s, { updates: [edit(1, 3, 'x')] });
    expect(s.chat.get(1)!.at(0)).toMatchObject({ deleted: true, note: 'timed out' });
    expect(s.chat.get(1)!.at(0)!.m.edits).toBe(3);
  });

  it('ignores an edit of a message outside the window', () => {
    const s = newState();
    applyBatch(s, { messages: [msg(5), msg(6)] });
    const before = s.chat.get(1)!.toArray().map((r) => ({ ...r }));
    const ch = applyBatch(s, { updates: [edit(1, 4, 'old one'), edit(2, 5, 'wrong channel'), edit(9, 1, 'no window')] });
    expect(s.chat.get(1)!.toArray()).toEqual(before);
    expect(ch.chat.size).toBe(0);
    expect(s.chat.has(9)).toBe(false);
    expect(s.chat.has(2)).toBe(false);
  });

  it('edits the queue copy and keeps it held and open', () => {
    const s = newState();
    const held = { ...msg(7), held: true };
    applyBatch(s, { messages: [held], queue: [item(1, held)] });
    const ch = applyBatch(s, { updates: [edit(1, 7, 'calmer now')] });
    expect(ch.queue).toBe(true);
    expect(s.queue.get(1)?.message).toMatchObject({ text: 'calmer now', held: true, deleted: false, edits: 1 });
    expect(s.chat.get(1)!.at(0)!.m).toMatchObject({ text: 'calmer now', held: true });
    // a deleted queue copy stays deleted
    applyBatch(s, { updates: [{ channelId: 1, ids: [7], deleted: true }] });
    applyBatch(s, { updates: [edit(1, 7, 'edited after delete')] });
    expect(s.queue.get(1)?.message).toMatchObject({ text: 'edited after delete', deleted: true });
  });

  it('does not treat a plain deletion as an edit', () => {
    const s = newState();
    applyBatch(s, { messages: [msg(1)] });
    applyBatch(s, { updates: [{ channelId: 1, ids: [1], deleted: true }] });
    expect(s.chat.get(1)!.at(0)!.m).toMatchObject({ text: 'm1' });
    expect(s.chat.get(1)!.at(0)!.m.edits).toBeUndefined();
  });
});
