// @vitest-environment happy-dom
// The charts' data (RateStore), the theme switch (Theme), readable user
// colours (contrast.ts) and the sidebar's sparkline.
import { afterEach, describe, expect, it } from 'vitest';
import { flushSync } from 'svelte';
import { MINUTE, RateStore, minuteOf } from '../src/state/rates';
import { THEME_STORAGE_KEY, Theme, parsePref, type ThemeHost } from '../src/ui/theme.svelte';
import { contrast, parseHex, readableColor } from '../src/ui/contrast';
import Sparkline from '../src/ui/c/Sparkline.svelte';
import UserName from '../src/ui/c/UserName.svelte';
import { fakeConsole, mountWith, type Mounted } from './harness';

const T0 = Date.UTC(2026, 10, 25, 18, 0, 0);

describe('RateStore', () => {
  it('fills the window with zeros and puts each minute in its place', () => {
    const s = new RateStore();
    s.load({ since: T0, minutes: 5, points: [
      { channelId: 1, minute: T0 + MINUTE, messages: 4, held: 1, actions: 0 },
      { channelId: 2, minute: T0 + 3 * MINUTE, messages: 7, held: 0, actions: 2 },
    ] });
    const a = s.series(1, T0 + 4 * MINUTE + 5_000, 5);
    expect(a.minutes).toEqual([0, 1, 2, 3, 4].map((i) => T0 + i * MINUTE));
    expect(a.messages).toEqual([0, 4, 0, 0, 0]);
    expect(a.held).toEqual([0, 1, 0, 0, 0]);
    const all = s.series(0, T0 + 4 * MINUTE, 5);
    expect(all.messages).toEqual([0, 4, 0, 7, 0]);
    expect(all.actions).toEqual([0, 0, 0, 2, 0]);
  });

  it('adds the batches to the loaded counts and ignores bad points', () => {
    const s = new RateStore();
    s.load({ since: T0, minutes: 2, points: [{ channelId: 1, minute: T0, messages: 2, held: 0, actions: 0 }] });
    expect(s.add([
      { channelId: 1, minute: T0 + 30_000, messages: 3, held: 1, actions: 1 },
      { channelId: 0, minute: T0, messages: 100, held: 0, actions: 0 },
      { channelId: 1, minute: Number.NaN, messages: 100, held: 0, actions: 0 },
      { channelId: 1, minute: T0, messages: -5, held: 0, actions: 0 },
    ])).toBe(true);
    expect(s.series(1, T0, 1).messages).toEqual([5]);
    expect(s.add(null)).toBe(false);
    expect(s.add([])).toBe(false);
  });

  it('a load replaces the minutes it covers (no double counting) and keeps older ones', () => {
    const s = new RateStore();
    s.add([{ channelId: 1, minute: T0, messages: 9, held: 0, actions: 0 }, { channelId: 1, minute: T0 + MINUTE, messages: 9, held: 0, actions: 0 }]);
    s.load({ since: T0 + MINUTE, minutes: 1, points: [{ channelId: 1, minute: T0 + MINUTE, messages: 10, held: 0, actions: 0 }] }, 1);
    expect(s.series(1, T0 + MINUTE, 2).messages).toEqual([9, 10]);
  });

  it('prunes old minutes and forgets channels', () => {
    const s = new RateStore();
    s.add([{ channelId: 1, minute: T0, messages: 1, held: 0, actions: 0 }, { channelId: 2, minute: T0 + 10 * MINUTE, messages: 1, held: 0, actions: 0 }]);
    s.prune(T0 + MINUTE);
    expect(s.series(1, T0 + 10 * MINUTE, 11).messages.reduce((a, b) => a + b)).toBe(0);
    expect(s.series(2, T0 + 10 * MINUTE, 1).messages).toEqual([1]);
    s.forget(2);
    expect(s.series(0, T0 + 10 * MINUTE, 1).messages).toEqual([0]);
    expect(minuteOf(T0 + 59_999)).toBe(T0);
  });
});

class MemStorage {
  data = new Map<string, string>();
  getItem(k: string) { return this.data.get(k) ?? null; }
  setItem(k: string, v: string) { this.data.set(k, v); }
  removeItem(k: string) { this.data.delete(k); }
}

