import { describe, expect, it } from 'vitest';
import type { QueueItemView } from '../src/api/types';
import { groupRows, loadPrefs, matchesFilter, QueueList, rangeIds, rowIndex, strikesLabel, type QueueFilter } from '../src/ui/queues';

function item(id: number, user = `u${id}`, channelId = 1, extra: Partial<QueueItemView> = {}): QueueItemView {
  return {
    id, channelId, platform: 'velora', status: 'open', at: id, reasons: ['r'], ruleIds: [7],
    message: { id: 1000 + id, channelId, platform: 'velora', user: { id: user, username: user, displayName: user }, text: `m${id}`, at: id } as unknown as QueueItemView['message'],
    ...extra,
  };
}
const all = (order: 'oldest' | 'newest' = 'oldest'): QueueFilter => ({ channelId: 0, platform: '', ruleId: 0, order });

describe('QueueList', () => {
  it('pages oldest first and takes live items only once the last page is in', () => {
    const l = new QueueList(all());
    expect(l.query(2)).toMatchObject({ after: 0, limit: 2, order: 'oldest' });
    expect(l.offer(item(9))).toBe(false); // before the first page: the page brings it
    l.addPage({ items: [item(1), item(2)], next: 2, total: 5 });
    expect(l.query(2).after).toBe(2);
    expect(l.offer(item(9))).toBe(false); // beyond the pages so far
    l.addPage({ items: [item(3), item(4)], next: 4, total: 5 });
    l.addPage({ items: [item(9)], next: 0, total: 5 });
    expect(l.done).toBe(true);
    expect(l.offer(item(10))).toBe(true);
    expect(l.offer(item(10))).toBe(false);
    expect(l.ids).toEqual([1, 2, 3, 4, 9, 10]);
    expect(l.total).toBe(5);
  });

  it('pages newest first and puts live items on top', () => {
    const l = new QueueList(all('newest'));
    l.addPage({ items: [item(9), item(8)], next: 8, total: 4 });
    expect(l.offer(item(12))).toBe(true);
    expect(l.offer(item(3))).toBe(false); // a later page brings it
    l.addPage({ items: [item(5), item(3)], next: 0, total: 4 });
    expect(l.ids).toEqual([12, 9, 8, 5, 3]);
  });

  it('removes and prunes resolved items, dropping duplicates from pages', () => {
    const l = new QueueList(all());
    l.addPage({ items: [item(1), item(2), item(3)], next: 0, total: 3 });
    l.addPage({ items: [item(2)], next: 0, total: 3 });
    expect(l.ids).toEqual([1, 2, 3]);
    expect(l.remove(2)).toBe(true);
    expect(l.remove(2)).toBe(false);
    expect(l.prune((id) => id !== 3)).toBe(1);
    expect(l.ids).toEqual([1]);
    expect(l.has(3)).toBe(false);
    expect(l.offer(item(3))).toBe(true); // listed again if it reopens
  });

  it('filters by channel, platform and rule', () => {
    const f: QueueFilter = { channelId: 1, platform: 'velora', ruleId: 7, order: 'oldest' };
    expect(matchesFilter(f, item(1))).toBe(true);
    expect(matchesFilter(f, item(1, 'u', 2))).toBe(false);
    expect(matchesFilter(f, item(1, 'u', 1, { platform: 'kichat' }))).toBe(false);
    expect(matchesFilter(f, item(1, 'u', 1, { ruleIds: [3] }))).toBe(false);
    expect(matchesFilter(f, item(1, 'u', 1, { ruleIds: null }))).toBe(false);
    const l = new QueueList(f);
    l.addPage({ items: [item(1), item(2, 'x', 2)], next: 0, total: 1 });
    expect(l.ids).toEqual([1]);
  });
});

describe('groupRows', () => {
  const items = [item(1, 'a'), item(2, 'a'), item(3, 'a'), item(4, 'b'), item(5, 'a'), item(6, 'a', 2)];
  it('groups consecutive items of one user in one channel', () => {
    const rows = groupRows(items, new Set());
    expect(rows.map((r) => [r.item.id, r.items.length, r.group?.count ?? 0])).toEqual([[1, 3, 3], [4, 1, 0], [5, 1, 0], [6, 1, 0]]);
    const idx = rowIndex(rows);
    expect(idx.get(3)).toBe(0);
    expect(idx.get(6)).toBe(3);
    expect(rangeIds(rows, 1, 0)).toEqual([1, 2, 3, 4]);
  });
  it('expands a group into its items', () => {
    const key = groupRows(items, new Set())[0]!.group!.key;
    const rows = groupRows(items, new Set([key]));
    expect(rows.map((r) => [r.item.id, r.member, r.group?.expanded ?? null])).toEqual([[1, false, true], [2, true, null], [3, true, null], [4, false, null], [5, false, null], [6, false, null]]);
  });
});

describe('prefs and labels', () => {
  it('reads the settings field by field', () => {
    expect(loadPrefs(() => null).confirm.ban).toBe(true);
    expect(loadPrefs(() => '{bad').order).toBe('oldest');
    const p = loadPrefs(() => JSON.stringify({ order: 'newest', confirm: { ban: false, timeout: 'yes' }, group: false }));
    expect(p).toEqual({ order: 'newest', confirm: { ban: false, timeout: false, delete: false, pin: false }, group: false });
    expect(loadPrefs(() => JSON.stringify({ order: 'sideways' })).order).toBe('oldest');
  });
  it('labels strikes', () => {
    expect(strikesLabel(0)).toBe('');
    expect(strikesLabel(undefined)).toBe('');
    expect(strikesLabel(1)).toBe('1 strike in 30 days');
    expect(strikesLabel(2)).toBe('2 strikes in 30 days');
  });
});
