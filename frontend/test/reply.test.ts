// @vitest-environment happy-dom
import { afterEach, describe, expect, it } from 'vitest';
import ReplyContext from '../src/ui/c/ReplyContext.svelte';
import { mountWith, type Mounted } from './harness';
import type { ChannelView, MessageView } from '../src/api/types';
import { canReply, effectsOf, replyContext, replyable, replyLabel, sendRequest, snippet, SNIPPET_LENGTH } from '../src/ui/reply';

const HOSTILE = '<img src=x onerror="window.__xss=1">';

function channel(id: number, caps: Partial<ChannelView['capabilities']> = {}, extra: Partial<ChannelView> = {}): ChannelView {
  return {
    id, accountId: 1, platform: 'velora', name: `ch${id}`, health: { status: 'connected', since: 0, reconnects: 0 }, readOnly: false, viewers: 0, queueOpen: 0,
    capabilities: { actions: { send: { supported: true } }, ...caps },
    ...extra,
  };
}

function message(id: number, channelId: number, text = 'hello there', extra: Partial<MessageView> = {}): MessageView {
  return { id, channelId, platform: 'velora', platformId: `p${id}`, user: { id: 'u1', username: 'alice', displayName: 'Alice' }, text, at: 0, deleted: false, held: false, ...extra };
}

let mounted: Mounted[] = [];
afterEach(() => {
  for (const m of mounted) m.destroy();
  mounted = [];
});

describe('replies and effects', () => {
  it('offers replies and effects only where the channel says so and can send', () => {
    const velora = channel(1, { replies: true, effects: ['rainbow'] });
    expect(canReply(velora)).toBe(true);
    expect(effectsOf(velora)).toEqual(['rainbow']);
    expect(canReply(channel(2))).toBe(false);
    expect(effectsOf(channel(2, { effects: null }))).toEqual([]);
    expect(canReply(channel(3, { replies: true }, { readOnly: true }))).toBe(false);
    expect(effectsOf(channel(3, { effects: ['rainbow'] }, { readOnly: true }))).toEqual([]);
    expect(canReply(channel(4, { replies: true, actions: { send: { supported: false } } }))).toBe(false);
    expect(canReply(undefined)).toBe(false);
  });

  it('replies only to live messages of the same channel', () => {
    const c = channel(1, { replies: true });
    expect(replyable(c, message(5, 1), false)).toBe(true);
    expect(replyable(c, message(5, 2), false)).toBe(false);
    expect(replyable(c, message(5, 1), true)).toBe(false);
    expect(replyable(c, message(5, 1, 'x', { deleted: true }), false)).toBe(false);
  });

  it('cuts snippets like the backend: one line, at most 80 characters', () => {
    expect(snippet('  a\n b  ')).toBe('a b');
    const long = 'é'.repeat(200);
    const s = snippet(long);
    expect([...s].length).toBe(SNIPPET_LENGTH);
    expect(s.endsWith('…')).toBe(true);
    expect(snippet(undefined)).toBe('');
  });

  it('builds the send request with replyToId, effect and colour only where offered', () => {
    const velora = channel(1, { replies: true, effects: ['rainbow'] });
    const parent = message(42, 1);
    expect(sendRequest(velora, 1, 'hi', { replyTo: parent, effect: ' rainbow ', color: '#ff00ff' }))
      .toEqual({ channelId: 1, kind: 'send', text: 'hi', replyToId: 42, effect: 'rainbow', color: '#ff00ff' });
    expect(sendRequest(velora, 1, 'hi', { effect: '', color: 'red;background:url(x)' })).toEqual({ channelId: 1, kind: 'send', text: 'hi' });
    // Another channel's message, or a platform without replies/effects: a plain send.
    expect(sendRequest(velora, 1, 'hi', { replyTo: message(43, 2) })).toEqual({ channelId: 1, kind: 'send', text: 'hi' });
    expect(sendRequest(channel(2), 2, 'hi', { replyTo: message(44, 2), effect: 'rainbow', color: '#fff' })).toEqual({ channelId: 2, kind: 'send', text: 'hi' });
  });

  it('shows reply context as text only', () => {
    const render = (r: Parameters<typeof replyContext>[0], full = false) => {
      const m = mountWith(ReplyContext, { r, full });
      mounted.push(m);
      return m.el.querySelector('[data-testid=reply-context]');
    };
    const el = render({ messageId: 'm1', username: HOSTILE, snippet: `${HOSTILE} and more` }, true)!;
    expect(el.textContent).toBe(`↩ ${HOSTILE}: ${HOSTILE} and more`);
    const short = render({ messageId: 'm1', username: HOSTILE, snippet: `${HOSTILE} and more` })!;
    expect(short.textContent!.startsWith(`↩ ${HOSTILE}: <img`)).toBe(true);
    expect(short.querySelectorAll('*').length).toBe(0);
    expect(el.querySelectorAll('*').length).toBe(0);
    expect(el.getAttribute('data-reply-user')).toBe(HOSTILE);
    expect(render(null)).toBeNull();
    expect(render({ messageId: 'm2' })?.textContent).toBe('↩ a message');
    const long = replyContext({ messageId: 'm3', username: 'bob', snippet: 'x'.repeat(80) })!;
    expect([...long.text].length).toBeLessThan(60);
    expect(replyContext({ messageId: 'm3', username: 'bob', snippet: 'x'.repeat(80) }, true)!.text).toBe(`↩ bob: ${'x'.repeat(80)}`);
  });

  it('labels the send box with the user and a snippet', () => {
    expect(replyLabel(message(1, 1, `${HOSTILE}\nsecond line`))).toBe(`Replying to Alice: ${HOSTILE} second line`);
  });
});
