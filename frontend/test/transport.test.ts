import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../src/api/transport';
import { Events, Methods } from '../src/api/names';

describe('transport', () => {
  it('backs off with jitter and a cap', () => {
    expect(backoffDelay(1, () => 0.5)).toBe(500);
    expect(backoffDelay(3, () => 0.5)).toBe(2000);
    expect(backoffDelay(20, () => 1)).toBe(12_500);
    expect(backoffDelay(20, () => 0)).toBe(7500);
  });
  it('mirrors the Go names', () => {
    expect(Events.Batch).toBe('console:batch');
    expect(Object.keys(Methods)).toHaveLength(18);
    for (const [k, v] of Object.entries(Methods)) expect(k).toBe(v);
  });
});
