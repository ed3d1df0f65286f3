// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import EditedTag from '../src/ui/c/EditedTag.svelte';
import Versions from '../src/ui/c/Versions.svelte';
import { editCount } from '../src/ui/edits';
import { mountWith } from './harness';

describe('edited messages in the UI', () => {
  it('marks only edited messages', () => {
    expect(mountWith(EditedTag, { m: {} }).el.querySelector('[data-testid=edited]')).toBeNull();
    expect(mountWith(EditedTag, { m: { edits: 0 } }).el.querySelector('[data-testid=edited]')).toBeNull();
    expect(editCount({ edits: -1 })).toBe(0);
    expect(mountWith(EditedTag, { m: { edits: 2 } }).el.querySelector('[data-testid=edited]')?.textContent).toBe('edited');
  });

  it('lists earlier texts oldest first, as text only', () => {
    const { el } = mountWith(Versions, { v: { edits: 2, list: [
      { text: '<img src=x onerror="window.__xss=1">second', replacedAt: 2000 },
      { text: 'first', replacedAt: 1000 },
    ] } });
    const items = [...el.querySelectorAll('[data-testid=version] .version-text')].map((e) => e.textContent);
    expect(items).toEqual(['first', '<img src=x onerror="window.__xss=1">second']);
    expect(el.querySelectorAll('img').length).toBe(0);
    expect(mountWith(Versions, { v: { edits: 1, list: null } }).el.textContent).toContain('loading');
    expect(mountWith(Versions, { v: { edits: 1, list: null, error: 'boom' } }).el.textContent).toContain('boom');
  });
});
