// @vitest-environment happy-dom
// The sidebar's queue badges show the server's counts (QueueCounts), the
// same number the queue header shows, not what the console happens to hold.
import { afterEach, describe, expect, it } from 'vitest';
import type { ChannelView, QueueCountsView, QueueItemView } from '../src/api/types';
import QueuesPage from '../src/ui/c/QueuesPage.svelte';
import Sidebar from '../src/ui/c/Sidebar.svelte';
import { fakeConsole, mountWith, settle, type Mounted } from './harness';

function channel(id: number, name: string): ChannelView {
  return {
    id, accountId: 1, platform: 'velora', name, readOnly: false, viewers: 0, queueOpen: 1,
    health: { status: 'connected', since: 0, reconnects: 0 }, capabilities: { actions: {}, timeoutPresets: [] },
  } as unknown as ChannelView;
}
const item = (id: number, channelId: number): QueueItemView => ({
  id, channelId, platform: 'velora', status: 'open', at: id, reasons: ['r'], ruleIds: [1],
  message: { id: 1000 + id, channelId, platform: 'velora', user: { id: `u${id}`, username: `u${id}` }, text: 'x', at: id, deleted: false, held: true },
} as unknown as QueueItemView);

let mounted: Mounted[] = [];
afterEach(() => {
  for (const m of mounted) m.destroy();
  mounted = [];
});
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
const allBadge = (m: Mounted) => m.el.querySelector('[data-testid=all-queues] .badge-queue')?.textContent ?? '';
const chanBadge = (m: Mounted, id: number) => m.el.querySelector(`[data-testid=channel][data-channel-id="${id}"] .badge-queue`)?.textContent ?? '';

describe('Sidebar: queue badges', { timeout: 20_000 }, () => {
  it('show the server\'s counts and follow them after a queue change, equal to the queue header', async () => {
    localStorage.clear();
    // The server holds far more than the console loaded (2 items): the badges must not count locally.
    let counts: QueueCountsView = { total: 1234, channels: { 1: 1000, 2: 234 }, platforms: { velora: 1234 } };
    const { ctx } = fakeConsole({ QueueCounts: () => counts });
    ctx.state.channels.set(1, channel(1, 'alpha'));
    ctx.state.channels.set(2, channel(2, 'beta'));
    ctx.state.queue.set(1, item(1, 1));
    ctx.state.queue.set(2, item(2, 2));
    ctx.loadedQueue = true;
    const side = mountWith(Sidebar, {}, ctx);
    mounted.push(side);
    expect(allBadge(side)).toBe('2'); // before any answer: what the console has
    ctx.touch({ queue: true });
    await wait(400);
    await settle();
    expect(allBadge(side)).toBe('1234');
    expect(chanBadge(side, 1)).toBe('1000');
    expect(chanBadge(side, 2)).toBe('234');

    const page = mountWith(QueuesPage, { channelId: 0 }, ctx);
    mounted.push(page);
    await settle();
    expect(page.el.querySelector('[data-testid=queue-count]')?.getAttribute('data-count')).toBe(allBadge(side));

    // A queue change: the server now counts fewer; a channel with none has no badge.
    counts = { total: 1000, channels: { 1: 1000 }, platforms: { velora: 1000 } };
    ctx.touch({ queue: true });
    await wait(400);
    await settle();
    expect(allBadge(side)).toBe('1000');
    expect(chanBadge(side, 2)).toBe('');
    expect(page.el.querySelector('[data-testid=queue-count]')?.getAttribute('data-count')).toBe('1000');
  });
});

describe('Sidebar: team mode holder', { timeout: 20_000 }, () => {
  it('says when another console instance holds a channel, and not for one held here or outside team mode', async () => {
    localStorage.clear();
    const { ctx } = fakeConsole({});
    ctx.state.channels.set(1, { ...channel(1, 'alpha'), holder: 'host-1-abc', heldHere: false });
    ctx.state.channels.set(2, { ...channel(2, 'beta'), holder: 'host-2-def', heldHere: true });
    ctx.state.channels.set(3, channel(3, 'gamma'));
    const side = mountWith(Sidebar, {}, ctx);
    mounted.push(side);
    await settle();
    const holder = (id: number) => side.el.querySelector(`[data-testid=channel][data-channel-id="${id}"] [data-testid=holder]`);
    expect(holder(1)?.textContent).toBe('via another instance');
    expect(holder(1)?.getAttribute('title')).toContain('host-1-abc');
    expect(holder(2)).toBeNull();
    expect(holder(3)).toBeNull();
  });
});
