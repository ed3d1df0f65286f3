// BoundedWindow keeps at most `cap` items ordered by ascending numeric id:
// the in-memory slice of one channel's chat. Newer items push the oldest
// out; older history is paged in at the front.

export interface HasId {
  id: number;
}

export class BoundedWindow<T extends HasId> {
  private items: T[] = [];
  private ids = new Set<number>();
  /** hasOlder is true when older items exist that are not in memory. */
  hasOlder = false;

  constructor(readonly cap: number) {
    if (cap < 1) throw new Error('window: cap must be positive');
  }

  get length(): number {
    return this.items.length;
  }

  at(i: number): T | undefined {
    return this.items[i];
  }

  has(id: number): boolean {
    return this.ids.has(id);
  }

  oldestId(): number {
    return this.items[0]?.id ?? 0;
  }

  newestId(): number {
    return this.items[this.items.length - 1]?.id ?? 0;
  }

  /** indexOf returns the position of id, or -1. */
  indexOf(id: number): number {
    if (!this.ids.has(id)) return -1;
    let lo = 0;
    let hi = this.items.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = this.items[mid]!.id;
      if (v === id) return mid;
      if (v < id) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /**
   * push adds newer items (duplicates are ignored, out-of-order ids are
   * placed in order) and evicts the oldest beyond cap. It returns how many
   * items were added and how many were evicted from the front.
   */
  push(batch: readonly T[]): { added: number; evicted: number } {
    let added = 0;
    for (const it of batch) {
      if (this.ids.has(it.id)) continue;
      this.ids.add(it.id);
      added++;
      const last = this.items[this.items.length - 1];
      if (!last || last.id < it.id) {
        this.items.push(it);
      } else {
        this.items.splice(this.insertionPoint(it.id), 0, it);
      }
    }
    const evicted = Math.max(0, this.items.length - this.cap);
    if (evicted > 0) {
      for (const it of this.items.splice(0, evicted)) this.ids.delete(it.id);
      this.hasOlder = true;
    }
    return { added, evicted };
  }

  /**
   * prependOlder adds paged history (any order). Only as many as fit under
   * cap are kept, the newest of them; it returns how many were added.
   */
  prependOlder(older: readonly T[], more: boolean): number {
    const fresh = older.filter((it) => !this.ids.has(it.id)).sort((a, b) => a.id - b.id);
    const room = Math.max(0, this.cap - this.items.length);
    const take = fresh.slice(Math.max(0, fresh.length - room));
    if (take.length === 0) {
      this.hasOlder = more && room > 0 && fresh.length > 0;
      return 0;
    }
    for (const it of take) this.ids.add(it.id);
    const merged = take.concat(this.items);
    merged.sort((a, b) => a.id - b.id);
    this.items = merged;
    this.hasOlder = more || take.length < fresh.length;
    return take.length;
  }

  /** update replaces the item with id by fn(item); returns whether it existed. */
  update(id: number, fn: (it: T) => T): boolean {
    const i = this.indexOf(id);
    if (i < 0) return false;
    this.items[i] = fn(this.items[i]!);
    return true;
  }

  /** updateWhere applies fn to every item matching pred and returns the count. */
  updateWhere(pred: (it: T) => boolean, fn: (it: T) => T): number {
    let n = 0;
    for (let i = 0; i < this.items.length; i++) {
      const it = this.items[i]!;
      if (pred(it)) {
        this.items[i] = fn(it);
        n++;
      }
    }
    return n;
  }

  clear(): void {
    this.items = [];
    this.ids.clear();
    this.hasOlder = false;
  }

  toArray(): readonly T[] {
    return this.items;
  }

  private insertionPoint(id: number): number {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.items[mid]!.id < id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
