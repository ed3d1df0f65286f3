// OneAtATime (ui/queues): the queue page's strike badges are asked for with it,
// so that a raid's stream of new rows makes one QueuePage at a time, never a pile.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { OneAtATime } from '../src/ui/queues';

describe('OneAtATime', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  /** task returns a run that stays on its way until release() is called, and counts runs and overlaps. */
  function task() {
    const t = { runs: 0, inFlight: 0, maxInFlight: 0, release: () => {} };
    const run = () => new Promise<void>((resolve) => {
      t.runs++;
      t.inFlight++;
      t.maxInFlight = Math.max(t.maxInFlight, t.inFlight);
      t.release = () => {
        t.inFlight--;
        resolve();
      };
    });
    return { t, run };
  }

  it('joins asks made while a run waits into that run', async () => {
    const { t, run } = task();
    const o = new OneAtATime(run, 600);
    o.ask();
    o.ask();
    await vi.advanceTimersByTimeAsync(300);
    o.ask();
    expect(t.runs).toBe(0);
    await vi.advanceTimersByTimeAsync(300);
    expect(t.runs).toBe(1);
  });

  it('never runs two at once, and asks during a run make exactly one more after it', async () => {
    const { t, run } = task();
    const o = new OneAtATime(run, 600);
    o.ask();
    await vi.advanceTimersByTimeAsync(600);
    expect(t.runs).toBe(1);
    // A slow answer: rows keep asking every 100 ms for 5 s.
    for (let i = 0; i < 50; i++) {
      o.ask();
      await vi.advanceTimersByTimeAsync(100);
    }
    expect(t.runs).toBe(1);
    expect(t.maxInFlight).toBe(1);
    t.release();
    await vi.advanceTimersByTimeAsync(600);
    expect(t.runs).toBe(2);
    t.release();
    await vi.advanceTimersByTimeAsync(5000);
    expect(t.runs).toBe(2); // nobody asked during the second run
    expect(t.maxInFlight).toBe(1);
  });

  it('goes on after a failed run', async () => {
    let runs = 0;
    const o = new OneAtATime(async () => {
      runs++;
      throw new Error('down');
    }, 10);
    o.ask();
    await vi.advanceTimersByTimeAsync(10);
    o.ask();
    await vi.advanceTimersByTimeAsync(10);
    expect(runs).toBe(2);
  });

  it('does nothing once stopped', async () => {
    const { t, run } = task();
    const o = new OneAtATime(run, 600);
    o.ask();
    o.stop();
    o.ask();
    await vi.advanceTimersByTimeAsync(5000);
    expect(t.runs).toBe(0);
  });
});
