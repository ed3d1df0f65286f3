// @vitest-environment happy-dom
// People in the UI without a browser: the chat marks cache, the undo
// tracker, clickable names with their marks, and the undo toast.
import { flushSync } from 'svelte';
import { afterEach, describe, expect, it } from 'vitest';
import type { ActionView, ChannelView, PeopleMarksView } from '../src/api/types';
import UndoToasts from '../src/ui/c/UndoToasts.svelte';
import UserName from '../src/ui/c/UserName.svelte';
import { Marks } from '../src/ui/marks';
import { UndoTracker, undoRefusal, undoText } from '../src/ui/undo';
import { fakeConsole, mountWith, settle, type Mounted } from './harness';

const XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>';

const marks = (): PeopleMarksView => ({
  watches: [{ user: { platform: 'velora', userId: 'u1', username: 'Sam' }, reason: XSS, restrict: true, author: 'mod', created: 1 }],
  noted: [{ platform: 'kichat', username: 'Troll' }],
  notes: [
    { id: 1, user: { platform: 'kichat', username: 'Troll' }, text: 'older', author: 'mod', created: 1 },
    { id: 2, user: { platform: 'kichat', username: 'troll' }, text: XSS, author: 'mod', created: 2 },
  ],
});

const action = (id: number, kind: string, status: string, extra: Partial<ActionView> = {}): ActionView => ({
  id, key: `k${id}`, channelId: 1, platform: 'velora', kind: kind as ActionView['kind'], status, created: 1, updated: 2, ...extra,
});

let mounted: Mounted[] = [];
afterEach(() => {
  for (const m of mounted) m.destroy();
  mounted = [];
});

describe('Marks', () => {
  it('finds a user by id or by name (case-insensitive), per platform, with the newest note', () => {
    const m = new Marks();
    m.set(marks());
    expect(m.of('velora', 'u1', 'renamed').watch?.reason).toBe(XSS);
    expect(m.of('velora', '', 'sam').watch).toBeTruthy();
    expect(m.of('kichat', 'u1', 'Sam').watch).toBeUndefined();
    expect(m.of('kichat', 'k9', 'TROLL').note?.text).toBe(XSS);
    expect(m.of('velora', 'x', 'nobody')).toEqual({});
    m.set(null);
    expect(m.of('velora', 'u1', 'Sam')).toEqual({});
  });

  it('drops a watch past its expiry before the stream says so', () => {
    const m = new Marks();
    m.set({ watches: [{ user: { platform: 'velora', username: 'a' }, expires: Date.now() - 1, author: 'm', created: 1 }], noted: [], notes: [] });
    expect(m.of('velora', '', 'a').watch).toBeUndefined();
  });
});

describe('UndoTracker', () => {
  it('offers undo once, when a ban, timeout or delete is confirmed; never for a failure or other kinds', () => {
    const shown: string[] = [];
    const u = new UndoTracker((a, label) => shown.push(`${a.id} ${label}`));
    u.submitted(action(1, 'ban', 'pending'), 'Ban sam');
    u.submitted(action(2, 'timeout', 'sent'), 'Timeout sam');
    u.submitted(action(3, 'pin', 'pending'), 'Pin');
    u.submitted(action(4, 'delete', 'confirmed'), 'Delete');
    u.submitted(action(5, 'ban', 'pending', { actor: 'rule:spam' }), 'rule');
    expect(shown).toEqual(['4 Delete']);
    u.update(action(1, 'ban', 'sent'));
    u.update(action(1, 'ban', 'confirmed'));
    u.update(action(1, 'ban', 'confirmed'));
    u.update(action(2, 'timeout', 'failed'));
    u.update(action(2, 'timeout', 'confirmed'));
    u.update(action(3, 'pin', 'confirmed'));
    u.update(action(5, 'ban', 'confirmed'));
    expect(shown).toEqual(['4 Delete', '1 Ban sam']);
    // "and N held messages" from Act's answer survives a confirmation read before it was stored.
    let got: ActionView | undefined;
    const v = new UndoTracker((a) => { got = a; });
    v.submitted(action(6, 'ban', 'pending', { resolvedItems: 2 }), 'Ban x');
    v.update(action(6, 'ban', 'confirmed'));
    expect(got?.resolvedItems).toBe(2);
    // A confirmation that arrives before Act's answer (and a stale pending after it) still shows.
    got = undefined;
    v.update(action(10, 'ban', 'confirmed', { undo: 'unban' }));
    v.submitted(action(10, 'ban', 'pending', { resolvedItems: 1 }), 'Ban y');
    expect((got as ActionView | undefined)?.status).toBe('confirmed');
    expect((got as ActionView | undefined)?.resolvedItems).toBe(1);
  });

  it('words the toast: held messages, a refusal, a delete', () => {
    expect(undoText(action(1, 'ban', 'confirmed', { resolvedItems: 2 }), 'Ban sam')).toBe('Ban sam: done and 2 held messages.');
    expect(undoRefusal(action(1, 'ban', 'confirmed', { undo: 'unban' }))).toBe('');
    expect(undoRefusal(action(1, 'timeout', 'confirmed', { undo: 'lift timeout', undoRefused: 'Glimesh cannot lift a timeout early' })))
      .toBe('Cannot be undone: Glimesh cannot lift a timeout early');
    expect(undoRefusal(action(1, 'delete', 'confirmed', { undoRefused: 'x' }))).toMatch(/cannot restore a deleted message/);
  });
});

