import { describe, expect, it } from 'vitest';
import { parseDuration } from '../src/ui/duration';

describe('parseDuration', () => {
  it('reads units and plain seconds', () => {
    const cases: [string, number][] = [['30s', 30], ['5m', 300], ['2h', 7200], ['1d', 86400], ['1w', 604800], ['600', 600], [' 5M ', 300], ['10 m', 600]];
    for (const [s, want] of cases) expect(parseDuration(s), s).toEqual({ ok: true, seconds: want });
  });

  it('refuses anything else with a message', () => {
    for (const s of ['5x', '', 'm5', '1.5h', '-5m', '5 minutes', '0', '0s', '1h30m', '99999w']) {
      const p = parseDuration(s);
      expect(p.ok, s).toBe(false);
      if (!p.ok) expect(p.error.length).toBeGreaterThan(0);
    }
    const p = parseDuration('5x');
    expect(!p.ok && p.error).toContain('30s, 5m, 2h, 1d, 1w');
  });
});
