// @vitest-environment happy-dom
import { afterEach, describe, expect, it } from 'vitest';
import { guardNavigation } from '../src/api/transport';
import MessageText from '../src/ui/c/MessageText.svelte';
import { mountWith } from './harness';

describe('guardNavigation', () => {
  let off: (() => void) | null = null;
  afterEach(() => {
    off?.();
    off = null;
    document.body.replaceChildren();
  });

  function setup(): string[] {
    const opened: string[] = [];
    off = guardNavigation(window, (u) => opened.push(u));
    return opened;
  }

  function click(el: Element, init: MouseEventInit = {}, type = 'click'): MouseEvent {
    const e = new MouseEvent(type, { bubbles: true, cancelable: true, composed: true, ...init });
    el.dispatchEvent(e);
    return e;
  }

  it('sends a chat link click to the opener and cancels the navigation', () => {
    const opened = setup();
    const m = mountWith(MessageText, { m: { text: '', tokens: [{ kind: 'link', text: 'clip', url: 'https://clips.example/v?id=1' }] } });
    const link = m.el.querySelector('a')!;
    const span = document.createElement('span');
    span.textContent = 'inner';
    link.appendChild(span); // a click on a child of the link counts too
    const e = click(span);
    expect(e.defaultPrevented).toBe(true);
    expect(opened).toEqual(['https://clips.example/v?id=1']);
  });

  it('sends a middle click to the opener, ignores other auxiliary buttons', () => {
    const opened = setup();
    const a = document.createElement('a');
    a.href = 'http://other.example/';
    document.body.appendChild(a);
    expect(click(a, { button: 1 }, 'auxclick').defaultPrevented).toBe(true);
    expect(click(a, { button: 2 }, 'auxclick').defaultPrevented).toBe(false);
    expect(opened).toEqual(['http://other.example/']);
  });

  it('never opens a non-web link, and never lets it navigate', () => {
    const opened = setup();
    for (const href of ['javascript:alert(1)', 'file:///etc/passwd', 'data:text/html,x', 'wails://wails/x']) {
      const a = document.createElement('a');
      a.setAttribute('href', href);
      document.body.appendChild(a);
      expect(click(a).defaultPrevented, href).toBe(true);
    }
    expect(opened).toEqual([]);
  });

  it('leaves links within the console and clicks outside links alone', () => {
    const opened = setup();
    const a = document.createElement('a');
    a.href = new URL('#queues', window.location.href).href;
    const b = document.createElement('button');
    document.body.append(a, b);
    expect(click(a).defaultPrevented).toBe(false);
    expect(click(b).defaultPrevented).toBe(false);
    expect(opened).toEqual([]);
  });

  it('cancels native form submission and drops, except text into a text field', () => {
    setup();
    const form = document.createElement('form');
    form.action = 'https://evil.example/steal';
    document.body.appendChild(form);
    const sub = new Event('submit', { bubbles: true, cancelable: true });
    form.dispatchEvent(sub);
    expect(sub.defaultPrevented).toBe(true);

    const drop = (target: EventTarget, types: string[]) => {
      const e = new Event('drop', { bubbles: true, cancelable: true });
      Object.defineProperty(e, 'dataTransfer', { value: { types } });
      target.dispatchEvent(e);
      return e.defaultPrevented;
    };
    const div = document.createElement('div');
    const input = document.createElement('input');
    document.body.append(div, input);
    expect(drop(div, ['text/uri-list', 'text/plain'])).toBe(true);
    expect(drop(div, ['Files'])).toBe(true);
    expect(drop(input, ['Files'])).toBe(true);
    expect(drop(input, ['text/plain'])).toBe(false);
  });

  it('uninstalls', () => {
    const opened = setup();
    off?.();
    off = null;
    const a = document.createElement('a');
    a.href = 'https://x.example/';
    a.addEventListener('click', (e) => e.preventDefault()); // keep happy-dom from navigating
    document.body.appendChild(a);
    click(a);
    expect(opened).toEqual([]);
  });
});
