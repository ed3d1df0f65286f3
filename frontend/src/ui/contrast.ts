// Readable user colours: a platform's name colour is the user's choice and
// may be unreadable on the theme's background (black on dark, yellow on
// white). readableColor moves it toward white (dark theme) or black (light
// theme) just far enough for WCAG AA's 4.5:1 on the theme's row backgrounds.
import type { ThemeName } from './theme.svelte';

/** AA is WCAG AA's contrast for normal text, with a little margin. */
const AA = 4.6;
/** BACKDROPS are each theme's row background with the least contrast to text
 * of the kind readableColor makes (the selection's, --sel in style.css). */
const BACKDROPS: Record<ThemeName, [number, number, number]> = {
  dark: [0x23, 0x32, 0x47],
  light: [0xdb, 0xe8, 0xfb],
};

/** parseHex reads #rgb, #rrggbb (and #rgba/#rrggbbaa, alpha ignored); null for anything else. */
export function parseHex(c: string): [number, number, number] | null {
  const m = /^#([0-9a-f]{3,8})$/i.exec(c);
  if (!m) return null;
  let h = m[1] ?? '';
  if (h.length === 3 || h.length === 4) h = [...h.slice(0, 3)].map((x) => x + x).join('');
  else if (h.length === 6 || h.length === 8) h = h.slice(0, 6);
  else return null;
  return [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16)) as [number, number, number];
}

/** luminance is WCAG's relative luminance of an sRGB colour. */
export function luminance([r, g, b]: [number, number, number]): number {
  const f = (v: number) => {
    const s = v / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
}

/** contrast is WCAG's contrast ratio of two colours (1 to 21). */
export function contrast(a: [number, number, number], b: [number, number, number]): number {
  const x = luminance(a);
  const y = luminance(b);
  return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
}

const hex = (c: [number, number, number]) => `#${c.map((v) => Math.round(v).toString(16).padStart(2, '0')).join('')}`;
const cache = new Map<string, string>();

/** readableColor returns c, or c moved toward white or black until it meets AA on theme's rows; '' when c is no hex colour. */
export function readableColor(c: string, theme: ThemeName): string {
  const rgb = parseHex(c);
  if (!rgb) return '';
  const key = `${theme}${c}`;
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const bg = BACKDROPS[theme];
  let out = hex(rgb);
  if (contrast(rgb, bg) < AA) {
    const to = theme === 'dark' ? 255 : 0;
    const mix = (t: number): [number, number, number] => rgb.map((v) => v + (to - v) * t) as [number, number, number];
    let lo = 0;
    let hi = 1;
    for (let i = 0; i < 12; i++) {
      const mid = (lo + hi) / 2;
      if (contrast(mix(mid), bg) >= AA) hi = mid;
      else lo = mid;
    }
    out = hex(mix(hi));
  }
  if (cache.size > 4096) cache.clear();
  cache.set(key, out);
  return out;
}
