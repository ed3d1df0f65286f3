import { describe, expect, it } from 'vitest';
import { BoundedWindow } from '../src/state/window';

const ids = (w: BoundedWindow<{ id: number }>) => w.toArray().map((x) => x.id);
const items = (...n: number[]) => n.map((id) => ({ id }));

describe('BoundedWindow', () => {
  it('keeps order, drops duplicates and evicts the oldest beyond cap', () => {
    const w = new BoundedWindow<{ id: number }>(3);
    expect(w.push(items(1, 2))).toEqual({ added: 2, evicted: 0 });
    expect(w.push(items(2, 4, 3))).toEqual({ added: 2, evicted: 1 });
    expect(ids(w)).toEqual([2, 3, 4]);
    expect(w.hasOlder).toBe(true);
    expect(w.indexOf(3)).toBe(1);
    expect(w.indexOf(1)).toBe(-1);
  });

  it('pages older history in at the front without exceeding cap', () => {
    const w = new BoundedWindow<{ id: number }>(5);
    w.push(items(10, 11, 12));
    expect(w.prependOlder(items(9, 8, 7, 6), true)).toBe(2);
    expect(ids(w)).toEqual([8, 9, 10, 11, 12]);
    expect(w.hasOlder).toBe(true);
    expect(w.prependOlder(items(5), true)).toBe(0);
    expect(w.length).toBe(5);
  });

  it('updates and clears', () => {
    const w = new BoundedWindow<{ id: number; v?: string }>(10);
    w.push([{ id: 1 }, { id: 2 }]);
    expect(w.update(2, (x) => ({ ...x, v: 'd' }))).toBe(true);
    expect(w.at(1)?.v).toBe('d');
    expect(w.update(9, (x) => x)).toBe(false);
    w.clear();
    expect(w.length).toBe(0);
    expect(w.has(1)).toBe(false);
  });

  it('stays bounded under a long stream', () => {
    const w = new BoundedWindow<{ id: number }>(1000);
    for (let i = 1; i <= 50_000; i += 10) w.push(Array.from({ length: 10 }, (_, k) => ({ id: i + k })));
    expect(w.length).toBe(1000);
    expect(w.oldestId()).toBe(49_001);
    expect(w.newestId()).toBe(50_000);
  });
});
