// Ctx is what every view gets from the app: the API, the state and a few
// shared services (toasts, dialogs, navigation, actions).
import type { Api } from '../api/api';
import type { ActionKind, ActionRequest, ActionSpec, ChannelView, Overview } from '../api/types';
import type { HiddenSet } from '../state/hidden';
import type { Changes, State } from '../state/store';

export type Route =
  | { page: 'queues'; channelId: number } // 0 = all queues
  | { page: 'audit' }
  | { page: 'events' }
  | { page: 'search'; query?: string }
  | { page: 'rules' }
  | { page: 'accounts' };

export interface Page {
  el: HTMLElement;
  update?(ch: Changes): void;
  tick?(): void;
  /** key handles a shortcut; returns true when it did. */
  key?(e: KeyboardEvent): boolean;
  destroy?(): void;
}

export interface Ctx {
  api: Api;
  state: State;
  overview(): Overview | null;
  go(r: Route): void;
  toast(level: 'info' | 'warn' | 'error', text: string, title?: string): void;
  /** act sends a moderator action and reports failures; resolves to whether it was accepted. */
  act(req: ActionRequest, label: string): Promise<boolean>;
  dialog: Dialogs;
  /** hidden holds what the moderator hid locally (platforms without moderation). */
  hidden: HiddenSet;
  queueLoaded(): boolean;
}

export interface Dialogs {
  confirm(title: string, body: string, ok: string, withReason: boolean): Promise<{ reason: string } | null>;
  timeout(title: string, presets: number[], note?: string): Promise<{ seconds: number; reason: string } | null>;
  isOpen(): boolean;
}

/** spec returns the channel's spec for kind, treating missing data as unsupported. */
export function spec(c: ChannelView | undefined, kind: ActionKind): ActionSpec {
  const s = c?.capabilities?.actions?.[kind];
  if (!c) return { supported: false, note: 'channel unknown' };
  if (c.readOnly || c.capabilities?.readOnly) return { supported: false, note: 'read-only connection (guest): add a token to moderate' };
  return s ?? { supported: false, note: `${kind} is not available on this platform` };
}
