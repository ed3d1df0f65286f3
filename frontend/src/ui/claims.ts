// Claims: which moderator is looking at which open queue item (team mode,
// issue 14 item 3). The server hands them out (ClaimNext, ClaimItems) and
// announces every change in the event stream's batches (Batch.claims); an
// expired claim counts as none. In single-user mode every claim is the
// local moderator's own, so nothing shows.
import type { ClaimView, QueueItemView } from '../api/types';

/** CLAIM_RENEW_MS is how often the open item's claim is renewed (the server's claims last 2 minutes). */
export const CLAIM_RENEW_MS = 60_000;

export interface Holder {
  by: string;
  expires: number;
}

/** ClaimSet holds the known claims by item id. */
export class ClaimSet {
  private readonly byItem = new Map<number, Holder>();
  /** me is this console's own name as claims show it (Overview.me). */
  me = '';

  /** apply folds claim changes in (by "" ends the item's claim); it says whether anything changed. */
  apply(list: readonly ClaimView[] | null | undefined): boolean {
    let changed = false;
    for (const c of list ?? []) {
      if (!c || typeof c.itemId !== 'number') continue;
      const cur = this.byItem.get(c.itemId);
      if (!c.by) {
        if (cur) {
          this.byItem.delete(c.itemId);
          changed = true;
        }
        continue;
      }
      if (!cur || cur.by !== c.by || cur.expires !== c.expires) {
        this.byItem.set(c.itemId, { by: c.by, expires: c.expires });
        changed = true;
      }
    }
    return changed;
  }

  /** fromItems takes the claims queue items were read with (QueuePage, Queue, ClaimNext): an item
   * without claimedBy had none when it was read. */
  fromItems(items: readonly QueueItemView[]): boolean {
    let changed = false;
    for (const it of items) {
      const cur = this.byItem.get(it.id);
      if (it.claimedBy) {
        if (!cur || cur.by !== it.claimedBy || cur.expires !== (it.claimExpires ?? 0)) {
          this.byItem.set(it.id, { by: it.claimedBy, expires: it.claimExpires ?? 0 });
          changed = true;
        }
      } else if (cur) {
        this.byItem.delete(it.id);
        changed = true;
      }
    }
    return changed;
  }

  /** holder is the unexpired claim on item id, whoever holds it. */
  holder(id: number, now: number): Holder | null {
    const h = this.byItem.get(id);
    return h && h.expires > now ? h : null;
  }

  /** other is the unexpired claim someone else holds on any of ids (the first found), or null. */
  other(ids: Iterable<number>, now: number): Holder | null {
    for (const id of ids) {
      const h = this.holder(id, now);
      if (h && h.by !== this.me) return h;
    }
    return null;
  }

  clear(): void {
    this.byItem.clear();
  }
}
