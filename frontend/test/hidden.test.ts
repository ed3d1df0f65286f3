// @vitest-environment happy-dom
import { afterEach, describe, expect, it } from 'vitest';
import type { ChannelView, MessageView, QueueItemView } from '../src/api/types';
import { HIDDEN_STORAGE_KEY, HiddenSet } from '../src/state/hidden';
import { applyBatch, chatWindow, newState } from '../src/state/store';
import QueuesPage from '../src/ui/c/QueuesPage.svelte';
import { capNote, localHide } from '../src/ui/queues';
import { fakeConsole, mountWith, settle, type Mounted } from './harness';

/** MemStorage is a Storage stand-in that can also be told to fail. */
class MemStorage {
  data = new Map<string, string>();
  failWrites = false;
  writes = 0;
  getItem(k: string): string | null {
    return this.data.get(k) ?? null;
  }
  setItem(k: string, v: string): void {
    this.writes++;
    if (this.failWrites) throw new Error('QuotaExceededError');
    this.data.set(k, v);
  }
}

const msg = (id: number, channelId = 1, userId = 'u1', text = `m${id}`): MessageView => ({
  id, channelId, platform: 'socketbase', platformId: `p${id}`, user: { id: userId, username: userId }, text, at: 1_700_000_000_000 + id, deleted: false, held: false,
});
const item = (id: number, m: MessageView): QueueItemView => ({ id, channelId: m.channelId, platform: m.platform, message: m, ruleIds: [1], reasons: ['links'], status: 'open', at: m.at });

