import { describe, expect, it } from 'vitest';
import { backoffDelay, dropToken } from '../src/api/transport';
import { Events, Methods } from '../src/api/names';
import { API_METHODS } from '../src/api/gen';

describe('transport', () => {
  it('backs off with jitter and a cap', () => {
    expect(backoffDelay(1, () => 0.5)).toBe(500);
    expect(backoffDelay(3, () => 0.5)).toBe(2000);
    expect(backoffDelay(20, () => 1)).toBe(12_500);
    expect(backoffDelay(20, () => 0)).toBe(7500);
  });
  it('mirrors the Go names', () => {
    expect(Events.Batch).toBe('console:batch');
    // Every method of service.API (generated from Go) has its name here, and no other.
    expect(Object.keys(Methods).sort()).toEqual([...API_METHODS].sort());
    for (const [k, v] of Object.entries(Methods)) expect(k).toBe(v);
  });
  it('drops ?token= from the address bar and keeps it nowhere', () => {
    const replaced: string[] = [];
    const hist = { state: { k: 1 }, replaceState: (_s: unknown, _t: string, u?: string | URL | null) => void replaced.push(String(u)) };
    const stored: string[] = [];
    const spy = { setItem: (k: string) => void stored.push(k) };
    (globalThis as { sessionStorage?: unknown }).sessionStorage = spy;
    (globalThis as { localStorage?: unknown }).localStorage = spy;
    try {
      expect(dropToken({ href: 'http://127.0.0.1:5/queues?view=2&token=s3cret#x' }, hist)).toBe(true);
      expect(replaced).toEqual(['/queues?view=2#x']);
      expect(replaced.join()).not.toContain('s3cret');
      expect(stored).toEqual([]);
      expect(dropToken({ href: 'http://127.0.0.1:5/' }, hist)).toBe(false);
      expect(replaced).toHaveLength(1);
    } finally {
      delete (globalThis as { sessionStorage?: unknown }).sessionStorage;
      delete (globalThis as { localStorage?: unknown }).localStorage;
    }
  });
});
