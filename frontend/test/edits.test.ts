// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { editCount, editedTag, renderVersions } from '../src/ui/queues';

describe('edited messages in the UI', () => {
  it('marks only edited messages', () => {
    expect(editedTag({})).toBeNull();
    expect(editedTag({ edits: 0 })).toBeNull();
    expect(editCount({ edits: -1 })).toBe(0);
    expect(editedTag({ edits: 2 })?.textContent).toBe('edited');
  });

  it('lists earlier texts oldest first, as text only', () => {
    const el = renderVersions({ edits: 2, list: [
      { text: '<img src=x onerror="window.__xss=1">second', replacedAt: 2000 },
      { text: 'first', replacedAt: 1000 },
    ] });
    const items = [...el.querySelectorAll('[data-testid=version] .version-text')].map((e) => e.textContent);
    expect(items).toEqual(['first', '<img src=x onerror="window.__xss=1">second']);
    expect(el.querySelectorAll('img').length).toBe(0);
    expect(renderVersions({ edits: 1, list: null }).textContent).toContain('loading');
    expect(renderVersions({ edits: 1, list: null, error: 'boom' }).textContent).toContain('boom');
  });
});