describe('HiddenSet', () => {
  it('hides users and messages per channel', () => {
    const hs = new HiddenSet(null);
    hs.hideUser(1, 'u1', 'alice');
    hs.hideMessage(1, 42, 'bob: spam');
    expect(hs.isUserHidden(1, 'u1')).toBe(true);
    expect(hs.isUserHidden(2, 'u1')).toBe(false); // other channel
    expect(hs.isMessageHidden(1, 42)).toBe(true);
    expect(hs.isMessageHidden(2, 42)).toBe(false);
    expect(hs.list(1).map((e) => [e.kind, e.id])).toEqual([['message', '42'], ['user', 'u1']]); // newest first
    expect(hs.list(2)).toEqual([]);
    expect(hs.list(0)).toHaveLength(2);
    expect(hs.unhide('user', 1, 'u1')).toBe(true);
    expect(hs.unhide('user', 1, 'u1')).toBe(false);
    expect(hs.isUserHidden(1, 'u1')).toBe(false);
  });

  it('is bounded: the oldest entries are dropped, re-hiding refreshes an entry', () => {
    const st = new MemStorage();
    const hs = new HiddenSet(st, 3);
    hs.hideUser(1, 'a', 'a', 1);
    hs.hideUser(1, 'b', 'b', 2);
    hs.hideUser(1, 'c', 'c', 3);
    hs.hideUser(1, 'a', 'a', 4); // a becomes the newest
    hs.hideMessage(1, 9, 'x', 5); // drops b, the oldest now
    expect(hs.size).toBe(3);
    expect(hs.isUserHidden(1, 'b')).toBe(false);
    expect(hs.isUserHidden(1, 'a')).toBe(true);
    expect(hs.isUserHidden(1, 'c')).toBe(true);
    expect(hs.isMessageHidden(1, 9)).toBe(true);
    // the stored copy is bounded too
    expect(JSON.parse(st.getItem(HIDDEN_STORAGE_KEY)!)).toHaveLength(3);
    // and a stored list longer than the cap is cut to the newest on load
    const big = new MemStorage();
    big.setItem(HIDDEN_STORAGE_KEY, JSON.stringify(Array.from({ length: 10 }, (_, i) => ({ kind: 'user', channelId: 1, id: `u${i}`, label: `u${i}`, at: i }))));
    const hs2 = new HiddenSet(big, 4);
    expect(hs2.size).toBe(4);
    expect(hs2.list(1).map((e) => e.id)).toEqual(['u9', 'u8', 'u7', 'u6']);
  });

  it('keeps the default bound at 5,000', () => {
    const hs = new HiddenSet(null);
    for (let i = 0; i < 5_010; i++) hs.hideMessage(1, i, `m${i}`, i);
    expect(hs.size).toBe(5_000);
    expect(hs.isMessageHidden(1, 9)).toBe(false);
    expect(hs.isMessageHidden(1, 10)).toBe(true);
    expect(hs.isMessageHidden(1, 5_009)).toBe(true);
  });

  it('round-trips through storage', () => {
    const st = new MemStorage();
    const a = new HiddenSet(st);
    a.hideUser(12, 'sb:alice', 'alice', 100);
    a.hideMessage(12, 7, 'bob: <img src=x onerror=alert(1)>', 200);
    a.hideUser(9, 'v1', 'vera', 300);
    a.unhide('user', 9, 'v1');
    const b = new HiddenSet(st);
    expect(b.list(0)).toEqual(a.list(0));
    expect(b.isUserHidden(12, 'sb:alice')).toBe(true);
    expect(b.isMessageHidden(12, 7)).toBe(true);
    expect(b.isUserHidden(9, 'v1')).toBe(false);
    expect(b.list(12).find((e) => e.kind === 'message')?.label).toBe('bob: <img src=x onerror=alert(1)>');
  });

  it('ignores malformed storage and survives failing storage', () => {
    const st = new MemStorage();
    st.setItem(HIDDEN_STORAGE_KEY, '{not json');
    expect(new HiddenSet(st).size).toBe(0);
    st.setItem(HIDDEN_STORAGE_KEY, JSON.stringify([null, 3, { kind: 'evil', channelId: 1, id: 'x', label: '', at: 0 }, { kind: 'user', channelId: '1', id: 'x', label: '', at: 0 }, { kind: 'user', channelId: 1, id: 'ok', label: 'fine', at: 1 }]));
    const hs = new HiddenSet(st);
    expect(hs.list(0).map((e) => e.id)).toEqual(['ok']);
    st.failWrites = true;
    hs.hideUser(1, 'later', 'later');
    expect(hs.isUserHidden(1, 'later')).toBe(true); // still works for the session
    const broken = { getItem: () => { throw new Error('SecurityError'); }, setItem: () => { throw new Error('SecurityError'); } };
    const hs2 = new HiddenSet(broken);
    hs2.hideMessage(1, 1, 'x');
    expect(hs2.isMessageHidden(1, 1)).toBe(true);
  });

  it('applies to chat and queue rows, with a per-session reveal that is not stored', () => {
    const st = new MemStorage();
    const hs = new HiddenSet(st);
    const s = newState();
    const m1 = msg(1, 1, 'spammer');
    const m2 = msg(2, 1, 'fine');
    const m3 = msg(3, 1, 'fine');
    const other = msg(4, 2, 'spammer');
    applyBatch(s, { messages: [m1, m2, m3, other], queue: [item(10, m1), item(11, m3)] });
    hs.hideUser(1, 'spammer', 'spammer');
    hs.hideMessage(1, 3, 'fine: m3');
    const chat = chatWindow(s, 1).toArray().map((r) => hs.rowHiding(r.m));
    expect(chat).toEqual([{ hidden: true, by: 'user', revealed: false }, { hidden: false }, { hidden: true, by: 'message', revealed: false }]);
    expect([...s.queue.values()].map((q) => hs.collapsed(q.message))).toEqual([true, true]);
    expect(hs.collapsed(chatWindow(s, 2).at(0)!.m)).toBe(false); // same user, other channel
    const v = hs.version;
    hs.reveal(1, 1);
    expect(hs.version).toBeGreaterThan(v);
    expect(hs.rowHiding(m1)).toEqual({ hidden: true, by: 'user', revealed: true });
    expect(hs.collapsed(m1)).toBe(false);
    expect(new HiddenSet(st).collapsed(m1)).toBe(true); // the reveal is for this session only
  });

  it('reloads what another tab stored', () => {
    const st = new MemStorage();
    const a = new HiddenSet(st);
    const b = new HiddenSet(st);
    let n = 0;
    b.onChange(() => n++);
    a.hideUser(3, 'x', 'x');
    expect(b.isUserHidden(3, 'x')).toBe(false);
    b.reload();
    expect(b.isUserHidden(3, 'x')).toBe(true);
    expect(n).toBe(1);
  });

  it('notifies listeners on change', () => {
    const hs = new HiddenSet(null);
    let n = 0;
    const off = hs.onChange(() => n++);
    hs.hideUser(1, 'a', 'a');
    hs.unhide('user', 1, 'a');
    hs.unhide('user', 1, 'a'); // nothing to remove: no change
    off();
    hs.hideUser(1, 'b', 'b');
    expect(n).toBe(2);
  });
});

