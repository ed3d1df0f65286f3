// The one seam between the UI and the backend. In the Wails desktop window it
// uses the bound methods (window.go.app.App) and runtime events; in a browser
// it uses POST /api/<Method> and the /api/events WebSocket, both authenticated
// by the HttpOnly session cookie alone: script never holds the session token.
import { Events, Routes, type MethodName } from './names';
import type { Batch } from './types';
import { isLoginAnswer } from './session';

/** StreamState describes the event stream's link, shown in the UI. */
export interface StreamState {
  state: 'connecting' | 'open' | 'reconnecting';
  attempt: number;
  nextRetry?: number; // unix ms
  error?: string;
}

export interface Transport {
  readonly kind: 'desktop' | 'browser';
  call<T>(method: MethodName, ...args: unknown[]): Promise<T>;
  /** openExternal opens an http(s) URL outside the console: the system browser (desktop) or a new tab without opener. */
  openExternal(url: string): void;
  /** onBatch registers the batch handler; resync is called after a reconnect. */
  subscribe(onBatch: (b: Batch) => void, onState: (s: StreamState) => void, onResync: () => void): void;
  /** onSessionEnd registers what runs when a call finds team mode's session gone (401 with a login route). */
  onSessionEnd?(cb: () => void): void;
}

interface WailsWindow {
  go?: { app?: { App?: Record<string, (...args: unknown[]) => Promise<unknown>>; Browser?: { OpenURL?: (url: string) => Promise<unknown> } } };
  runtime?: { EventsOn: (name: string, cb: (data: unknown) => void) => (() => void) | void; BrowserOpenURL?: (url: string) => void };
}

function desktopTransport(app: Record<string, (...args: unknown[]) => Promise<unknown>>, w: WailsWindow): Transport {
  return {
    kind: 'desktop',
    async call<T>(method: MethodName, ...args: unknown[]): Promise<T> {
      const fn = app[method];
      if (typeof fn !== 'function') throw new Error(`method ${method} is not bound`);
      try {
        return (await fn(...args)) as T;
      } catch (e) {
        throw new Error(typeof e === 'string' ? e : e instanceof Error ? e.message : String(e));
      }
    },
    openExternal(url: string) {
      // The bound Browser.OpenURL checks the URL again on the Go side.
      const open = w.go?.app?.Browser?.OpenURL;
      if (open) void open(url).catch((e: unknown) => console.warn('link not opened:', e));
      else w.runtime?.BrowserOpenURL?.(url);
    },
    subscribe(onBatch, onState) {
      w.runtime?.EventsOn(Events.Batch, (data) => onBatch(data as Batch));
      onState({ state: 'open', attempt: 0 });
    },
  };
}

/**
 * dropToken removes a ?token= from the address bar without keeping it: the
 * server traded it for the HttpOnly session cookie on this page load (the Go
 * server already redirected without it; this covers servers that do not).
 * It reports whether there was one.
 */
export function dropToken(loc: Pick<Location, 'href'>, hist: Pick<History, 'state' | 'replaceState'>): boolean {
  const url = new URL(loc.href);
  if (!url.searchParams.has(Routes.tokenParam)) return false;
  url.searchParams.delete(Routes.tokenParam);
  hist.replaceState(hist.state, '', url.pathname + url.search + url.hash);
  return true;
}

/** backoffDelay is the wait before reconnect attempt n (1-based): 0.5 s doubling to 10 s, ±25% jitter. */
export function backoffDelay(attempt: number, rand: () => number = Math.random): number {
  const base = Math.min(10_000, 500 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.75 + rand() * 0.5));
}

function browserTransport(): Transport {
  dropToken(window.location, window.history);
  let sessionEnd: (() => void) | null = null;
  return {
    onSessionEnd(cb: () => void) {
      sessionEnd = cb;
    },
    kind: 'browser',
    async call<T>(method: MethodName, ...args: unknown[]): Promise<T> {
      const res = await fetch(Routes.apiPrefix + method, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(args),
      });
      const text = await res.text();
      // Team mode: the session ended (logout elsewhere, expiry, a disabled
      // user); the app shows its login screen.
      if (isLoginAnswer(res.status, text)) sessionEnd?.();
      if (!res.ok) {
        let msg = `${method}: HTTP ${res.status}`;
        try {
          const j = JSON.parse(text) as { error?: unknown };
          if (typeof j.error === 'string' && j.error) msg = j.error;
        } catch {
          /* not JSON */
        }
        throw new Error(msg);
      }
      return (text ? JSON.parse(text) : null) as T;
    },
    openExternal(url: string) {
      window.open(url, '_blank', 'noopener,noreferrer');
    },
    subscribe(onBatch, onState, onResync) {
      let attempt = 0;
      let opened = false;
      const connect = () => {
        const proto = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
        // The browser sends the session cookie with the handshake.
        const url = `${proto}//${window.location.host}${Routes.events}`;
        onState({ state: attempt === 0 && !opened ? 'connecting' : 'reconnecting', attempt });
        const ws = new WebSocket(url);
        ws.onopen = () => {
          const wasOpened = opened;
          opened = true;
          attempt = 0;
          onState({ state: 'open', attempt: 0 });
          if (wasOpened) onResync();
        };
        ws.onmessage = (ev) => {
          if (typeof ev.data !== 'string') return;
          let msg: { name?: string; data?: unknown };
          try {
            msg = JSON.parse(ev.data) as { name?: string; data?: unknown };
          } catch {
            return;
          }
          if (msg.name === Events.Batch && msg.data && typeof msg.data === 'object') onBatch(msg.data as Batch);
        };
        ws.onclose = (ev) => {
          attempt++;
          const delay = backoffDelay(attempt);
          onState({
            state: 'reconnecting',
            attempt,
            nextRetry: Date.now() + delay,
            error: ev.reason || (ev.code ? `closed (${ev.code})` : 'closed'),
          });
          window.setTimeout(connect, delay);
        };
      };
      connect();
    },
  };
}

