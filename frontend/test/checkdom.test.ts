import { describe, expect, it } from 'vitest';
import { scan } from '../scripts/check-dom.mjs';

describe('check-dom', () => {
  it('finds every sink', () => {
    const bad: [string, string][] = [
      ['{@html m.text}', 'A.svelte'],
      ['<div bind:innerHTML={x} contenteditable></div>', 'A.svelte'],
      ['el.innerHTML = s', 'a.ts'],
      ['el.outerHTML = s', 'a.ts'],
      ["el.insertAdjacentHTML('beforeend', s)", 'a.ts'],
      ['document.write(s)', 'a.ts'],
      ['document.writeln(s)', 'a.ts'],
      ['range.createContextualFragment(s)', 'a.ts'],
      ['f.srcdoc = s', 'a.ts'],
      ['new DOMParser().parseFromString(s)', 'a.ts'],
      ['Document.parseHTMLUnsafe(s)', 'a.ts'],
      ['el.setHTMLUnsafe(s)', 'a.ts'],
      ['el.setHTML(s)', 'a.ts'],
      ['new Function(s)', 'a.ts'],
      ['eval(s)', 'a.ts'],
      ["setTimeout('x()', 1)", 'a.ts'],
      ['<a href="javascript:void(0)">x</a>', 'A.svelte'],
      ["a.href = 'JavaScript:' + s", 'a.ts'],
      ['<svelte:element this={tag}>x</svelte:element>', 'A.svelte'],
      ['<iframe src={u}></iframe>', 'A.svelte'],
      ['<object data={u}></object>', 'A.svelte'],
      ["el.setAttribute('onclick', s)", 'a.ts'],
      ["el.setAttribute('href', s)", 'a.ts'],
      ['<div style="color: red">x</div>', 'A.svelte'],
      ['<button onclick="go()">x</button>', 'index.html'],
      ['<script>alert(1)</script>', 'index.html'],
      ['<script>let x = 1;</script>', 'A.svelte'],
    ];
    for (const [text, file] of bad) expect(scan(text, file).length, `${file}: ${text}`).toBeGreaterThan(0);
  });

  it('lets text, style directives, handlers and the component script through', () => {
    const ok: [string, string][] = [
      ['<span class="msg-text">{m.text}</span>', 'A.svelte'],
      ['<div class="vrow" style:transform="translateY({y}px)"></div>', 'A.svelte'],
      ['<button onclick={() => go()}>x</button>', 'A.svelte'],
      ['<script lang="ts" generics="T">', 'A.svelte'],
      ['<script type="module" src="/src/main.ts"></script>', 'index.html'],
      ['el.textContent = s', 'a.ts'],
      ['el.style.color = c', 'a.ts'],
      ['const re = /^(on|srcdoc$)/; // check-dom: allow', 'a.ts'],
    ];
    for (const [text, file] of ok) expect(scan(text, file), `${file}: ${text}`).toEqual([]);
  });
});
