// @vitest-environment happy-dom
// Claims in the queue (team mode): who is looking at what, opening an item
// claims it, "next item" (n) takes the server's pick, and acting on an item
// someone else is looking at asks first.
import { afterEach, describe, expect, it } from 'vitest';
import type { ChannelView, ClaimView, MessageView, QueueItemView } from '../src/api/types';
import { ClaimSet } from '../src/ui/claims';
import QueuesPage from '../src/ui/c/QueuesPage.svelte';
import { fakeConsole, mountWith, settle, type Mounted } from './harness';

const all = ['ban', 'timeout', 'delete', 'pin'] as const;
const channel = (id: number): ChannelView => ({
  id, accountId: 1, platform: 'velora', name: `chan${id}`, readOnly: false, viewers: 0, queueOpen: 0,
  health: { status: 'connected', since: 0, reconnects: 0 },
  capabilities: { actions: Object.fromEntries(all.map((k) => [k, { supported: true }])), timeoutPresets: [600] },
} as unknown as ChannelView);
const msg = (id: number): MessageView => ({
  id: 1000 + id, channelId: 1, platform: 'velora', platformId: `p${id}`, user: { id: `u${id}`, username: `u${id}` }, text: `m${id}`, at: 1_700_000_000_000 + id, deleted: false, held: true,
});
const item = (id: number, claimedBy?: string): QueueItemView => ({
  id, channelId: 1, platform: 'velora', message: msg(id), ruleIds: [1], reasons: ['r'], status: 'open', at: 1_700_000_000_000 + id,
  ...(claimedBy ? { claimedBy, claimExpires: Date.now() + 120_000 } : {}),
});

let mounted: Mounted[] = [];
afterEach(() => {
  for (const m of mounted) m.destroy();
  mounted = [];
});
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('ClaimSet', () => {
  it('keeps the newest claim per item, ends it on by "", ignores expired ones and my own', () => {
    const c = new ClaimSet();
    c.me = 'ann';
    const now = 1_000;
    expect(c.apply([{ itemId: 1, channelId: 1, by: 'bo', expires: 2_000 }, { itemId: 2, channelId: 1, by: 'ann', expires: 2_000 }])).toBe(true);
    expect(c.other([1], now)?.by).toBe('bo');
    expect(c.other([2], now)).toBeNull(); // mine
    expect(c.holder(2, now)?.by).toBe('ann');
    expect(c.other([1], 2_000)).toBeNull(); // expired
    expect(c.apply([{ itemId: 1, channelId: 1, by: 'bo', expires: 2_000 }])).toBe(false); // nothing new
    expect(c.apply([{ itemId: 1, channelId: 1, by: '', expires: 0 }])).toBe(true);
    expect(c.other([1, 2], now)).toBeNull();
    // Items read from the server: claimedBy sets, its absence clears.
    c.fromItems([item(3, 'cy')]);
    expect(c.other([3], Date.now())?.by).toBe('cy');
    c.fromItems([item(3)]);
    expect(c.other([3], Date.now())).toBeNull();
    expect(c.apply([null as unknown as ClaimView, { itemId: 'x' } as unknown as ClaimView])).toBe(false);
  });
});

