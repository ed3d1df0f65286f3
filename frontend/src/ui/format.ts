// Number formatting for the channel list.

/** fmtCount shortens a viewer count: 950, 1.2k, 250k. */
export function fmtCount(n: number): string {
  if (!n) return '0';
  if (n < 1000) return String(n);
  if (n < 100_000) return `${(n / 1000).toFixed(1)}k`;
  return `${Math.round(n / 1000)}k`;
}
