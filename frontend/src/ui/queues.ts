// Pure helpers of the queues screen: capability notes and the local-only
// substitutes a channel needs.
import type { ActionKind, ActionSpec, ChannelView } from '../api/types';
import { spec } from './ctx';

export const MOD_KINDS: ActionKind[] = ['ban', 'timeout', 'delete', 'pin'];
export const VERB_LABEL: Record<string, string> = { ban: 'Ban', timeout: 'Timeout', delete: 'Delete', pin: 'Pin', announce: 'Announce', clear: 'Clear chat' };
/** CHANNEL_KINDS are the channel-level actions whose absence the composer explains. */
export const CHANNEL_KINDS: ActionKind[] = ['announce', 'clear', 'pin'];

/** LocalHide says which local-only substitutes a channel needs: hiding users where it cannot ban or time out, hiding messages where it cannot delete. */
export interface LocalHide {
  user: boolean;
  message: boolean;
  ban: ActionSpec;
  timeout: ActionSpec;
  del: ActionSpec;
}

/** capNote is "Label: note", without repeating the label when the note already starts with it (Kick: "Pinning: …"). */
export function capNote(kind: ActionKind, note: string | undefined): string {
  const label = VERB_LABEL[kind] ?? kind;
  const n = note || 'not available here';
  const stem = label.toLowerCase().split(' ')[0]!.slice(0, 5);
  return n.toLowerCase().startsWith(stem) ? n : `${label}: ${n}`;
}

export function localHide(c: ChannelView | undefined): LocalHide {
  const ban = spec(c, 'ban');
  const timeout = spec(c, 'timeout');
  const del = spec(c, 'delete');
  return { user: !ban.supported || !timeout.supported, message: !del.supported, ban, timeout, del };
}

/** inputMaxLength bounds a text input (whose maxlength counts UTF-16 units)
 * without ever blocking a text the platform accepts: the API checks the exact
 * limit, counted the platform's way. */
export function inputMaxLength(c: ChannelView | undefined): number {
  const max = c?.capabilities.maxMessage || 500;
  // A rune is at most 2 UTF-16 units; a UTF-16 unit is at least 1 byte.
  return (c?.capabilities.messageUnit ?? 'runes') === 'runes' ? 2 * max : max;
}
