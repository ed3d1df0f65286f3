// PointerHold is when a list holds still for the moderator: while the
// pointer is over it, while one of its rows' buttons has the keyboard
// focus, and while a dialog opened from it is up. A click on the list's
// "resume" pill lets it move again under a still pointer, until the pointer
// moves away from where it clicked. Chat (ChatPane) and the queue list
// (QueuesPage) both use it, so they pause and resume alike.

/** MOVE_SLACK is how far (px) the pointer may drift after a click on the pill before the list holds again. */
export const MOVE_SLACK = 8;

export class PointerHold {
  hovered = $state(false);
  keyFocus = $state(false);
  dialogHold = $state(false);
  /** resumedAt is where the pill was clicked: hovering does not hold again until the pointer moves away from it. */
  resumedAt = $state<{ x: number; y: number } | null>(null);

  /** held says whether the list holds still. */
  get held(): boolean {
    return (this.hovered && !this.resumedAt) || this.keyFocus || this.dialogHold;
  }

  /** dialog follows the console's dialog: one opened while the list held keeps it held until it closes. */
  dialog(open: boolean): void {
    if (open && (this.hovered || this.keyFocus)) this.dialogHold = true;
    if (!open) this.dialogHold = false;
  }

  /** enter is pointerenter. */
  enter(e: PointerEvent): void {
    this.hovered = true;
    if (this.resumedAt && this.away(e)) this.resumedAt = null;
  }

  /** move is pointermove; it says whether it ended a resume (the pointer left the pill's spot). */
  move(e: PointerEvent): boolean {
    this.hovered = true;
    if (this.resumedAt && this.away(e)) {
      this.resumedAt = null;
      return true;
    }
    return false;
  }

  /** leave is pointerleave. */
  leave(): void {
    this.hovered = false;
    this.resumedAt = null;
  }

  /** focusIn is focusin: only a row's button reached by keyboard holds (a clicked button keeps the focus long
   * after the pointer left). */
  focusIn(e: FocusEvent): void {
    const t = e.target as HTMLElement | null;
    this.keyFocus = !!t?.closest('.row-actions') && focusVisible(t);
  }

  /** focusOut is focusout. */
  focusOut(): void {
    this.keyFocus = false;
  }

  /** resume is a click on the pill: the list moves again under the still pointer. */
  resume(e: MouseEvent): void {
    this.resumedAt = { x: e.clientX, y: e.clientY };
    this.keyFocus = false;
  }

  private away(e: PointerEvent): boolean {
    const r = this.resumedAt;
    return !!r && Math.hypot(e.clientX - r.x, e.clientY - r.y) > MOVE_SLACK;
  }
}

/** focusVisible says whether el's focus came from the keyboard (false where the engine lacks :focus-visible). */
function focusVisible(el: Element): boolean {
  try {
    return el.matches(':focus-visible');
  } catch {
    return false;
  }
}