function host(light: boolean): ThemeHost & { flip(v: boolean): void; el: HTMLElement } {
  const el = document.createElement('html');
  let fn: (() => void) | null = null;
  const mq = { matches: light, addEventListener: (_t: 'change', f: () => void) => { fn = f; } };
  return { el, document: { documentElement: el }, matchMedia: () => mq, flip(v: boolean) { mq.matches = v; fn?.(); } };
}

describe('Theme', () => {
  it('follows the system in auto and its changes', () => {
    const h = host(true);
    const t = new Theme(new MemStorage() as unknown as Storage, h);
    expect(t.pref).toBe('auto');
    expect(h.el.dataset.theme).toBe('light');
    h.flip(false);
    expect(h.el.dataset.theme).toBe('dark');
    expect(t.effective).toBe('dark');
  });

  it('a choice overrides the system and is kept; auto removes it', () => {
    const st = new MemStorage();
    const h = host(true);
    const t = new Theme(st as unknown as Storage, h);
    t.set('dark');
    expect(h.el.dataset.theme).toBe('dark');
    expect(st.getItem(THEME_STORAGE_KEY)).toBe('dark');
    h.flip(true);
    expect(h.el.dataset.theme).toBe('dark');
    const again = new Theme(st as unknown as Storage, host(true));
    expect(again.pref).toBe('dark');
    t.set('auto');
    expect(st.getItem(THEME_STORAGE_KEY)).toBeNull();
    expect(h.el.dataset.theme).toBe('light');
  });

  it('reads junk and a failing storage as auto', () => {
    expect(parsePref('<script>')).toBe('auto');
    const bad = { getItem() { throw new Error('denied'); }, setItem() { throw new Error('full'); }, removeItem() {} };
    const t = new Theme(bad as unknown as Storage, host(false));
    expect(t.pref).toBe('auto');
    t.set('light');
    expect(t.effective).toBe('light');
  });
});

describe('readable user colours', () => {
  const sel = { dark: parseHex('#233247')!, light: parseHex('#dbe8fb')! };
  it('keeps readable colours and moves unreadable ones just enough', () => {
    expect(readableColor('#ffffff', 'dark')).toBe('#ffffff');
    expect(readableColor('#000000', 'light')).toBe('#000000');
    for (const c of ['#000000', '#0000ff', '#ff0000', '#5a2020', '#123']) {
      const out = readableColor(c, 'dark');
      expect(contrast(parseHex(out)!, sel.dark)).toBeGreaterThanOrEqual(4.5);
    }
    for (const c of ['#ffff00', '#ffffff', '#ff9900', '#2ad4ff', '#ff69b4']) {
      const out = readableColor(c, 'light');
      expect(contrast(parseHex(out)!, sel.light)).toBeGreaterThanOrEqual(4.5);
      expect(out).not.toBe('#000000');
    }
    expect(readableColor('expression(alert(1))', 'dark')).toBe('');
    expect(readableColor('', 'light')).toBe('');
  });
});

describe('Sparkline and UserName', () => {
  const mounted: Mounted[] = [];
  afterEach(() => { while (mounted.length) mounted.pop()!.destroy(); });

  it('draws the values scaled to their maximum, newest on the right', () => {
    const m = mountWith(Sparkline, { values: [0, 5, 10], label: 'rate', width: 42, height: 12 });
    mounted.push(m);
    const line = m.el.querySelector('.spark-line')!.getAttribute('d');
    expect(line).toBe('M1.0,11.0L21.0,6.0L41.0,1.0');
    expect(m.el.querySelector('svg')!.getAttribute('data-values')).toBe('0,5,10');
    expect(m.el.querySelector('title')!.textContent).toBe('rate');
    // A round ceiling: 7 of 10 is drawn at 70 % of the height, and moves when the count grows.
    const g = mountWith(Sparkline, { values: [0, 7], label: 'rate', width: 42, height: 12 });
    mounted.push(g);
    expect(g.el.querySelector('.spark-line')!.getAttribute('d')).toBe('M1.0,11.0L41.0,4.0');
  });

  it('colours names for the theme in force', () => {
    const { ctx } = fakeConsole();
    ctx.theme.set('light');
    const m = mountWith(UserName, { u: { id: '1', username: 'y', color: '#ffff00' } }, ctx);
    mounted.push(m);
    const el = m.el.querySelector('.user') as HTMLElement;
    const light = el.style.color;
    ctx.theme.set('dark');
    flushSync();
    expect(el.style.color).not.toBe(light);
    ctx.theme.set('auto');
  });
});
