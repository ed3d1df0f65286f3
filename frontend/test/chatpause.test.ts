// @vitest-environment happy-dom
import { afterEach, describe, expect, it } from 'vitest';
import type { ChannelView, MessageView } from '../src/api/types';
import { applyBatch, emptyChanges } from '../src/state/store';
import QueuesPage from '../src/ui/c/QueuesPage.svelte';
import type { Console } from '../src/ui/console.svelte';
import { fakeConsole, mountWith, settle, type Mounted } from './harness';

const CID = 3;
const channel: ChannelView = {
  id: CID, accountId: 1, platform: 'velora', name: 'lumen', readOnly: false, viewers: 0, queueOpen: 0,
  health: { status: 'connected', since: 0, reconnects: 0 },
  capabilities: { actions: { send: { supported: true }, ban: { supported: true }, timeout: { supported: true }, delete: { supported: true } } },
};
let seq = 0;
const msg = (): MessageView => {
  const id = ++seq;
  return { id, channelId: CID, platform: 'velora', platformId: `p${id}`, user: { id: `u${id}`, username: `user${id}` }, text: `line ${id}`, at: 1_700_000_000_000 + id, deleted: false, held: false };
};

/** arrive puts n new chat messages through the store and tells the page, as a flushed batch does. */
function arrive(ctx: Console, n: number): void {
  const ch = applyBatch(ctx.state, { messages: Array.from({ length: n }, msg) }, emptyChanges());
  ctx.touch(ch);
}

let mounted: Mounted[] = [];
afterEach(() => {
  for (const m of mounted) m.destroy();
  mounted = [];
});

function setup(): { ctx: Console; el: HTMLElement } {
  const { ctx } = fakeConsole();
  ctx.state.channels.set(CID, channel);
  ctx.state.historyLoaded.add(CID);
  const m = mountWith(QueuesPage, { channelId: CID }, ctx);
  mounted.push(m);
  return { ctx, el: m.el };
}

const pane = (el: HTMLElement) => el.querySelector<HTMLElement>('.pane-chat')!;
const pill = (el: HTMLElement) => el.querySelector<HTMLButtonElement>('[data-testid=chat-pause-pill]');

describe('ChatPane: chat holds still under the pointer', () => {
  it('pauses on hover, counts what arrives in the pill, resumes on leave', async () => {
    const { ctx, el } = setup();
    arrive(ctx, 5);
    await settle();
    expect(pane(el).dataset.paused).toBe('false');
    expect(pill(el)).toBeNull();
    pane(el).dispatchEvent(new PointerEvent('pointerenter', { clientX: 10, clientY: 10 }));
    await settle();
    expect(pane(el).dataset.paused).toBe('true');
    expect(pill(el)?.textContent).toBe('paused');
    arrive(ctx, 3);
    await settle();
    expect(pill(el)?.textContent).toBe('paused — 3 new');
    arrive(ctx, 1);
    await settle();
    expect(pill(el)?.dataset.new).toBe('4');
    pane(el).dispatchEvent(new PointerEvent('pointerleave'));
    await settle();
    expect(pane(el).dataset.paused).toBe('false');
    expect(pill(el)).toBeNull();
    expect(el.querySelector('[data-testid=chat-new-pill]')).toBeNull(); // resumed at the newest
  });

  it('resumes on a click on the pill until the pointer moves away', async () => {
    const { ctx, el } = setup();
    arrive(ctx, 2);
    await settle();
    pane(el).dispatchEvent(new PointerEvent('pointerenter', { clientX: 50, clientY: 50 }));
    arrive(ctx, 2);
    await settle();
    expect(pill(el)?.textContent).toBe('paused — 2 new');
    pill(el)!.dispatchEvent(new MouseEvent('click', { bubbles: true, clientX: 50, clientY: 50 }));
    await settle();
    expect(pane(el).dataset.paused).toBe('false');
    expect(pill(el)).toBeNull();
    pane(el).dispatchEvent(new PointerEvent('pointermove', { bubbles: true, clientX: 52, clientY: 51 })); // a tremor: still following
    await settle();
    expect(pane(el).dataset.paused).toBe('false');
    pane(el).dispatchEvent(new PointerEvent('pointermove', { bubbles: true, clientX: 50, clientY: 120 })); // pointing at something again
    await settle();
    expect(pane(el).dataset.paused).toBe('true');
  });

  it('stays paused while a dialog opened from chat is up', async () => {
    const { ctx, el } = setup();
    arrive(ctx, 2);
    await settle();
    pane(el).dispatchEvent(new PointerEvent('pointerenter', { clientX: 10, clientY: 10 }));
    await settle();
    const answer = ctx.confirm('Ban?', 'really', 'Ban', true);
    await settle();
    pane(el).dispatchEvent(new PointerEvent('pointerleave')); // the pointer goes to the dialog
    await settle();
    expect(pane(el).dataset.paused).toBe('true');
    ctx.dialog!.done(null as never);
    await answer;
    await settle();
    expect(pane(el).dataset.paused).toBe('false');
  });
});