describe('QueuesPage: claims', { timeout: 30_000 }, () => {
  function setup(items: QueueItemView[], answers: Record<string, (...a: unknown[]) => unknown> = {}) {
    localStorage.clear();
    const { ctx, calls } = fakeConsole({
      ClaimItems: (ids) => (ids as number[]).map((id) => ({ itemId: id, channelId: 1, by: ctx.state.queue.get(id)?.claimedBy || 'ann', expires: Date.now() + 120_000 })),
      ResolveItem: (id, status) => ({ ...ctx.state.queue.get(id as number)!, status }),
      ...answers,
    });
    ctx.claims.me = 'ann';
    ctx.state.channels.set(1, channel(1));
    ctx.state.historyLoaded.add(1);
    for (const it of items) ctx.state.queue.set(it.id, it);
    const p = mountWith(QueuesPage, { channelId: 0 }, ctx);
    mounted.push(p);
    return { ctx, calls, p };
  }
  const row = (p: Mounted, id: number) => p.el.querySelector(`[data-testid=queue-item][data-item-id="${id}"]`)!;
  const down = (p: Mounted, id: number) => row(p, id).dispatchEvent(new MouseEvent('mousedown', { bubbles: true }));
  const press = (ctx: ReturnType<typeof setup>['ctx'], k: string) => ctx.pageKey?.(new KeyboardEvent('keydown', { key: k }));

  it('shows who else is looking, claims the opened item, and asks before acting on someone else\'s', async () => {
    const { p, ctx, calls } = setup([item(1), item(2, 'bo'), item(3, 'ann')]);
    await settle();
    expect(row(p, 2).querySelector('[data-testid=claimed-by]')?.textContent).toBe('claimed by bo');
    expect(row(p, 1).querySelector('[data-testid=claimed-by]')).toBeNull();
    expect(row(p, 3).querySelector('[data-testid=claimed-by]')).toBeNull(); // my own
    // Opening item 1 claims it once the selection rests.
    down(p, 1);
    await settle();
    await wait(400);
    await settle();
    expect(calls.filter(([m]) => m === 'ClaimItems').map(([, a]) => a[0])).toEqual([[1]]);
    // A claim arriving in a batch shows at once.
    ctx.setClaims([{ itemId: 1, channelId: 1, by: 'cy', expires: Date.now() + 60_000 }]);
    ctx.touch();
    await settle();
    expect(row(p, 1).querySelector('[data-testid=claimed-by]')?.textContent).toBe('claimed by cy');
    ctx.setClaims([{ itemId: 1, channelId: 1, by: '', expires: 0 }]);
    ctx.touch();
    await settle();
    expect(row(p, 1).querySelector('[data-testid=claimed-by]')).toBeNull();
    // bo's item: the detail says so, and approving asks; cancel leaves it alone.
    down(p, 2);
    await settle();
    expect(p.el.querySelector('[data-testid=claim-note]')?.textContent).toContain('bo is looking at this item');
    press(ctx, 'a');
    await settle();
    expect(ctx.dialog?.kind).toBe('confirm');
    expect((ctx.dialog as { title: string }).title).toBe('bo is looking at this item');
    (ctx.dialog!.done as (v: null) => void)(null);
    await settle();
    expect(calls.some(([m]) => m === 'ResolveItem')).toBe(false);
    // Asked again and confirmed: it goes ahead.
    press(ctx, 'a');
    await settle();
    (ctx.dialog!.done as (v: { reason: string }) => void)({ reason: '' });
    await settle();
    expect(calls.filter(([m]) => m === 'ResolveItem').map(([, a]) => a)).toEqual([[2, 'approved']]);
  });

  it('n takes the server\'s next item and opens it; none left says so', async () => {
    let next: QueueItemView | null = item(3);
    const { p, ctx, calls } = setup([item(1, 'bo'), item(2, 'cy'), item(3)], { ClaimNext: () => ({ item: next ? { ...next, claimedBy: 'ann', claimExpires: Date.now() + 120_000 } : undefined }) });
    await settle();
    press(ctx, 'n');
    await settle();
    await settle();
    expect(calls.find(([m]) => m === 'ClaimNext')?.[1][0]).toMatchObject({ channelId: 0, order: 'oldest' });
    expect(p.el.querySelector('[data-testid=queue-item][aria-selected=true]')?.getAttribute('data-item-id')).toBe('3');
    expect(row(p, 3).querySelector('[data-testid=claimed-by]')).toBeNull(); // mine
    next = null;
    (p.el.querySelector('[data-testid=claim-next]') as HTMLButtonElement).click();
    await settle();
    expect(ctx.toasts.some((t) => t.title === 'No item left to claim')).toBe(true);
  });

  it('stops claiming when the role may not (an observer)', async () => {
    const { p, calls } = setup([item(1), item(2)], { ClaimItems: () => { throw new Error('role observer may not call ClaimItems (needs moderator)'); } });
    await settle();
    down(p, 1);
    await settle();
    await wait(400);
    down(p, 2);
    await settle();
    await wait(400);
    await settle();
    expect(calls.filter(([m]) => m === 'ClaimItems').length).toBe(1);
  });
});
