// @vitest-environment happy-dom
// The queue page against a fake server: pages, the server's count, the
// selection moving on after each action, bulk select and runs of one user.
import { afterEach, describe, expect, it } from 'vitest';
import type { ChannelView, MessageView, QueueItemView } from '../src/api/types';
import { applyBatch } from '../src/state/store';
import QueuesPage from '../src/ui/c/QueuesPage.svelte';
import { fakeConsole, mountWith, queueServer, settle, type Mounted } from './harness';

const all = ['ban', 'timeout', 'delete', 'pin'] as const;
function channel(id: number): ChannelView {
  return {
    id, accountId: 1, platform: 'velora', name: `chan${id}`, readOnly: false, viewers: 0, queueOpen: 0,
    health: { status: 'connected', since: 0, reconnects: 0 },
    capabilities: { actions: Object.fromEntries(all.map((k) => [k, { supported: true }])), timeoutPresets: [600] },
  } as unknown as ChannelView;
}
const msg = (id: number, user: string): MessageView => ({
  id: 1000 + id, channelId: 1, platform: 'velora', platformId: `p${id}`, user: { id: user, username: user }, text: `m${id}`, at: 1_700_000_000_000 + id, deleted: false, held: true,
});
const item = (id: number, user = `u${id}`): QueueItemView => ({ id, channelId: 1, platform: 'velora', message: msg(id, user), ruleIds: [1], reasons: ['r'], status: 'open', at: 1_700_000_000_000 + id, strikes: id === 2 ? 3 : undefined });

let mounted: Mounted[] = [];
afterEach(() => {
  for (const m of mounted) m.destroy();
  mounted = [];
});

function setup(items: QueueItemView[], extra: Record<string, (...a: unknown[]) => unknown> = {}) {
  localStorage.clear();
  const { server, answers } = queueServer(items);
  const { ctx, calls } = fakeConsole({
    ...answers,
    QueueCounts: () => ({ total: 4242, channels: { 1: 4242 }, platforms: { velora: 4242 } }),
    ...extra,
  });
  ctx.state.channels.set(1, channel(1));
  ctx.state.historyLoaded.add(1);
  const p = mountWith(QueuesPage, { channelId: 0 }, ctx);
  mounted.push(p);
  /** push sends the server's changed items to the page as the event stream would. */
  const push = async () => {
    applyBatch(ctx.state, { queue: [...server.values()].filter((it) => it.status !== 'open') });
    ctx.touch({ queue: true });
    await settle();
  };
  return { ctx, calls, p, server, push };
}

const rowIds = (p: Mounted) => [...p.el.querySelectorAll('[data-testid=queue-item]')].map((e) => Number(e.getAttribute('data-item-id')));
const selectedId = (p: Mounted) => Number(p.el.querySelector('[data-testid=queue-item][aria-selected=true]')?.getAttribute('data-item-id') ?? 0);
const press = (ctx: ReturnType<typeof setup>['ctx'], k: string) => ctx.pageKey?.(new KeyboardEvent('keydown', { key: k }));
const down = (p: Mounted, id: number, init: MouseEventInit = {}) =>
  p.el.querySelector(`[data-testid=queue-item][data-item-id="${id}"]`)!.dispatchEvent(new MouseEvent('mousedown', { bubbles: true, ...init }));
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('QueuesPage: the queue never hides work', { timeout: 30_000 }, () => {
  it('pages items in from the server and shows the server\'s count', async () => {
    const { p, calls } = setup(Array.from({ length: 30 }, (_, i) => item(i + 1)));
    await settle();
    await wait(300);
    await settle();
    expect(calls.some(([m]) => m === 'QueuePage')).toBe(true);
    expect(rowIds(p).slice(0, 3)).toEqual([1, 2, 3]);
    expect(p.el.querySelector('[data-testid=queue-count]')?.getAttribute('data-count')).toBe('4242');
    expect(p.el.querySelector('[data-testid=strikes]')?.textContent).toBe('3 strikes in 30 days');
    expect(p.el.querySelector('[data-testid=row-platform]')?.textContent).toBe('Velora');
  });
});

describe('QueuesPage: triage', { timeout: 30_000 }, () => {
  it('moves to the next item after each key, also when the next one leaves with a ban', async () => {
    const { p, ctx, push } = setup([item(1), item(2), item(3), item(4, 'x'), item(5), item(6, 'x'), item(7)]);
    await settle();
    down(p, 1);
    await settle();
    expect(selectedId(p)).toBe(1);
    press(ctx, 'a');
    await settle();
    expect(selectedId(p)).toBe(2);
    await push();
    expect(rowIds(p)).not.toContain(1);
    press(ctx, 'd');
    await settle();
    expect(selectedId(p)).toBe(3);
    await push();
    press(ctx, 't');
    await settle();
    expect(selectedId(p)).toBe(4);
    await push();
    // Ban x from 4: the next row (5) stays; x's other item (6) goes too.
    press(ctx, 'b');
    await settle();
    // Ban asks by default (the Dialogs component is not mounted here: answer the request).
    expect(ctx.dialog?.kind).toBe('confirm');
    (ctx.dialog!.done as (v: { reason: string }) => void)({ reason: '' });
    await settle();
    expect(selectedId(p)).toBe(5);
    await push();
    expect(rowIds(p)).toEqual([5, 7]);
    press(ctx, 'x');
    await settle();
    expect(selectedId(p)).toBe(7);
  });

  it('selects a range with shift, toggles with space, and dismisses the selection', async () => {
    const { p, ctx, server, push } = setup([item(1), item(2), item(3), item(4), item(5)]);
    await settle();
    down(p, 1);
    down(p, 4, { shiftKey: true });
    await settle();
    expect(p.el.querySelector('[data-testid=bulk-count]')?.textContent).toBe('4 selected');
    press(ctx, ' '); // the current row (4) out
    await settle();
    expect(p.el.querySelector('[data-testid=bulk-count]')?.textContent).toBe('3 selected');
    down(p, 5, { ctrlKey: true });
    await settle();
    expect(p.el.querySelector('[data-testid=bulk-count]')?.textContent).toBe('4 selected');
    press(ctx, 'd');
    await settle();
    await push();
    expect([...server.values()].filter((it) => it.status === 'dismissed').map((it) => it.id)).toEqual([1, 2, 3, 5]);
    expect(rowIds(p)).toEqual([4]);
    expect(p.el.querySelector('[data-testid=bulk-bar]')).toBeNull();
  });

  it('groups a run of one user into one row, expands it with e, and approves the whole run', async () => {
    const { p, ctx, server, push } = setup([item(1, 'a'), item(2, 'a'), item(3, 'a'), item(4, 'b')]);
    await settle();
    expect(rowIds(p)).toEqual([1, 4]);
    expect(p.el.querySelector('[data-testid=group-toggle]')?.textContent).toContain('×3');
    down(p, 1);
    press(ctx, 'e');
    await settle();
    expect(rowIds(p)).toEqual([1, 2, 3, 4]);
    press(ctx, 'e');
    await settle();
    expect(rowIds(p)).toEqual([1, 4]);
    press(ctx, 'a');
    await settle();
    await push();
    expect([...server.values()].filter((it) => it.status === 'approved').map((it) => it.id)).toEqual([1, 2, 3]);
    expect(selectedId(p)).toBe(4);
  });
});