/** isWebUrl reports whether u is an absolute http(s) URL. */
function isWebUrl(u: URL): boolean {
  return (u.protocol === 'http:' || u.protocol === 'https:') && u.host !== '';
}

function linkOf(e: Event): HTMLAnchorElement | HTMLAreaElement | null {
  for (const n of e.composedPath()) {
    const el = n as Element;
    if ((el.localName === 'a' || el.localName === 'area') && el.hasAttribute('href')) return el as HTMLAnchorElement;
  }
  return null;
}

function editable(t: EventTarget | null): boolean {
  const el = t as HTMLElement | null;
  return !!el && (el.localName === 'input' || el.localName === 'textarea' || el.isContentEditable === true);
}

function carriesFiles(e: DragEvent): boolean {
  return !!e.dataTransfer && [...e.dataTransfer.types].includes('Files');
}

/**
 * guardNavigation keeps the console's page in its window: a click (or
 * middle click) on a link to another origin never navigates, an http(s) one
 * goes to open instead; no form submits natively; a file or link dropped on
 * the page does not load (text may still be dropped into a text field); and
 * where the Navigation API exists, any other navigation to another origin is
 * cancelled. In the desktop window this matters most: a foreign page there
 * could call every bound method (docs/security.md). Returns the uninstaller.
 */
export function guardNavigation(win: Window, open: (url: string) => void): () => void {
  const doc = win.document;
  const own = () => new URL(win.location.href).origin;
  const onClick = (e: MouseEvent) => {
    if (e.type === 'auxclick' && e.button !== 1) return;
    const a = linkOf(e);
    if (!a) return;
    let url: URL;
    try {
      url = new URL(a.href, win.location.href);
    } catch {
      e.preventDefault();
      return;
    }
    if (url.origin === own() && !a.target) return; // a link within the console
    e.preventDefault();
    if (isWebUrl(url)) open(url.href);
  };
  const onSubmit = (e: Event) => e.preventDefault(); // every form is handled by script
  const onDragOver = (e: DragEvent) => {
    if (!editable(e.target) || carriesFiles(e)) e.preventDefault();
  };
  const onDrop = (e: DragEvent) => {
    if (!editable(e.target) || carriesFiles(e)) e.preventDefault();
  };
  type Nav = EventTarget & { addEventListener(t: 'navigate', l: (e: Event & { destination: { url: string }; cancelable: boolean }) => void): void };
  const nav = (win as unknown as { navigation?: Nav }).navigation;
  const onNavigate = (e: Event & { destination: { url: string }; cancelable: boolean }) => {
    let dest: URL;
    try {
      dest = new URL(e.destination.url);
    } catch {
      if (e.cancelable) e.preventDefault();
      return;
    }
    if (dest.origin !== own() && e.cancelable) e.preventDefault();
  };
  doc.addEventListener('click', onClick, true);
  doc.addEventListener('auxclick', onClick, true);
  doc.addEventListener('submit', onSubmit, true);
  win.addEventListener('dragover', onDragOver);
  win.addEventListener('drop', onDrop);
  nav?.addEventListener('navigate', onNavigate);
  return () => {
    doc.removeEventListener('click', onClick, true);
    doc.removeEventListener('auxclick', onClick, true);
    doc.removeEventListener('submit', onSubmit, true);
    win.removeEventListener('dragover', onDragOver);
    win.removeEventListener('drop', onDrop);
    nav?.removeEventListener('navigate', onNavigate as EventListener);
  };
}

/** pickTransport returns the desktop transport inside Wails, the browser one otherwise. */
export function pickTransport(): Transport {
  const w = window as unknown as WailsWindow;
  const app = w.go?.app?.App;
  if (app && w.runtime) return desktopTransport(app, w);
  return browserTransport();
}
