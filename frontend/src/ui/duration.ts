// Durations typed by the moderator: 30s, 5m, 2h, 1d, 1w, or plain seconds.

const UNIT: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
/** MAX_DURATION is the longest duration accepted (a year), far above any platform's limit. */
export const MAX_DURATION = 365 * 86400;

export type Parsed = { ok: true; seconds: number } | { ok: false; error: string };

/** parseDuration reads "30s", "5m", "2h", "1d", "1w" or plain seconds ("600"); anything else is refused with a message. */
export function parseDuration(input: string): Parsed {
  const s = input.trim().toLowerCase();
  const m = /^(\d{1,9})\s*([smhdw]?)$/.exec(s);
  if (!m) return { ok: false, error: `"${input.trim()}" is not a duration: use 30s, 5m, 2h, 1d, 1w or plain seconds` };
  const seconds = Number(m[1]) * UNIT[m[2] || 's']!;
  if (seconds <= 0) return { ok: false, error: 'a timeout lasts at least 1 second' };
  if (seconds > MAX_DURATION) return { ok: false, error: 'at most 365 days' };
  return { ok: true, seconds };
}
