// @vitest-environment happy-dom
// The pin bar's Unpin: offered where the platform can unpin, and it asks
// the service to unpin the channel's pinned message (no message named: the
// service knows which one the platform pinned).
import { afterEach, describe, expect, it } from 'vitest';
import type { ChannelView } from '../src/api/types';
import ChannelHeader from '../src/ui/c/ChannelHeader.svelte';
import { fakeConsole, mountWith, settle, type Mounted } from './harness';

let mounted: Mounted[] = [];
afterEach(() => {
  for (const m of mounted) m.destroy();
  mounted = [];
});

function channel(unpin: boolean): ChannelView {
  return {
    id: 4, accountId: 1, platform: 'velora', name: 'lumen', readOnly: false, viewers: 0, queueOpen: 0,
    health: { status: 'connected', since: 0, reconnects: 0 },
    capabilities: { actions: { unpin: { supported: unpin, inferred: true, note: 'Removes the pin of the message' } } },
    pinned: { text: 'rules in the panel', user: 'streamer' },
  } as unknown as ChannelView;
}

function setup(unpin: boolean) {
  const { ctx, calls } = fakeConsole({ Act: (req) => ({ id: 9, status: 'pending', kind: (req as { kind: string }).kind, channelId: 4 }) });
  ctx.state.channels.set(4, channel(unpin));
  const m = mountWith(ChannelHeader, { channelId: 4 }, ctx);
  mounted.push(m);
  return { el: m.el, calls };
}

describe('ChannelHeader: the pinned message', () => {
  it('offers Unpin where the platform can unpin, and unpins the channel\'s pin', async () => {
    const { el, calls } = setup(true);
    await settle();
    expect(el.querySelector('.pin-text')?.textContent).toBe('rules in the panel');
    const btn = el.querySelector<HTMLButtonElement>('[data-testid=unpin]');
    expect(btn).not.toBeNull();
    expect(btn!.classList.contains('btn-inferred')).toBe(true);
    btn!.click();
    await settle();
    const act = calls.filter(([m]) => m === 'Act');
    expect(act).toHaveLength(1);
    expect(act[0]![1][0]).toEqual({ channelId: 4, kind: 'unpin' });
  });

  it('offers no Unpin where the platform cannot unpin', async () => {
    const { el } = setup(false);
    await settle();
    expect(el.querySelector('.pin-text')?.textContent).toBe('rules in the panel');
    expect(el.querySelector('[data-testid=unpin]')).toBeNull();
  });
});
