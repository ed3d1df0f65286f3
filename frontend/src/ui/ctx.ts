// Routes, capability lookups and failure reporting shared by the views.
import type { ActionKind, ActionSpec, ActionView, ChannelView } from '../api/types';

export type Route =
  | { page: 'queues'; channelId: number } // 0 = all queues
  | { page: 'audit' }
  | { page: 'events' }
  | { page: 'search'; query?: string }
  | { page: 'rules' }
  | { page: 'accounts' };

/** spec returns the channel's spec for kind, treating missing data as unsupported. */
export function spec(c: ChannelView | undefined, kind: ActionKind): ActionSpec {
  const s = c?.capabilities?.actions?.[kind];
  if (!c) return { supported: false, note: 'channel unknown' };
  if (c.readOnly || c.capabilities?.readOnly) return { supported: false, note: 'read-only connection (guest): add a token to moderate' };
  return s ?? { supported: false, note: `${kind} is not available on this platform` };
}

/** ActionFailures makes one failure one notice: an action that fails is
 * reported once (one toast with the platform's reason), whether the failure
 * comes with Act's answer, with a later batch, or with both, and the caller's
 * onFailed runs once. */
export class ActionFailures {
  private readonly reported = new Set<number>();
  private readonly watching = new Map<number, { label: string; onFailed?: () => void }>();

  constructor(private readonly report: (a: ActionView, label: string | undefined) => void) {}

  /** submitted records Act's answer for an action the UI sent. current is the
   * newest state known for it (a batch may have brought its outcome first). */
  submitted(current: ActionView, label: string, onFailed?: () => void): void {
    if (this.reported.has(current.id)) {
      // Its failure came with a batch before Act answered (the event stream
      // can overtake the HTTP answer): reported already; give the text back.
      onFailed?.();
      return;
    }
    if (current.status === 'failed') {
      this.fail(current, label);
      onFailed?.();
      return;
    }
    if (current.status !== 'confirmed') this.watching.set(current.id, { label, onFailed });
  }

  /** update takes an action update from a batch. */
  update(a: ActionView): void {
    if (a.status === 'confirmed') {
      this.watching.delete(a.id);
      return;
    }
    if (a.status !== 'failed') return;
    const w = this.watching.get(a.id);
    this.watching.delete(a.id);
    this.fail(a, w?.label);
    w?.onFailed?.();
  }

  private fail(a: ActionView, label: string | undefined): void {
    if (this.reported.has(a.id)) return;
    if (this.reported.size >= 1000) this.reported.clear();
    this.reported.add(a.id);
    this.report(a, label);
  }
}
