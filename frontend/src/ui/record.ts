// The record's pure helpers: the search filter bar as query words, time
// ranges, and the export download (a browser link, or the desktop app's
// save dialog).
import type { Api } from '../api/api';
import type { AuditQuery, ExportRequest, ExportTicket, ModEventQuery, Platform, SearchRequest } from '../api/types';

/** Tri is a yes/no/any filter: '' any, 'yes' only, 'no' exclude. */
export type Tri = '' | 'yes' | 'no';

/** TimePreset is a time range relative to now ('' = any time, custom = from/to). */
export type TimePreset = '' | '15m' | '1h' | '1d' | '1w' | 'custom';

/** TimeRange is a time filter as the bar holds it: a preset or from/to as
 * datetime-local values (YYYY-MM-DDTHH:MM, the browser's local time). */
export interface TimeRange {
  preset: TimePreset;
  from: string;
  to: string;
}

export const TIME_PRESETS: readonly [TimePreset, string][] = [
  ['', 'any time'],
  ['15m', 'last 15 minutes'],
  ['1h', 'last hour'],
  ['1d', 'last 24 hours'],
  ['1w', 'last 7 days'],
  ['custom', 'between…'],
];

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** rangeMs turns a time range into unix ms bounds (0 = open); a bad or empty
 * custom bound is open. */
export function rangeMs(r: TimeRange, now: number): { after: number; before: number } {
  if (!r.preset) return { after: 0, before: 0 };
  if (r.preset !== 'custom') {
    const n = Number(r.preset.slice(0, -1));
    return { after: now - n * (UNIT_MS[r.preset.slice(-1)] ?? 0), before: 0 };
  }
  return { after: localInputMs(r.from), before: localInputMs(r.to) };
}

/** localInputMs reads a datetime-local value (local time) as unix ms; 0 when empty or bad. */
export function localInputMs(v: string): number {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(v)) return 0;
  const t = new Date(v).getTime();
  return Number.isFinite(t) ? t : 0;
}

/** localInput formats unix ms as a datetime-local value. */
export function localInput(ms: number): string {
  const d = new Date(ms);
  return `${localDay(ms)}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** localDay formats unix ms as the local date YYYY-MM-DD. */
export function localDay(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** rfc3339 formats unix ms as RFC 3339 in local time with its offset
 * (2026-11-25T14:30:00+01:00): exact whatever the server's time zone. */
export function rfc3339(ms: number): string {
  const d = new Date(ms);
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const abs = Math.abs(off);
  return `${localDay(ms)}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** whenShort is the time of day for today and "Nov 24 19:18:16" before (full date in the title). */
export function whenShort(ms: number, now: number, time: (ms: number) => string): string {
  if (localDay(ms) === localDay(now)) return time(ms);
  const d = new Date(ms);
  const sameYear = d.getFullYear() === new Date(now).getFullYear();
  return `${d.toLocaleDateString(undefined, sameYear ? { month: 'short', day: 'numeric' } : { year: 'numeric', month: 'short', day: 'numeric' })} ${time(ms)}`;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** SearchBar is the search page's filter bar. The channel is the request's
 * channelId, not a word. */
export interface SearchBar {
  from: string;
  platform: Platform | '';
  link: Tri;
  deleted: Tri;
  held: Tri;
  time: TimeRange;
}

export function emptySearchBar(): SearchBar {
  return { from: '', platform: '', link: '', deleted: '', held: '', time: { preset: '', from: '', to: '' } };
}

/** filterValue makes a bar value one query word: a value with spaces,
 * quotes or backslashes is quoted, with \" and \\ inside (the backend's
 * ParseSearch), so that any username, even one full of markup, is one author. */
export function filterValue(v: string): string {
  const s = v.trim();
  if (!/[\s"\\]/.test(s)) return s;
  return '"' + s.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
}

/** barWords turns the filter bar into the query words the backend parses
 * (docs/api.md: from:, platform:, has:link, is:deleted, is:held, after:, before:). */
export function barWords(b: SearchBar): string[] {
  const out: string[] = [];
  const from = filterValue(b.from.replace(/^@/, ''));
  if (from) out.push(`from:${from}`);
  if (b.platform) out.push(`platform:${b.platform}`);
  const tri = (t: Tri, word: string) => {
    if (t === 'yes') out.push(word);
    else if (t === 'no') out.push(`-${word}`);
  };
  tri(b.link, 'has:link');
  tri(b.deleted, 'is:deleted');
  tri(b.held, 'is:held');
  const t = b.time;
  if (t.preset && t.preset !== 'custom') out.push(`after:${t.preset}`);
  if (t.preset === 'custom') {
    const a = localInputMs(t.from);
    const z = localInputMs(t.to);
    if (a) out.push(`after:${rfc3339(a)}`);
    if (z) out.push(`before:${rfc3339(z)}`);
  }
  return out;
}

/** composeQuery joins the typed query and the filter bar's words (the bar's
 * come last, so a bar value wins over the same filter typed). */
export function composeQuery(typed: string, b: SearchBar): string {
  return [typed.trim(), ...barWords(b)].filter(Boolean).join(' ');
}

/** Downloader starts a browser download of a same-origin URL. */
export type Downloader = (url: string, filename: string) => void;

/** ExportResult says what became of an export. */
export type ExportResult =
  | { kind: 'download'; filename: string }
  | { kind: 'saved'; path: string; rows: number }
  | { kind: 'cancelled' };

/** runExport asks the backend for an export. In browser mode the ticket's URL
 * streams the file (GET /api/export) and download starts it; the desktop
 * binding shows the save dialog and writes the file itself. */
export async function runExport(api: Pick<Api, 'exportFile'>, req: ExportRequest, download: Downloader): Promise<ExportResult> {
  const t: ExportTicket = await api.exportFile(req);
  if (t.cancelled) return { kind: 'cancelled' };
  if (t.path) return { kind: 'saved', path: t.path, rows: t.rows ?? 0 };
  if (!t.url || !t.url.startsWith('/api/export?')) throw new Error('the export gave no file to download');
  download(t.url, t.filename);
  return { kind: 'download', filename: t.filename };
}

/** exportDownloader downloads through a temporary same-origin link with the
 * download attribute (the server's Content-Disposition names the file too). */
export function exportDownloader(doc: Document): Downloader {
  return (url, filename) => {
    const a = doc.createElement('a');
    a.href = url;
    a.download = filename;
    a.rel = 'noopener';
    a.hidden = true;
    doc.body.appendChild(a);
    a.click();
    a.remove();
  };
}

/** anyPlatform is the zero platform: no platform filter. */
export const anyPlatform = '' as unknown as Platform;

export function emptyAuditQuery(): AuditQuery {
  return { channelId: 0, platform: anyPlatform, moderator: '', user: '', kinds: null, statuses: null, after: 0, before: 0, cursor: 0, limit: 0 };
}

export function emptyEventQuery(): ModEventQuery {
  return { channelId: 0, platform: anyPlatform, actor: '', user: '', kinds: null, types: null, after: 0, before: 0, cursor: 0, limit: 0 };
}

export function emptySearchRequest(): SearchRequest {
  return { query: '', channelId: 0, before: 0, limit: 0 };
}

/** exportRequest fills the parts of an ExportRequest a kind does not use. */
export function exportRequest(r: Partial<ExportRequest> & Pick<ExportRequest, 'kind' | 'format'>): ExportRequest {
  return { audit: emptyAuditQuery(), search: emptySearchRequest(), channelId: 0, day: '', ...r };
}
