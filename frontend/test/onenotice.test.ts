// @vitest-environment happy-dom
// One failure, one notice: however many paths report a failed send (Act's
// answer, the action's update in one batch or several, a notice about it),
// the moderator gets one toast with the platform's reason and the typed
// text back in the send box.
import { afterEach, describe, expect, it } from 'vitest';
import type { ActionView, Batch, ChannelView } from '../src/api/types';
import Composer from '../src/ui/c/Composer.svelte';
import NoticeBar from '../src/ui/c/NoticeBar.svelte';
import type { Console } from '../src/ui/console.svelte';
import { fakeConsole, mountWith, settle, type Mounted } from './harness';

const CID = 4;
const REASON = 'Your message contains a blocked term';
const channel: ChannelView = {
  id: CID, accountId: 1, platform: 'velora', name: 'pixelpaws', readOnly: false, viewers: 0, queueOpen: 0,
  health: { status: 'connected', since: 0, reconnects: 0 },
  capabilities: { actions: { send: { supported: true } } },
};
const action = (status: string, outcome = ''): ActionView => ({ id: 77, key: 'k77', channelId: CID, platform: 'velora', kind: 'send', status, outcome, created: 1, updated: status === 'pending' ? 1 : 2 });
const batch = (ctx: Console, b: Batch) => (ctx as unknown as { onBatch(b: Batch): void }).onBatch(b);

let mounted: Mounted[] = [];
afterEach(() => {
  for (const m of mounted) m.destroy();
  mounted = [];
});

describe('one failure, one notice', () => {
  it('a send the platform refuses later: one toast with its reason, the text back', async () => {
    const { ctx } = fakeConsole({ Act: () => action('pending') });
    ctx.state.channels.set(CID, channel);
    const m = mountWith(Composer, { channelId: CID, replyTo: null }, ctx);
    mounted.push(m);
    const input = m.el.querySelector<HTMLInputElement>('[data-testid=send-input]')!;
    input.value = 'no spoiler please';
    input.dispatchEvent(new Event('input', { bubbles: true }));
    m.el.querySelector('form')!.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
    await settle();
    expect(input.value).toBe(''); // sent
    batch(ctx, { actions: [action('sent')] });
    batch(ctx, { actions: [action('failed', REASON)], notices: [{ level: 'info', channelId: CID, text: 'commandResult', at: 3 }] });
    batch(ctx, { actions: [action('failed', REASON)] }); // the same update again (a resync)
    await settle();
    expect(ctx.toasts).toHaveLength(1);
    expect(ctx.toasts[0]).toMatchObject({ level: 'error', text: REASON, title: 'Send failed in pixelpaws' });
    expect(ctx.toasts[0]!.count ?? 1).toBe(1); // not merged: reported once
    expect(input.value).toBe('no spoiler please');
  });

  it('the failure overtakes Act\'s answer on the event stream: still one toast, the text back', async () => {
    let answer: (v: ActionView) => void = () => {};
    const { ctx } = fakeConsole({ Act: () => new Promise<ActionView>((res) => { answer = res; }) });
    ctx.state.channels.set(CID, channel);
    const m = mountWith(Composer, { channelId: CID, replyTo: null }, ctx);
    mounted.push(m);
    const input = m.el.querySelector<HTMLInputElement>('[data-testid=send-input]')!;
    input.value = 'spoiler ahead';
    input.dispatchEvent(new Event('input', { bubbles: true }));
    m.el.querySelector('form')!.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
    await settle();
    batch(ctx, { actions: [action('failed', REASON)] });
    answer({ ...action('pending'), updated: 5 }); // built before the failure, stamped later
    await settle();
    expect(ctx.toasts.map((t) => [t.title, t.text, t.count ?? 1])).toEqual([['Send failed in pixelpaws', REASON, 1]]);
    expect(ctx.state.actions.get(77)?.status).toBe('failed'); // never back to pending
    expect(input.value).toBe('spoiler ahead');
  });

  it('the same notice again counts up on the toast that is up', () => {
    const { ctx } = fakeConsole();
    ctx.toast('error', REASON, 'Send failed');
    ctx.toast('error', REASON, 'Send failed');
    ctx.toast('error', 'another reason', 'Send failed');
    expect(ctx.toasts.map((t) => [t.text, t.count ?? 1])).toEqual([[REASON, 2], ['another reason', 1]]);
    ctx.closeToast(ctx.toasts[0]!.id);
    ctx.toast('error', REASON, 'Send failed');
    expect(ctx.toasts.map((t) => [t.text, t.count ?? 1])).toEqual([['another reason', 1], [REASON, 1]]);
  });

  it('a warning is a toast, not a second time in the channel\'s notice bar', () => {
    const m = mountWith(NoticeBar, { notices: [
      { level: 'warn', channelId: CID, text: 'Rule "links" could not ban x', at: 1 },
      { level: 'info', channelId: CID, text: 'notice: hello room', at: 2 },
    ], onclose: () => {} });
    mounted.push(m);
    expect([...m.el.querySelectorAll('[data-testid=channel-notice]')].map((e) => e.textContent)).toEqual([expect.stringContaining('notice: hello room')]);
    m.destroy();
    const only = mountWith(NoticeBar, { notices: [{ level: 'error', channelId: CID, text: 'x', at: 1 }], onclose: () => {} });
    mounted.push(only);
    expect(only.el.querySelector('[data-testid=channel-notices]')).toBeNull();
  });
});