// ---- the queue page renders hidden rows collapsed ----

const actions = (supported: boolean, note: string) => Object.fromEntries(
  (['ban', 'timeout', 'delete', 'pin', 'clear'] as const).map((k) => [k, { supported, note }]));

function channel(id: number, platform: ChannelView['platform'], supportsModeration: boolean): ChannelView {
  return {
    id, accountId: 1, platform, name: `chan${id}`, readOnly: false, viewers: 0, queueOpen: 0,
    health: { status: 'connected', since: 0, reconnects: 0 },
    capabilities: {
      actions: {
        ...actions(supportsModeration, supportsModeration ? 'ok' : 'socket-base has no moderation; hide the user locally (socket-base cannot ban)'),
        send: { supported: true }, announce: { supported: true, note: 'broadcast' },
      },
    },
  };
}

function setup() {
  localStorage.clear();
  const { ctx, calls } = fakeConsole();
  ctx.state.channels.set(12, channel(12, 'socketbase', false));
  ctx.state.channels.set(1, channel(1, 'velora', true));
  ctx.state.historyLoaded.add(12);
  ctx.state.historyLoaded.add(1);
  const acted = () => calls.filter(([m]) => m === 'Act');
  return { ctx, acted };
}

function page(ctx: ReturnType<typeof setup>['ctx'], channelId: number): Mounted {
  const m = mountWith(QueuesPage, { channelId }, ctx);
  mounted.push(m);
  return m;
}

let mounted: Mounted[] = [];
afterEach(() => {
  for (const m of mounted) m.destroy();
  mounted = [];
});

const verbsOf = (row: Element | null) => [...(row?.querySelectorAll('.row-actions button') ?? [])].map((b) => b.getAttribute('data-verb'));
const key = (ctx: ReturnType<typeof setup>['ctx'], k: string) => ctx.pageKey?.(new KeyboardEvent('keydown', { key: k }));

