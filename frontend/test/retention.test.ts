// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import RetentionSettings from '../src/ui/c/RetentionSettings.svelte';
import { fakeConsole, mountWith, settle } from './harness';
import type { RetentionView } from '../src/api/types';

const MB = 1024 * 1024;

function setValue(el: HTMLInputElement, v: string): void {
  el.value = v;
  el.dispatchEvent(new Event('input', { bubbles: true }));
}

describe('retention settings', () => {
  it('shows the stored setting and saves days, size budget and a channel override', async () => {
    let stored: RetentionView = { days: 90, channels: { 7: 0 }, maxBytes: 0, usedBytes: 5 * MB };
    const { ctx, calls } = fakeConsole({
      Retention: () => stored,
      SetRetention: (v: unknown) => { stored = { ...(v as RetentionView), usedBytes: 4 * MB }; return stored; },
    });
    ctx.state.channels = new Map([
      [7, { id: 7, accountId: 1, platform: 'velora', name: 'lumen' } as never],
      [8, { id: 8, accountId: 1, platform: 'kichat', name: 'other' } as never],
    ]);
    const { el, destroy } = mountWith(RetentionSettings, {}, ctx);
    await settle();
    const days = el.querySelector<HTMLInputElement>('[data-testid=retention-days]')!;
    const size = el.querySelector<HTMLInputElement>('[data-testid=retention-size]')!;
    const chans = [...el.querySelectorAll<HTMLInputElement>('[data-testid=retention-channel]')];
    expect(days.value).toBe('90');
    expect(size.value).toBe('0');
    expect(el.textContent).toContain('5.0 MB now');
    expect(chans.map((c) => c.value)).toEqual(['0', '']);
    setValue(days, '30');
    setValue(size, '500');
    setValue(chans[1]!, '7');
    await settle();
    el.querySelector<HTMLButtonElement>('[data-testid=retention-save]')!.click();
    await settle();
    const saved = calls.filter(([m]) => m === 'SetRetention');
    expect(saved).toHaveLength(1);
    expect(saved[0]![1][0]).toEqual({ days: 30, channels: { 7: 0, 8: 7 }, maxBytes: 500 * MB, usedBytes: 0 });
    expect(el.textContent).toContain('4.0 MB now');
    destroy();
  });

  it('refuses days that are not a whole number without calling the backend', async () => {
    const { ctx, calls } = fakeConsole({ Retention: () => ({ days: 90, channels: {}, maxBytes: 0, usedBytes: 0 }) });
    const { el, destroy } = mountWith(RetentionSettings, {}, ctx);
    await settle();
    setValue(el.querySelector<HTMLInputElement>('[data-testid=retention-days]')!, '3.5');
    await settle();
    el.querySelector<HTMLButtonElement>('[data-testid=retention-save]')!.click();
    await settle();
    expect(calls.some(([m]) => m === 'SetRetention')).toBe(false);
    destroy();
  });
});
