// Virtual list range math (c/VirtualList.svelte renders with it): which
// fixed-height rows are visible, and whether the view is at the bottom.

export interface Range {
  start: number; // first index rendered (inclusive)
  end: number; // last index rendered (exclusive)
  total: number; // full content height in px
}

/** visibleRange computes which rows of fixed height intersect the viewport, with overscan rows on each side. */
export function visibleRange(scrollTop: number, viewport: number, rowHeight: number, count: number, overscan = 4): Range {
  const total = count * rowHeight;
  if (count === 0 || rowHeight <= 0) return { start: 0, end: 0, total };
  const top = Math.max(0, Math.min(scrollTop, Math.max(0, total - viewport)));
  const first = Math.floor(top / rowHeight);
  const last = Math.ceil((top + Math.max(0, viewport)) / rowHeight);
  return {
    start: Math.max(0, first - overscan),
    end: Math.min(count, last + overscan),
    total,
  };
}

/** isAtBottom reports whether the viewport shows the end of the content (within slack px). */
export function isAtBottom(scrollTop: number, viewport: number, total: number, slack = 4): boolean {
  return scrollTop + viewport >= total - slack;
}
