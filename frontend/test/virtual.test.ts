import { describe, expect, it } from 'vitest';
import { isAtBottom, visibleRange } from '../src/ui/virtual';

describe('visibleRange', () => {
  it('covers the viewport plus overscan', () => {
    expect(visibleRange(0, 100, 20, 1000, 2)).toEqual({ start: 0, end: 7, total: 20_000 });
    expect(visibleRange(200, 100, 20, 1000, 2)).toEqual({ start: 8, end: 17, total: 20_000 });
  });
  it('clamps at the end and handles empty lists', () => {
    expect(visibleRange(1e9, 100, 20, 10, 1)).toEqual({ start: 4, end: 10, total: 200 });
    expect(visibleRange(0, 100, 20, 0)).toEqual({ start: 0, end: 0, total: 0 });
  });
  it('renders a bounded number of rows whatever the list length', () => {
    for (const count of [10, 1000, 100_000, 1_000_000]) {
      const r = visibleRange(count * 12, 600, 24, count, 4);
      expect(r.end - r.start).toBeLessThanOrEqual(600 / 24 + 9);
    }
  });
  it('detects the bottom', () => {
    expect(isAtBottom(900, 100, 1000)).toBe(true);
    expect(isAtBottom(850, 100, 1000)).toBe(false);
  });
});
