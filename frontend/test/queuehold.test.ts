// @vitest-environment happy-dom
// The queue list holds still under the pointer, as chat does: new items wait
// behind a badge, items resolved elsewhere stay in their place (greyed, no
// actions) until the pointer leaves; what this console acts on leaves at once.
import { afterEach, describe, expect, it } from 'vitest';
import type { ChannelView, MessageView, QueueItemView } from '../src/api/types';
import { applyBatch } from '../src/state/store';
import QueuesPage from '../src/ui/c/QueuesPage.svelte';
import { fakeConsole, mountWith, queueServer, settle, type Mounted } from './harness';

const all = ['ban', 'timeout', 'delete', 'pin'] as const;
const channel: ChannelView = {
  id: 1, accountId: 1, platform: 'velora', name: 'chan1', readOnly: false, viewers: 0, queueOpen: 0,
  health: { status: 'connected', since: 0, reconnects: 0 },
  capabilities: { actions: Object.fromEntries(all.map((k) => [k, { supported: true }])), timeoutPresets: [600] },
} as unknown as ChannelView;
const msg = (id: number, user: string): MessageView => ({
  id: 1000 + id, channelId: 1, platform: 'velora', platformId: `p${id}`, user: { id: user, username: user }, text: `m${id}`, at: 1_700_000_000_000 + id, deleted: false, held: true,
});
const item = (id: number, user = `u${id}`): QueueItemView => ({ id, channelId: 1, platform: 'velora', message: msg(id, user), ruleIds: [1], reasons: ['r'], status: 'open', at: 1_700_000_000_000 + id });

let mounted: Mounted[] = [];
afterEach(() => {
  for (const m of mounted) m.destroy();
  mounted = [];
});

function setup(items: QueueItemView[]) {
  localStorage.clear();
  const { server, answers } = queueServer(items);
  const { ctx, calls } = fakeConsole(answers);
  ctx.state.channels.set(1, channel);
  ctx.state.historyLoaded.add(1);
  const p = mountWith(QueuesPage, { channelId: 0 }, ctx);
  mounted.push(p);
  /** push sends what changed on the server (resolved items, and the given new ones) as the event stream would. */
  const push = async (fresh: QueueItemView[] = []) => {
    for (const it of fresh) server.set(it.id, it);
    applyBatch(ctx.state, { queue: [...[...server.values()].filter((it) => it.status !== 'open'), ...fresh] });
    ctx.touch({ queue: true });
    await settle();
  };
  /** elsewhere resolves items on the server, as another moderator or a rule would. */
  const elsewhere = (...ids: number[]) => {
    for (const id of ids) server.set(id, { ...server.get(id)!, status: 'approved' });
  };
  return { ctx, calls, p, push, elsewhere };
}

const rowIds = (p: Mounted) => [...p.el.querySelectorAll('[data-testid=queue-item]')].map((e) => Number(e.getAttribute('data-item-id')));
const ghostIds = (p: Mounted) => [...p.el.querySelectorAll('[data-testid=queue-item][data-resolved=true]')].map((e) => Number(e.getAttribute('data-item-id')));
const area = (p: Mounted) => p.el.querySelector<HTMLElement>('[data-testid=queue-hold]')!;
const badge = (p: Mounted) => p.el.querySelector<HTMLButtonElement>('[data-testid=queue-hold-badge]');
const enter = (p: Mounted, x = 50, y = 50) => area(p).dispatchEvent(new PointerEvent('pointerenter', { clientX: x, clientY: y }));
const leave = (p: Mounted) => area(p).dispatchEvent(new PointerEvent('pointerleave'));
const rowButton = (p: Mounted, id: number, verb: string) =>
  p.el.querySelector<HTMLButtonElement>(`[data-testid=queue-item][data-item-id="${id}"] [data-verb=${verb}]`);

