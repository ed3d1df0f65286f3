// Virtual list: pure range math plus a small DOM component that keeps only
// the visible rows (and a few spare) in the document.

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

export interface VirtualListOptions {
  rowHeight: number;
  className: string;
  /** stickToBottom keeps the newest row in view unless the user scrolled up. */
  stickToBottom: boolean;
  count: () => number;
  /** key identifies row i's content; a row is re-rendered when its key changes. */
  key: (i: number) => string;
  render: (i: number) => HTMLElement;
  onNearTop?: () => void;
  onNewBelow?: (n: number) => void;
}

export class VirtualList {
  readonly el: HTMLDivElement;
  private readonly spacer: HTMLDivElement;
  private rows = new Map<string, HTMLElement>();
  private pending = false;
  private stuck = true;
  private unseen = 0;
  private lastCount = 0;
  private renderedHeight = 0;

  constructor(private readonly o: VirtualListOptions) {
    this.el = document.createElement('div');
    this.el.className = `vlist ${o.className}`;
    this.el.tabIndex = -1;
    this.spacer = document.createElement('div');
    this.spacer.className = 'vlist-spacer';
    this.el.appendChild(this.spacer);
    this.el.addEventListener('scroll', () => {
      // Compare against the height last rendered, not the current count:
      // rows may have arrived since, and they must not unstick the list.
      this.stuck = isAtBottom(this.el.scrollTop, this.el.clientHeight, this.renderedHeight, this.o.rowHeight / 2);
      if (this.stuck && this.unseen) {
        this.unseen = 0;
        this.o.onNewBelow?.(0);
      }
      if (this.el.scrollTop < this.o.rowHeight * 3) this.o.onNearTop?.();
      this.schedule();
    });
  }

  get atBottom(): boolean {
    return this.stuck;
  }

  /** appended tells the list n rows were added at the end. */
  appended(n: number): void {
    if (n > 0 && this.o.stickToBottom && !this.stuck) {
      this.unseen += n;
      this.o.onNewBelow?.(this.unseen);
    }
    this.schedule();
  }

  /** shifted tells the list n rows were inserted (n>0) or removed (n<0) above the view, keeping the view still. */
  shifted(n: number): void {
    if (n === 0) return;
    if (!(this.o.stickToBottom && this.stuck)) this.el.scrollTop = Math.max(0, this.el.scrollTop + n * this.o.rowHeight);
    this.schedule();
  }

  scrollToBottom(): void {
    this.stuck = true;
    this.unseen = 0;
    this.o.onNewBelow?.(0);
    this.render();
  }

  /** reveal scrolls row i into view. */
  reveal(i: number): void {
    const h = this.o.rowHeight;
    const top = i * h;
    if (top < this.el.scrollTop) this.el.scrollTop = top;
    else if (top + h > this.el.scrollTop + this.el.clientHeight) this.el.scrollTop = top + h - this.el.clientHeight;
    this.schedule();
  }

  /** refresh re-renders every visible row on the next frame. */
  refresh(): void {
    for (const el of this.rows.values()) el.remove();
    this.rows.clear();
    this.schedule();
  }

  schedule(): void {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.render();
    });
  }

  render(): void {
    const count = this.o.count();
    const h = this.o.rowHeight;
    const total = count * h;
    this.spacer.style.height = `${total}px`;
    this.renderedHeight = total;
    if (this.o.stickToBottom && this.stuck && count !== this.lastCount) {
      this.el.scrollTop = Math.max(0, total - this.el.clientHeight);
    }
    this.lastCount = count;
    const r = visibleRange(this.el.scrollTop, this.el.clientHeight || 600, h, count);
    const keep = new Map<string, HTMLElement>();
    for (let i = r.start; i < r.end; i++) {
      const k = this.o.key(i);
      let row = this.rows.get(k);
      if (!row) {
        row = this.o.render(i);
        row.classList.add('vrow');
        this.el.appendChild(row);
      }
      row.style.transform = `translateY(${i * h}px)`;
      row.style.height = `${h}px`;
      keep.set(k, row);
    }
    for (const [k, el] of this.rows) if (!keep.has(k)) el.remove();
    this.rows = keep;
  }

  /** domRows is the number of row elements currently in the document. */
  get domRows(): number {
    return this.rows.size;
  }
}
