import { describe, expect, it } from 'vitest';
import { healthText } from '../src/ui/health';

describe('healthText', () => {
  it('shows a channel rejoining after a reconnect', () => {
    expect(healthText({ status: 'rejoining', since: 0, reconnects: 1 }, false)).toBe('rejoining… (sends wait for it)');
  });

  it('says how many events arrived for no joined channel', () => {
    const hl = { status: 'connected' as const, since: 0, reconnects: 0 };
    expect(healthText(hl, false)).toBe('connected');
    expect(healthText({ ...hl, unrouted: { 'App\\Events\\ChatroomClearEvent': 2, x: 1 } }, false)).toBe(
      'connected · 3 events for no joined channel skipped',
    );
  });
});