const chan = (id: number, platform: string): ChannelView => ({ id, platform, name: `c${id}` } as unknown as ChannelView);

describe('UserName with a channel', () => {
  it('opens the card by click and by Enter, and shows marks as text', () => {
    const { ctx } = fakeConsole();
    ctx.state.channels.set(1, chan(1, 'velora'));
    ctx.state.channels.set(2, chan(2, 'kichat'));
    (ctx as unknown as { setMarks(v: PeopleMarksView): void }).setMarks(marks());
    const sam = mountWith(UserName, { u: { id: 'u1', username: 'Sam', displayName: XSS }, channelId: 1 }, ctx);
    const troll = mountWith(UserName, { u: { id: 'k9', username: 'troll' }, channelId: 2 }, ctx);
    mounted.push(sam, troll);
    const name = sam.el.querySelector<HTMLElement>('[data-testid=user-name]')!;
    expect(name.textContent).toBe(XSS);
    expect(name.classList.contains('watched')).toBe(true);
    expect(name.getAttribute('tabindex')).toBe('0');
    expect(sam.el.querySelector('[data-testid=note-icon]')).toBeNull();
    const icon = troll.el.querySelector<HTMLElement>('[data-testid=note-icon]')!;
    expect(icon.getAttribute('title')).toContain(XSS);
    expect(troll.el.querySelectorAll('img, script').length + sam.el.querySelectorAll('img, script').length).toBe(0);
    name.click();
    expect(ctx.card).toEqual({ channelId: 1, userId: 'u1', username: 'Sam' });
    ctx.card = null;
    troll.el.querySelector<HTMLElement>('[data-testid=user-name]')!.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
    expect(ctx.card).toEqual({ channelId: 2, userId: 'k9', username: 'troll' });
  });
});