describe('QueuesPage: the queue holds still under the pointer', { timeout: 30_000 }, () => {
  it('keeps rows resolved elsewhere in place and new items out until the pointer leaves', async () => {
    const { p, push, elsewhere } = setup([1, 2, 3, 4, 5, 6].map((i) => item(i)));
    await settle();
    expect(rowIds(p)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(area(p).dataset.held).toBe('false');

    enter(p);
    await settle();
    expect(area(p).dataset.held).toBe('true');
    expect(badge(p)?.textContent).toBe('held');

    // Another moderator resolves 2 and 4, and two new items arrive: nothing moves.
    elsewhere(2, 4);
    await push([item(7), item(8)]);
    expect(rowIds(p)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(ghostIds(p)).toEqual([2, 4]);
    expect(rowButton(p, 2, 'approve')).toBeNull();
    expect(rowButton(p, 2, 'ban')).not.toBeNull(); // the person can still be acted on
    expect(rowButton(p, 3, 'approve')).not.toBeNull();
    expect(badge(p)?.textContent).toBe('held — 2 new');
    expect(badge(p)?.dataset.new).toBe('2');

    // The pointer leaves: the list catches up.
    leave(p);
    await settle();
    expect(area(p).dataset.held).toBe('false');
    expect(badge(p)).toBeNull();
    expect(rowIds(p)).toEqual([1, 3, 5, 6, 7, 8]);
    expect(ghostIds(p)).toEqual([]);

    // Not held: a resolution elsewhere leaves at once.
    elsewhere(5);
    await push();
    expect(rowIds(p)).toEqual([1, 3, 6, 7, 8]);
  });

  it("lets this console's own actions leave at once during a hold, and refuses to act on a ghost", async () => {
    const { p, ctx, calls, push, elsewhere } = setup([item(1), item(2, 'x'), item(3), item(4, 'x'), item(5)]);
    await settle();
    enter(p);
    await settle();

    // Approving 3 from its row: it leaves although the list holds (x's 2 and 4 then make one row).
    rowButton(p, 3, 'approve')!.click();
    await settle();
    await push();
    expect(rowIds(p)).toEqual([1, 2, 5]);
    expect(p.el.querySelector('[data-testid=queue-item][data-item-id="2"]')?.getAttribute('data-items')).toBe('2 4');
    expect(ghostIds(p)).toEqual([]);

    // Banning x from that row resolves x's items (2 and 4) on the server: this console's, so they leave.
    rowButton(p, 2, 'ban')!.click();
    await settle();
    expect(ctx.dialog?.kind).toBe('confirm');
    (ctx.dialog!.done as (v: { reason: string }) => void)({ reason: '' });
    await settle();
    await push();
    expect(rowIds(p)).toEqual([1, 5]);

    // 1 is resolved elsewhere: a ghost; the approve key on it asks nothing of the server.
    elsewhere(1);
    await push();
    expect(ghostIds(p)).toEqual([1]);
    p.el.querySelector('[data-testid=queue-item][data-item-id="1"]')!.dispatchEvent(new MouseEvent('mousedown', { bubbles: true }));
    await settle();
    const before = calls.filter(([m]) => m === 'ResolveItem').length;
    ctx.pageKey?.(new KeyboardEvent('keydown', { key: 'a' }));
    await settle();
    expect(calls.filter(([m]) => m === 'ResolveItem').length).toBe(before);
    expect(ctx.toasts.some((t) => t.title === 'Already resolved')).toBe(true);
  });

  it('moves the selection past rows resolved elsewhere after an action', async () => {
    const { p, ctx, push, elsewhere } = setup([1, 2, 3, 4].map((i) => item(i)));
    await settle();
    enter(p);
    p.el.querySelector('[data-testid=queue-item][data-item-id="1"]')!.dispatchEvent(new MouseEvent('mousedown', { bubbles: true }));
    await settle();
    elsewhere(2, 3);
    await push();
    expect(ghostIds(p)).toEqual([2, 3]);
    ctx.pageKey?.(new KeyboardEvent('keydown', { key: 'a' }));
    await settle();
    expect(p.el.querySelector('[data-testid=queue-item][aria-selected=true]')?.getAttribute('data-item-id')).toBe('4');
  });

  it('stays held while a dialog opened from it is up, though the pointer left', async () => {
    const { p, ctx, push } = setup([item(1), item(2)]);
    await settle();
    enter(p);
    await settle();
    rowButton(p, 1, 'ban')!.click(); // ban asks first
    await settle();
    expect(ctx.dialog?.kind).toBe('confirm');
    leave(p); // the pointer goes to the dialog
    await settle();
    expect(area(p).dataset.held).toBe('true');
    await push([item(3)]);
    expect(rowIds(p)).toEqual([1, 2]);
    expect(badge(p)?.textContent).toBe('held — 1 new');
    (ctx.dialog!.done as (v: null) => void)(null); // cancelled
    ctx.dialog = null;
    await settle();
    expect(area(p).dataset.held).toBe('false');
    expect(rowIds(p)).toEqual([1, 2, 3]);
  });
});
