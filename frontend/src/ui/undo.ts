// The undo toast: a ban, timeout or delete the moderator sent, once the
// platform confirmed it, offers its reversal for UNDO_MS (or says why there
// is none: Glimesh cannot lift a timeout early, a deleted message cannot be
// restored). UndoTracker decides when; the Console shows the toast.
import type { ActionKind, ActionView } from '../api/types';

/** UNDO_MS is how long the undo toast stays after the confirmation. */
export const UNDO_MS = 10_000;

const UNDOABLE: ReadonlySet<ActionKind> = new Set<ActionKind>(['ban', 'timeout', 'delete']);

/** UndoToast is one shown undo offer. */
export interface UndoToast {
  /** id is the action's id. */
  id: number;
  label: string;
  action: ActionView;
  /** until is when it goes (unix ms). */
  until: number;
  /** state: offered; sending the reversal; sent; or refused by the API. */
  state: 'offered' | 'sending' | 'sent' | 'error';
  text?: string;
}

/** UndoTracker follows the actions the UI sent until the platform confirms
 * them, then calls show once per action (never for a failed one: that is
 * ActionFailures' notice). */
export class UndoTracker {
  private readonly watching = new Map<number, { label: string; resolved: number }>();
  private readonly shown = new Set<number>();
  /** confirmed keeps recent confirmations that came before Act's answer. */
  private readonly confirmed = new Map<number, ActionView>();

  constructor(private readonly show: (a: ActionView, label: string) => void) {}

  /** submitted takes Act's answer (or the newest state known) for an action the UI sent. */
  submitted(a: ActionView, label: string): void {
    if (!UNDOABLE.has(a.kind) || a.actor?.startsWith('rule:')) return;
    const early = this.confirmed.get(a.id);
    if (early) this.fire({ ...early, resolvedItems: Math.max(early.resolvedItems ?? 0, a.resolvedItems ?? 0) || undefined }, label);
    else if (a.status === 'confirmed') this.fire(a, label);
    else if (a.status !== 'failed') this.watching.set(a.id, { label, resolved: a.resolvedItems ?? 0 });
  }

  /** update takes an action update from a batch. */
  update(a: ActionView): void {
    const w = this.watching.get(a.id);
    if (w === undefined) {
      if (a.status === 'confirmed' && UNDOABLE.has(a.kind) && !this.shown.has(a.id)) {
        this.confirmed.set(a.id, a);
        if (this.confirmed.size > 200) this.confirmed.delete(this.confirmed.keys().next().value as number);
      }
      return;
    }
    // The confirmation may be read before "and N held messages" was stored
    // (Act's answer has it): keep the largest count seen.
    const resolved = Math.max(w.resolved, a.resolvedItems ?? 0);
    if (a.status === 'confirmed') this.fire(resolved ? { ...a, resolvedItems: resolved } : a, w.label);
    else if (a.status === 'failed') this.watching.delete(a.id);
    else w.resolved = resolved;
  }

  private fire(a: ActionView, label: string): void {
    this.watching.delete(a.id);
    this.confirmed.delete(a.id);
    if (this.shown.has(a.id)) return;
    if (this.shown.size >= 1000) this.shown.clear();
    this.shown.add(a.id);
    this.show(a, label);
  }
}

/** undoText is the toast's sentence for a confirmed action a. */
export function undoText(a: ActionView, label: string): string {
  const held = a.resolvedItems ? ` and ${a.resolvedItems} held message${a.resolvedItems === 1 ? '' : 's'}` : '';
  return `${label}: done${held}.`;
}

/** undoRefusal says why a has no undo, or '' when it has one. */
export function undoRefusal(a: ActionView): string {
  if (a.undo && !a.undoRefused) return '';
  if (a.kind === 'delete') return 'The platform cannot restore a deleted message.';
  return a.undoRefused ? `Cannot be undone: ${a.undoRefused}` : 'Cannot be undone here.';
}
