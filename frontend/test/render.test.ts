// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { renderText, renderToken, renderUser, safeColor, safeHttpUrl } from '../src/ui/render';
import { h } from '../src/ui/dom';

const HOSTILE = [
  '<img src=x onerror="window.__xss=1">',
  '<script>window.__xss=1</script>',
  '<svg onload="window.__xss=1">',
  '"><iframe src="javascript:alert(1)"></iframe>',
  "' onmouseover='alert(1)",
  '&lt;b&gt;&amp;',
];

function elementsIn(n: Node): Element[] {
  const d = document.createElement('div');
  d.appendChild(n);
  return [...d.querySelectorAll('*')];
}

describe('render', () => {
  it('turns hostile text into text nodes only', () => {
    for (const s of HOSTILE) {
      const f = renderText({ text: s, tokens: null });
      expect(f.childNodes.length).toBe(1);
      expect(f.firstChild?.nodeType).toBe(Node.TEXT_NODE);
      const d = document.createElement('div');
      d.appendChild(f);
      expect(d.textContent).toBe(s);
      expect(d.querySelectorAll('*').length).toBe(0);
    }
  });

  it('renders emotes as img only for http(s) URLs, with text alt/title', () => {
    const img = renderToken({ kind: 'emote', text: HOSTILE[0]!, url: 'https://cdn.example/e.png' }) as HTMLImageElement;
    expect(img.tagName).toBe('IMG');
    expect(img.getAttribute('src')).toBe('https://cdn.example/e.png');
    expect(img.alt).toBe(HOSTILE[0]);
    expect([...img.attributes].some((a) => a.name.startsWith('on'))).toBe(false);
    for (const url of ['javascript:alert(1)', 'data:image/svg+xml,<svg onload=alert(1)>', 'x', '']) {
      const n = renderToken({ kind: 'emote', text: 'Kappa', url });
      expect(n.nodeType).toBe(Node.TEXT_NODE);
    }
  });

  it('renders links safely', () => {
    const a = renderToken({ kind: 'link', text: '<b>x</b>', url: 'https://example.org/' }) as HTMLAnchorElement;
    expect(a.tagName).toBe('A');
    expect(a.rel).toContain('noopener');
    expect(a.target).toBe('_blank');
    expect(a.textContent).toBe('<b>x</b>');
    const bad = renderToken({ kind: 'link', text: 'javascript:alert(1)', url: 'javascript:alert(1)' });
    expect(bad.nodeType).toBe(Node.TEXT_NODE);
  });

  it('mixes tokens without creating other elements', () => {
    const f = renderText({ text: '', tokens: HOSTILE.map((t) => ({ kind: 'text' as const, text: t })) });
    expect(elementsIn(f).length).toBe(0);
  });

  it('uses only safe colours and text names', () => {
    expect(safeColor('#a1b2c3')).toBe('#a1b2c3');
    expect(safeColor('red;background:url(x)')).toBe('');
    expect(safeColor('#12345678')).toBe('#12345678');
    expect(safeHttpUrl('javascript:alert(1)')).toBe('');
    const u = renderUser({ id: '1', username: 'x', displayName: HOSTILE[2], color: 'expression(alert(1))' });
    expect(u.textContent).toBe(HOSTILE[2]);
    expect(u.children.length).toBe(0);
    expect(u.getAttribute('style')).toBeNull();
  });

  it('h() never parses strings and refuses event-handler attributes', () => {
    const el = h('div', null, HOSTILE[0]!, h('span', null, HOSTILE[1]!));
    expect(el.querySelectorAll('img, script').length).toBe(0);
    expect(() => h('div', { attrs: { onclick: 'alert(1)' } })).toThrow();
  });
});
