// Rendering of untrusted chat content. Everything a platform or a chatter
// controls becomes text nodes; the only elements created from data are <img>
// for emotes and <a> for links, and only with http(s) URLs.
import type { MessageView, Token, User } from '../api/types';

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

/** renderToken turns one token into a node without ever parsing HTML. */
export function renderToken(t: Token): Node {
  const label = typeof t.text === 'string' ? t.text : '';
  if (t.kind === 'emote') {
    const src = safeHttpUrl(t.url);
    if (!src) return document.createTextNode(label);
    const img = document.createElement('img');
    img.className = 'emote';
    img.alt = label;
    img.title = label;
    img.loading = 'lazy';
    img.referrerPolicy = 'no-referrer';
    img.decoding = 'async';
    img.src = src;
    return img;
  }
  if (t.kind === 'link') {
    const href = safeHttpUrl(t.url ?? label);
    if (!href) return document.createTextNode(label);
    const a = document.createElement('a');
    a.className = 'link';
    a.href = href;
    a.rel = 'noopener noreferrer nofollow';
    a.target = '_blank';
    a.textContent = label || href;
    return a;
  }
  return document.createTextNode(label);
}

/** renderText renders a message's body: its tokens when present, else its text. */
export function renderText(m: Pick<MessageView, 'text' | 'tokens'>): DocumentFragment {
  const f = document.createDocumentFragment();
  if (m.tokens && m.tokens.length) {
    for (const t of m.tokens) f.appendChild(renderToken(t));
  } else {
    f.appendChild(document.createTextNode(typeof m.text === 'string' ? m.text : ''));
  }
  return f;
}

/** displayName is the best name of u. */
export function displayName(u: User): string {
  return u.displayName || u.username || u.id || '?';
}

/** renderUser renders a user's name (coloured only with a safe colour) as a span. */
export function renderUser(u: User): HTMLSpanElement {
  const s = document.createElement('span');
  s.className = 'user';
  if (u.role) s.classList.add(`role-${u.role.replace(/[^a-z]/gi, '').slice(0, 20)}`);
  const name = displayName(u);
  s.textContent = name;
  if (u.displayName && u.username && u.displayName.toLowerCase() !== u.username.toLowerCase()) {
    s.title = `${u.displayName} (${u.username})`;
  }
  const c = safeColor(u.color);
  if (c) s.style.color = c;
  return s;
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
