// @vitest-environment happy-dom
import { afterEach, describe, expect, it } from 'vitest';
import MessageText from '../src/ui/c/MessageText.svelte';
import UserName from '../src/ui/c/UserName.svelte';
import { safeColor, safeHttpUrl } from '../src/ui/render';
import { h } from '../src/ui/dom';
import { fakeConsole, mountWith, type Mounted } from './harness';
import type { Token } from '../src/api/types';

const HOSTILE = [
  '<img src=x onerror="window.__xss=1">',
  '<script>window.__xss=1</script>',
  '<svg onload="window.__xss=1">',
  '"><iframe src="javascript:alert(1)"></iframe>',
  "' onmouseover='alert(1)",
  '&lt;b&gt;&amp;',
];

let mounted: Mounted[] = [];
const text = (props: { text: string; tokens?: Token[] | null }) => {
  const m = mountWith(MessageText, { m: props });
  mounted.push(m);
  return m.el.querySelector('.msg-text')!;
};
afterEach(() => {
  for (const m of mounted) m.destroy();
  mounted = [];
});

describe('MessageText', () => {
  it('turns hostile text into text only', () => {
    for (const s of HOSTILE) {
      const el = text({ text: s, tokens: null });
      expect(el.textContent).toBe(s);
      expect(el.querySelectorAll('*').length).toBe(0);
    }
  });

  it('renders emotes as img only for http(s) URLs, with text alt/title', () => {
    const el = text({ text: '', tokens: [{ kind: 'emote', text: HOSTILE[0]!, url: 'https://cdn.example/e.png' }] });
    const img = el.querySelector('img')!;
    expect(img.getAttribute('src')).toBe('https://cdn.example/e.png');
    expect(img.getAttribute('alt')).toBe(HOSTILE[0]);
    expect([...img.attributes].some((a) => a.name.startsWith('on'))).toBe(false);
    for (const url of ['javascript:alert(1)', 'data:image/svg+xml,<svg onload=alert(1)>', 'x', '']) {
      const t = text({ text: '', tokens: [{ kind: 'emote', text: 'Kappa', url }] });
      expect(t.querySelectorAll('*').length).toBe(0);
      expect(t.textContent).toBe('Kappa');
    }
  });

  it('renders links safely', () => {
    const el = text({ text: '', tokens: [{ kind: 'link', text: '<b>x</b>', url: 'https://example.org/' }] });
    const a = el.querySelector('a')!;
    expect(a.getAttribute('rel')).toContain('noopener');
    expect(a.getAttribute('target')).toBe('_blank');
    expect(a.textContent).toBe('<b>x</b>');
    expect(a.querySelectorAll('*').length).toBe(0);
    const bad = text({ text: '', tokens: [{ kind: 'link', text: 'javascript:alert(1)', url: 'javascript:alert(1)' }] });
    expect(bad.querySelector('a')).toBeNull();
    expect(bad.textContent).toBe('javascript:alert(1)');
  });

  it('mixes tokens without creating other elements', () => {
    const el = text({ text: '', tokens: HOSTILE.map((t) => ({ kind: 'text' as const, text: t })) });
    expect(el.querySelectorAll('*').length).toBe(0);
    expect(el.textContent).toBe(HOSTILE.join(''));
  });
});

describe('names and colours', () => {
  it('uses only safe colours and text names', () => {
    expect(safeColor('#a1b2c3')).toBe('#a1b2c3');
    expect(safeColor('red;background:url(x)')).toBe('');
    expect(safeColor('#12345678')).toBe('#12345678');
    expect(safeHttpUrl('javascript:alert(1)')).toBe('');
    const m = mountWith(UserName, { u: { id: '1', username: 'x', displayName: HOSTILE[2], color: 'expression(alert(1))' } }, fakeConsole().ctx);
    mounted.push(m);
    const u = m.el.querySelector('.user')!;
    expect(u.textContent).toBe(HOSTILE[2]);
    expect(u.children.length).toBe(0);
    expect(u.getAttribute('style')).toBeNull();
    const ok = mountWith(UserName, { u: { id: '2', username: 'y', color: '#ff0000' } }, fakeConsole().ctx);
    mounted.push(ok);
    expect((ok.el.querySelector('.user') as HTMLElement).style.color).not.toBe('');
  });

  it('h() never parses strings and refuses event-handler attributes', () => {
    const el = h('div', null, HOSTILE[0]!, h('span', null, HOSTILE[1]!));
    expect(el.querySelectorAll('img, script').length).toBe(0);
    expect(() => h('div', { attrs: { onclick: 'alert(1)' } })).toThrow();
  });
});
