import { describe, expect, it } from 'vitest';
import type { ActionView } from '../src/api/types';
import { ActionFailures } from '../src/ui/ctx';

const action = (id: number, status: string, outcome = ''): ActionView => ({
  id, key: `k${id}`, channelId: 1, platform: 'socketbase', kind: 'send', status, outcome, created: 1, updated: 2,
});

describe('ActionFailures: one failure, one notice', () => {
  it('reports a failure that arrives later once, with the platform reason, and gives the text back', () => {
    const reports: string[] = [];
    let restored = 0;
    const f = new ActionFailures((a, label) => reports.push(`${label}: ${a.outcome}`));
    f.submitted(action(7, 'pending'), 'Send', () => restored++);
    expect(reports).toEqual([]);
    f.update(action(7, 'sent'));
    f.update(action(7, 'failed', 'You must join the room first'));
    f.update(action(7, 'failed', 'You must join the room first')); // repeated in a later batch
    expect(reports).toEqual(['Send: You must join the room first']);
    expect(restored).toBe(1);
  });

  it('reports a failure known before Act answered once', () => {
    const reports: string[] = [];
    let restored = 0;
    const f = new ActionFailures((a) => reports.push(a.outcome ?? ""));
    f.update(action(8, 'failed', 'Slow mode is enabled')); // the batch came first
    f.submitted(action(8, 'failed', 'Slow mode is enabled'), 'Send', () => restored++);
    expect(reports).toEqual(['Slow mode is enabled']);
    expect(restored).toBe(1);
  });

  it('gives the text back when the failure came with a batch before Act answered "pending"', () => {
    const reports: string[] = [];
    let restored = 0;
    const f = new ActionFailures((a) => reports.push(a.outcome ?? ''));
    f.update(action(10, 'failed', 'Your message contains a blocked term')); // the event stream overtook the answer
    f.submitted(action(10, 'pending'), 'Send', () => restored++); // Act's answer, built before the failure
    f.update(action(10, 'failed', 'Your message contains a blocked term'));
    expect(reports).toEqual(['Your message contains a blocked term']);
    expect(restored).toBe(1);
  });

  it('stays quiet for confirmed actions', () => {
    const reports: string[] = [];
    let restored = 0;
    const f = new ActionFailures((a) => reports.push(a.outcome ?? ""));
    f.submitted(action(9, 'pending'), 'Send', () => restored++);
    f.update(action(9, 'confirmed', 'echoed'));
    expect(reports).toEqual([]);
    expect(restored).toBe(0);
  });
});
