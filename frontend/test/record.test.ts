import { describe, expect, it } from 'vitest';
import { whenShort, barWords, composeQuery, emptySearchBar, exportRequest, filterValue, localInput, localInputMs, rangeMs, rfc3339, runExport } from '../src/ui/record';
import type { ExportTicket } from '../src/api/types';

describe('search filter bar', () => {
  it('turns each bar field into the word the backend parses', () => {
    const b = emptySearchBar();
    expect(barWords(b)).toEqual([]);
    b.from = '@Alice';
    b.platform = 'kichat';
    b.link = 'yes';
    b.deleted = 'no';
    b.held = 'yes';
    b.time = { preset: '1h', from: '', to: '' };
    expect(barWords(b)).toEqual(['from:Alice', 'platform:kichat', 'has:link', '-is:deleted', 'is:held', 'after:1h']);
  });

  it('quotes values with spaces, quotes or backslashes, escaping them as ParseSearch reads them', () => {
    expect(filterValue('a b')).toBe('"a b"');
    expect(filterValue('x"y')).toBe('"x\\"y"');
    expect(filterValue('"><svg onload=alert(1)>')).toBe('"\\"><svg onload=alert(1)>"');
    expect(filterValue('a\\b')).toBe('"a\\\\b"');
    expect(filterValue('  ')).toBe('');
    const b = emptySearchBar();
    b.from = 'some "one" else';
    expect(barWords(b)).toEqual(['from:"some \\"one\\" else"']);
  });

  it('puts the bar after the typed words', () => {
    const b = emptySearchBar();
    b.held = 'no';
    expect(composeQuery('  spam "free coins" ', b)).toBe('spam "free coins" -is:held');
    expect(composeQuery('', emptySearchBar())).toBe('');
  });

  it('writes a custom range as RFC 3339 with the local offset', () => {
    const b = emptySearchBar();
    const from = new Date(2026, 10, 25, 14, 30).getTime();
    const to = new Date(2026, 10, 25, 16, 0).getTime();
    b.time = { preset: 'custom', from: localInput(from), to: localInput(to) };
    const w = barWords(b);
    expect(w).toHaveLength(2);
    expect(w[0]).toMatch(/^after:2026-11-25T14:30:00[+-]\d\d:\d\d$/);
    expect(Date.parse(w[0]!.slice(6))).toBe(from);
    expect(Date.parse(w[1]!.slice(7))).toBe(to);
    b.time = { preset: 'custom', from: 'nonsense', to: '' };
    expect(barWords(b)).toEqual([]);
  });
});

describe('time ranges', () => {
  const now = Date.UTC(2026, 10, 25, 12);
  it('counts presets back from now', () => {
    expect(rangeMs({ preset: '', from: '', to: '' }, now)).toEqual({ after: 0, before: 0 });
    expect(rangeMs({ preset: '15m', from: '', to: '' }, now)).toEqual({ after: now - 15 * 60_000, before: 0 });
    expect(rangeMs({ preset: '1w', from: '', to: '' }, now)).toEqual({ after: now - 7 * 86_400_000, before: 0 });
  });
  it('reads a custom range in local time, open where empty', () => {
    const a = new Date(2026, 0, 2, 3, 4).getTime();
    expect(localInputMs(localInput(a))).toBe(a);
    expect(rangeMs({ preset: 'custom', from: localInput(a), to: '' }, now)).toEqual({ after: a, before: 0 });
    expect(localInputMs('2026-01-02')).toBe(0);
    expect(rfc3339(a)).toMatch(/^2026-01-02T03:04:00[+-]\d\d:\d\d$/);
  });
});

describe('whenShort', () => {
  const time = (ms: number) => `t${new Date(ms).getHours()}`;
  it('gives the time of day today and the date before', () => {
    const now = new Date(2026, 10, 25, 20).getTime();
    expect(whenShort(new Date(2026, 10, 25, 9).getTime(), now, time)).toBe('t9');
    const before = whenShort(new Date(2026, 10, 24, 9).getTime(), now, time);
    expect(before).not.toBe('t9');
    expect(before.endsWith(' t9')).toBe(true);
    expect(whenShort(new Date(2025, 10, 24, 9).getTime(), now, time)).toContain('2025');
  });
});

describe('runExport', () => {
  const req = exportRequest({ kind: 'audit', format: 'csv' });
  const api = (t: ExportTicket) => ({ exportFile: async () => t });

  it('downloads the ticket URL in browser mode', async () => {
    const got: string[] = [];
    const res = await runExport(api({ filename: 'a.csv', contentType: 'text/csv', url: '/api/export?req=%7B%7D' }), req, (u, f) => got.push(u, f));
    expect(res).toEqual({ kind: 'download', filename: 'a.csv' });
    expect(got).toEqual(['/api/export?req=%7B%7D', 'a.csv']);
  });

  it('reports the desktop save and a cancelled dialog without downloading', async () => {
    const dl = () => { throw new Error('no download expected'); };
    expect(await runExport(api({ filename: 'a.csv', contentType: 'text/csv', path: '/home/x/a.csv', rows: 3 }), req, dl)).toEqual({ kind: 'saved', path: '/home/x/a.csv', rows: 3 });
    expect(await runExport(api({ filename: 'a.csv', contentType: 'text/csv', cancelled: true }), req, dl)).toEqual({ kind: 'cancelled' });
  });

  it('refuses a ticket that would leave the export route', async () => {
    const dl = () => { throw new Error('no download expected'); };
    await expect(runExport(api({ filename: 'a', contentType: 'x', url: 'https://evil.example/x' }), req, dl)).rejects.toThrow(/no file/);
    await expect(runExport(api({ filename: 'a', contentType: 'x' }), req, dl)).rejects.toThrow(/no file/);
  });

  it('fills the parts a kind does not use', () => {
    expect(req.search).toEqual({ query: '', channelId: 0, before: 0, limit: 0 });
    expect(req.audit.kinds).toBeNull();
    expect(exportRequest({ kind: 'chatlog', format: 'text', channelId: 3, day: '2026-11-25' }).channelId).toBe(3);
  });
});
