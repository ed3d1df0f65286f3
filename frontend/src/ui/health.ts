// Human text for connection health.
import type { Health } from '../api/types';

/** healthText describes h in a few words, with the retry countdown when reconnecting. */
export function healthText(hl: Health | undefined, readOnly: boolean, now = Date.now()): string {
  if (!hl) return 'unknown';
  return statusText(hl, readOnly, now) + unroutedText(hl);
}

/** unroutedText says how many events arrived for no joined channel, if any. */
export function unroutedText(hl: Health): string {
  const n = Object.values(hl.unrouted ?? {}).reduce((a, b) => a + b, 0);
  return n > 0 ? ` · ${n} event${n === 1 ? '' : 's'} for no joined channel skipped` : '';
}

function statusText(hl: Health, readOnly: boolean, now: number): string {
  switch (hl.status) {
    case 'connecting':
      return 'connecting…';
    case 'connected':
      return readOnly ? 'connected · read-only' : 'connected';
    case 'guest':
      return 'guest · read-only';
    case 'joining':
      return 'joining…';
    case 'rejoining':
      return 'rejoining… (sends wait for it)';
    case 'reconnecting': {
      const n = hl.reconnects ? ` #${hl.reconnects}` : '';
      if (hl.nextRetry && hl.nextRetry > now) return `reconnecting${n} · retry in ${Math.ceil((hl.nextRetry - now) / 1000)}s`;
      return `reconnecting${n}…`;
    }
    case 'failed':
      return hl.error ? `failed: ${hl.error}` : 'failed';
    case 'stopped':
      return 'stopped';
    default:
      return String(hl.status);
  }
}

export function healthClass(hl: Health | undefined): string {
  const s = hl?.status ?? 'unknown';
  return `health-${/^[a-z]+$/.test(s) ? s : 'unknown'}`;
}