describe('QueuesPage with local hiding', () => {
  it('offers local hides only where the platform cannot moderate', async () => {
    const { ctx } = setup();
    expect(localHide(ctx.state.channels.get(12))).toMatchObject({ user: true, message: true });
    expect(localHide(ctx.state.channels.get(1))).toMatchObject({ user: false, message: false });
    applyBatch(ctx.state, { messages: [msg(5, 12, 'sb:alice', 'hello'), { ...msg(6, 1), platform: 'velora' }] });
    const sb = page(ctx, 12);
    await settle();
    expect(verbsOf(sb.el.querySelector('[data-testid=chat-row][data-msg-id="5"]'))).toEqual(['hideUser', 'hideMessage']);
    sb.destroy();
    const velora = page(ctx, 1);
    await settle();
    const vverbs = verbsOf(velora.el.querySelector('[data-testid=chat-row][data-msg-id="6"]'));
    expect(vverbs).not.toContain('hideUser');
    expect(vverbs).toContain('ban');
  });

  it('renders hidden chat and queue rows collapsed as "hidden locally · show", with no chat text', async () => {
    const { ctx } = setup();
    const m = msg(5, 12, 'sb:alice', '<b>secret spam</b>');
    applyBatch(ctx.state, { messages: [m], queue: [item(20, m)] });
    const p = page(ctx, 12);
    ctx.hidden.hideUser(12, 'sb:alice', 'alice');
    await settle();
    const row = () => p.el.querySelector('[data-testid=chat-row][data-msg-id="5"]')!;
    expect(row().getAttribute('data-hidden')).toBe('user');
    expect(row().textContent).toContain('hidden locally · show');
    expect(row().textContent).not.toContain('secret spam');
    const q = p.el.querySelector('[data-testid=queue-item][data-item-id="20"]')!;
    expect(q.getAttribute('data-hidden')).toBe('user');
    expect(q.textContent).not.toContain('secret spam');
    // "show" reveals the row for this session
    (row().querySelector('[data-testid=show-hidden]') as HTMLButtonElement).click();
    await settle();
    expect(row().getAttribute('data-hidden')).toBeNull();
    expect(row().textContent).toContain('<b>secret spam</b>'); // as text
    expect(row().querySelector('b')).toBeNull();
    expect(ctx.hidden.isUserHidden(12, 'sb:alice')).toBe(true); // still hidden for good
  });

  it('maps b (with confirmation), t and x to local hides on such channels', async () => {
    const { ctx, acted } = setup();
    const m = msg(5, 12, 'sb:alice');
    applyBatch(ctx.state, { messages: [m] });
    const p = page(ctx, 12);
    await settle();
    p.el.querySelector('[data-testid=chat-row][data-msg-id="5"]')!.dispatchEvent(new MouseEvent('mousedown', { bubbles: true }));
    await settle();
    key(ctx, 'b');
    await settle();
    expect(ctx.dialog?.kind).toBe('confirm');
    ctx.dialog!.done({ reason: '' } as never);
    await settle();
    expect(ctx.hidden.isUserHidden(12, 'sb:alice')).toBe(true);
    ctx.hidden.unhide('user', 12, 'sb:alice');
    await settle();
    key(ctx, 't');
    await settle();
    expect(ctx.dialog).toBeNull(); // t does not ask
    expect(ctx.hidden.isUserHidden(12, 'sb:alice')).toBe(true);
    key(ctx, 'x');
    await settle();
    expect(ctx.hidden.isMessageHidden(12, 5)).toBe(true);
    key(ctx, 'x'); // x again unhides
    await settle();
    expect(ctx.hidden.isMessageHidden(12, 5)).toBe(false);
    expect(acted()).toEqual([]); // nothing went to the platform
  });
});

describe('capNote', () => {
  it('prefixes the action unless the note already names it', () => {
    expect(capNote('pin', "Pinning: Kick's public API has no endpoint for this")).toBe("Pinning: Kick's public API has no endpoint for this");
    expect(capNote('clear', 'Clearing chat: no endpoint')).toBe('Clearing chat: no endpoint');
    expect(capNote('announce', 'Glimesh has no announcements')).toBe('Announce: Glimesh has no announcements');
    expect(capNote('ban', undefined)).toBe('Ban: not available here');
  });
});

describe('QueuesPage composer', () => {
  it('follows the channel\'s capabilities, keeping typed text', async () => {
    const { ctx } = setup();
    const c = ctx.state.channels.get(12)!;
    ctx.state.channels.set(12, { ...c, capabilities: { actions: { send: { supported: true }, announce: { supported: false, note: 'not yet' } } } });
    const p = page(ctx, 12);
    await settle();
    expect(p.el.querySelector('[data-testid=announce-input]')).toBeNull();
    // The note is a tooltip on the composer's "i" mark, not text in the working area.
    const info = p.el.querySelector('[data-testid=channel-cap-notes]');
    expect(info?.getAttribute('title')).toContain('Announce: not yet');
    expect(info?.getAttribute('data-kinds')).toContain('announce');
    expect(p.el.querySelector('.composer')?.textContent).not.toContain('not yet');
    const input = p.el.querySelector('[data-testid=send-input]') as HTMLInputElement;
    input.value = 'half typed';
    input.dispatchEvent(new Event('input', { bubbles: true }));
    ctx.state.channels.set(12, c);
    ctx.touch({ channels: true });
    await settle();
    expect(p.el.querySelector('[data-testid=announce-input]')).not.toBeNull();
    expect((p.el.querySelector('[data-testid=send-input]') as HTMLInputElement).value).toBe('half typed');
  });
});
