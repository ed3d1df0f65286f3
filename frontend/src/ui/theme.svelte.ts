// Theme: dark or light colours (style.css's variables under data-theme on
// <html>). "auto" follows the system's prefers-color-scheme and its changes;
// "light" and "dark" are the moderator's choice, kept in local storage (a
// preference, not a secret).

/** ThemePref is what the moderator chose. */
export type ThemePref = 'auto' | 'light' | 'dark';
/** ThemeName is the theme in force. */
export type ThemeName = 'light' | 'dark';

/** THEME_STORAGE_KEY is the local storage key of the chosen theme. */
export const THEME_STORAGE_KEY = 'modconsole.theme';

/** parsePref reads a stored preference; anything else is "auto". */
export function parsePref(v: string | null | undefined): ThemePref {
  return v === 'light' || v === 'dark' ? v : 'auto';
}

/** ThemeHost is what Theme needs of the window (a stand-in in tests). */
export interface ThemeHost {
  matchMedia?(q: string): { matches: boolean; addEventListener?(type: 'change', fn: () => void): void };
  document?: { documentElement: HTMLElement };
}

/** Theme holds the preference and the system's scheme, and applies the result to <html>. */
export class Theme {
  pref = $state<ThemePref>('auto');
  system = $state<ThemeName>('dark');
  /** effective is the theme in force. */
  readonly effective: ThemeName = $derived(this.pref === 'auto' ? this.system : this.pref);

  constructor(
    private readonly store: Storage | null,
    private readonly host: ThemeHost,
  ) {
    let stored: string | null = null;
    try {
      stored = store?.getItem(THEME_STORAGE_KEY) ?? null;
    } catch {
      stored = null;
    }
    this.pref = parsePref(stored);
    const mq = host.matchMedia?.('(prefers-color-scheme: light)');
    if (mq) {
      this.system = mq.matches ? 'light' : 'dark';
      mq.addEventListener?.('change', () => {
        this.system = mq.matches ? 'light' : 'dark';
        this.apply();
      });
    }
    this.apply();
  }

  /** set chooses a preference, keeps it and applies it. */
  set(pref: ThemePref): void {
    this.pref = parsePref(pref);
    try {
      if (this.pref === 'auto') this.store?.removeItem(THEME_STORAGE_KEY);
      else this.store?.setItem(THEME_STORAGE_KEY, this.pref);
    } catch {
      // Storage full or refused: the choice holds for this session.
    }
    this.apply();
  }

  /** reload re-reads the stored preference (another window changed it). */
  reload(): void {
    let v: string | null = null;
    try {
      v = this.store?.getItem(THEME_STORAGE_KEY) ?? null;
    } catch {
      v = null;
    }
    this.pref = parsePref(v);
    this.apply();
  }

  private apply(): void {
    const el = this.host.document?.documentElement;
    if (!el) return;
    el.dataset.theme = this.pref === 'auto' ? this.system : this.pref;
    el.dataset.themePref = this.pref;
  }
}
