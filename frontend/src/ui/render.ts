// Helpers for rendering untrusted chat content (c/MessageText.svelte,
// c/UserName.svelte): only http(s) URLs become emote <img> or link <a>, only
// plain hex colours colour a name; everything else is text, escaped by Svelte.
import type { User } from '../api/types';

const COLOR = /^#[0-9a-f]{3,8}$/i;

/** safeColor returns c when it is a plain hex colour, else ''. */
export function safeColor(c: string | undefined | null): string {
  return typeof c === 'string' && COLOR.test(c) ? c : '';
}

/** safeHttpUrl returns the normalized URL when it is http(s), else ''. */
export function safeHttpUrl(u: string | undefined | null): string {
  if (typeof u !== 'string' || u.length > 2048) return '';
  let url: URL;
  try {
    url = new URL(u);
  } catch {
    return '';
  }
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : '';
}

/** roleClass is the CSS class of a user's role (letters only), or ''. */
export function roleClass(role: string | undefined): string {
  return role ? `role-${role.replace(/[^a-z]/gi, '').slice(0, 20)}` : '';
}

/** userTitle is the tooltip of a user's name when the display name differs from the login. */
export function userTitle(u: User): string | undefined {
  return u.displayName && u.username && u.displayName.toLowerCase() !== u.username.toLowerCase() ? `${u.displayName} (${u.username})` : undefined;
}

/** displayName is the best name of u. */
export function displayName(u: User): string {
  return u.displayName || u.username || u.id || '?';
}

/** fmtTime formats unix ms as HH:MM:SS local time. */
export function fmtTime(ms: number): string {
  if (!ms) return '';
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** fmtDuration formats seconds as a short human duration: 45s, 10m, 1h30m, 7d. */
export function fmtDuration(sec: number): string {
  if (sec < 0) sec = 0;
  if (sec < 60) return `${Math.round(sec)}s`;
  if (sec < 3600) {
    const m = Math.floor(sec / 60);
    const s = Math.round(sec % 60);
    return s ? `${m}m${s}s` : `${m}m`;
  }
  if (sec < 86400) {
    const hh = Math.floor(sec / 3600);
    const m = Math.floor((sec % 3600) / 60);
    return m ? `${hh}h${m}m` : `${hh}h`;
  }
  const d = Math.floor(sec / 86400);
  const hh = Math.floor((sec % 86400) / 3600);
  return hh ? `${d}d${hh}h` : `${d}d`;
}