describe('UndoToasts', () => {
  it('shows Undo after the confirmation and sends Reverse; says why not when it cannot', async () => {
    const { ctx, calls } = fakeConsole({
      Act: (req) => action(7, (req as { kind: string }).kind, 'pending'),
      Reverse: () => action(8, 'unban', 'pending'),
    });
    const m = mountWith(UndoToasts, {}, ctx);
    mounted.push(m);
    await ctx.act({ channelId: 1, kind: 'ban', username: 'sam' }, 'Ban sam');
    flushSync();
    expect(m.el.querySelector('[data-testid=undo-toast]')).toBeNull();
    (ctx as unknown as { onBatch(b: unknown): void }).onBatch({ actions: [action(7, 'ban', 'confirmed', { undo: 'unban', resolvedItems: 1 })] });
    flushSync();
    expect(m.el.querySelector('[data-testid=undo-toast]')!.textContent).toContain('Ban sam: done and 1 held message');
    m.el.querySelector<HTMLElement>('[data-testid=undo]')!.click();
    await settle();
    expect(calls.filter(([k]) => k === 'Reverse')).toEqual([['Reverse', [7]]]);
    expect(m.el.querySelector('[data-testid=undo-result]')!.textContent).toBe('unban sent.');
    // The confirmation overtook Act's answer: the toast still has Act's "and N held messages".
    const { ctx: o } = fakeConsole({ Act: () => action(20, 'ban', 'pending', { resolvedItems: 3 }) });
    const om = mountWith(UndoToasts, {}, o);
    mounted.push(om);
    (o as unknown as { onBatch(b: unknown): void }).onBatch({ actions: [action(20, 'ban', 'confirmed', { undo: 'unban' })] });
    await o.act({ channelId: 1, kind: 'ban', username: 'sam' }, 'Ban sam');
    flushSync();
    expect(om.el.querySelector('[data-testid=undo-toast]')!.textContent).toContain('Ban sam: done and 3 held messages');
    // Glimesh's timeout: no undo, the reason instead.
    let next = 9;
    const { ctx: g } = fakeConsole({ Act: () => action(next++, 'timeout', 'pending') });
    const gm = mountWith(UndoToasts, {}, g);
    mounted.push(gm);
    await g.act({ channelId: 1, kind: 'timeout', username: 'sam', durationSeconds: 300 }, 'Timeout sam 5m');
    (g as unknown as { onBatch(b: unknown): void }).onBatch({ actions: [action(9, 'timeout', 'confirmed', { undo: 'lift timeout', undoRefused: 'Glimesh cannot lift a timeout early' })] });
    flushSync();
    expect(gm.el.querySelector('[data-testid=undo]')).toBeNull();
    expect(gm.el.querySelector('[data-testid=undo-refused]')!.textContent).toBe('Cannot be undone: Glimesh cannot lift a timeout early');
  });
});

describe('UserCard', () => {
  it('loads the card, keeps markup as text, and its keys work: n note, w watch, t/b ask, Esc closes', async () => {
    const { ctx, calls } = fakeConsole({
      UserCard: () => ({
        channelId: 1, user: { platform: 'velora', userId: 'u1', username: XSS }, messageCount: 1, strikes: 1, strikeDays: 30,
        messages: [{ id: 5, channelId: 1, platform: 'velora', text: XSS, at: 1, user: { id: 'u1', username: XSS }, deleted: false, held: true }],
        linked: [], notes: [{ id: 3, user: { platform: 'velora', userId: 'u1' }, text: XSS, author: XSS, created: 1 }],
        history: [{ source: 'action', at: 1, channelId: 1, platform: 'velora', kind: 'pin', action: action(9, 'pin', 'confirmed', { undo: 'unpin' }) }],
      }),
      Reverse: () => action(10, 'unpin', 'pending'),
    });
    ctx.state.channels.set(1, { ...chan(1, 'velora'), capabilities: { actions: { ban: { supported: true }, timeout: { supported: true }, unban: { supported: true } } } } as unknown as ChannelView);
    ctx.openCard(1, 'u1', 'x');
    const UserCard = (await import('../src/ui/c/UserCard.svelte')).default;
    const m = mountWith(UserCard, { req: ctx.card }, ctx);
    mounted.push(m);
    await settle();
    const box = m.el.querySelector<HTMLElement>('[data-testid=user-card]')!;
    expect(box.querySelector('[data-testid=card-name]')!.textContent).toBe(XSS);
    expect(box.querySelector('[data-testid=card-notes]')!.textContent).toContain(XSS);
    expect(box.querySelectorAll('img, script').length).toBe(0);
    const key = (k: string) => box.dispatchEvent(new KeyboardEvent('keydown', { key: k, bubbles: true }));
    key('n');
    expect(document.activeElement?.getAttribute('data-testid')).toBe('note-input');
    box.focus();
    key('w');
    expect(document.activeElement?.getAttribute('data-testid')).toBe('watch-reason');
    box.focus();
    key('t');
    expect(ctx.dialog?.kind).toBe('timeout');
    ctx.dialog?.done(null);
    key('b');
    expect(ctx.dialog?.kind).toBe('confirm');
    ctx.dialog?.done(null);
    // The history's unpin sends Reverse for the pin.
    box.querySelector<HTMLElement>('[data-testid=history-undo]')!.click();
    await settle();
    expect(calls.filter(([k]) => k === 'Reverse')).toEqual([['Reverse', [9]]]);
    key('Escape');
    expect(ctx.card).toBeNull();
  });
});
