// @vitest-environment happy-dom
import { flushSync } from 'svelte';
import { afterEach, describe, expect, it } from 'vitest';
import DesktopNotify from '../src/ui/c/DesktopNotify.svelte';
import { fakeConsole, mountWith } from './harness';

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('desktop notifications opt-in', () => {
  afterEach(() => { delete (window as unknown as { go?: unknown }).go; });

  it('is not shown in a browser (no Desktop binding)', async () => {
    const { el } = mountWith(DesktopNotify, {}, fakeConsole().ctx);
    await tick();
    flushSync();
    expect(el.querySelector('[data-testid=desktop-notify]')).toBeNull();
  });

  it('reads the setting and turns it on through the binding', async () => {
    const calls: boolean[] = [];
    let s = { notify: false, canNotify: true };
    (window as unknown as { go: unknown }).go = { app: { Desktop: {
      Settings: async () => s,
      SetNotify: async (on: boolean) => { calls.push(on); s = { ...s, notify: on }; return s; },
    } } };
    const { el } = mountWith(DesktopNotify, {}, fakeConsole().ctx);
    await tick();
    flushSync();
    const box = el.querySelector<HTMLInputElement>('[data-testid=desktop-notify]');
    expect(box).not.toBeNull();
    expect(box!.checked).toBe(false);
    box!.checked = true;
    box!.dispatchEvent(new Event('change', { bubbles: true }));
    await tick();
    flushSync();
    expect(calls).toEqual([true]);
    expect(el.querySelector<HTMLInputElement>('[data-testid=desktop-notify]')!.checked).toBe(true);
  });

  it('is disabled when the session has no notification service', async () => {
    (window as unknown as { go: unknown }).go = { app: { Desktop: { Settings: async () => ({ notify: false, canNotify: false }), SetNotify: async () => { throw new Error('no'); } } } };
    const { el } = mountWith(DesktopNotify, {}, fakeConsole().ctx);
    await tick();
    flushSync();
    expect(el.querySelector<HTMLInputElement>('[data-testid=desktop-notify]')!.disabled).toBe(true);
  });
});
