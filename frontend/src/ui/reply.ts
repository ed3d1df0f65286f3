// Replies and message effects in the send box: what a channel offers, the
// reply context shown on messages and above the send box (text only), and
// the send request built from them.
import type { ActionRequest, ChannelView, MessageView, Reply } from '../api/types';
import { spec } from './ctx';
import { displayName, safeColor } from './render';

/** SNIPPET_LENGTH mirrors the backend's reply preview length (service.SnippetLength). */
export const SNIPPET_LENGTH = 80;

/** snippet is text on one line, cut to at most n characters (an ellipsis last when cut). */
export function snippet(text: unknown, n = SNIPPET_LENGTH): string {
  const t = (typeof text === 'string' ? text : '').split(/\s+/).filter(Boolean).join(' ');
  const chars = [...t];
  if (chars.length <= n) return t;
  return `${chars.slice(0, n - 1).join('').trim()}…`;
}

/** canReply says whether sends in c can answer a message. */
export function canReply(c: ChannelView | undefined): boolean {
  return spec(c, 'send').supported && c?.capabilities?.replies === true;
}

/** effectsOf returns the message effects c offers for sends (suggestions), or [] when it has none. */
export function effectsOf(c: ChannelView | undefined): string[] {
  if (!spec(c, 'send').supported) return [];
  const e = c?.capabilities?.effects;
  return Array.isArray(e) ? e.filter((x): x is string => typeof x === 'string' && x !== '') : [];
}

/** replyable says whether m can be answered from the send box of channel c. */
export function replyable(c: ChannelView | undefined, m: MessageView, deleted: boolean): boolean {
  return !!c && canReply(c) && m.channelId === c.id && !deleted && !m.deleted;
}

/** replyLabel is the send box's "Replying to <user>: <snippet>". */
export function replyLabel(m: MessageView): string {
  const s = snippet(m.text);
  return `Replying to ${displayName(m.user)}${s ? `: ${s}` : ''}`;
}

/** replyContext is the text shown for the message a message answers ("↩ user: snippet"), with its tooltip, or null. */
export function replyContext(r: Reply | null | undefined, full = false): { text: string; user: string; title: string } | null {
  if (!r || typeof r !== 'object') return null;
  const user = typeof r.username === 'string' ? r.username : '';
  const snip = typeof r.snippet === 'string' ? r.snippet : '';
  if (!user && !snip && !r.messageId) return null;
  const who = user || 'a message';
  return { text: `↩ ${who}${snip ? `: ${full ? snip : snippet(snip, 40)}` : ''}`, user, title: `in reply to ${who}${snip ? `: ${snip}` : ''}` };
}

/** SendExtras is what the send box adds to a message besides its text. */
export interface SendExtras {
  replyTo?: MessageView | null;
  effect?: string;
  color?: string;
}

/** sendRequest builds the send action: replyToId, effect and colour only where the channel offers them. */
export function sendRequest(c: ChannelView | undefined, channelId: number, text: string, x: SendExtras = {}): ActionRequest {
  const req: ActionRequest = { channelId, kind: 'send', text };
  if (x.replyTo && replyable(c, x.replyTo, false)) req.replyToId = x.replyTo.id;
  if (effectsOf(c).length) {
    const effect = (x.effect ?? '').trim();
    if (effect) req.effect = effect;
    const color = safeColor(x.color);
    if (color) req.color = color;
  }
  return req;
}
