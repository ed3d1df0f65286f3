// The one seam between the UI and the backend. In the Wails desktop window it
// uses the bound methods (window.go.app.App) and runtime events; in a browser
// it uses POST /api/<Method> and the /api/events WebSocket.
import { Events, Routes, type MethodName } from './names';
import type { Batch } from './types';

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
  /** onBatch registers the batch handler; resync is called after a reconnect. */
  subscribe(onBatch: (b: Batch) => void, onState: (s: StreamState) => void, onResync: () => void): void;
}

interface WailsWindow {
  go?: { app?: { App?: Record<string, (...args: unknown[]) => Promise<unknown>> } };
  runtime?: { EventsOn: (name: string, cb: (data: unknown) => void) => (() => void) | void };
}

const TOKEN_KEY = 'modconsole.token';

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
    subscribe(onBatch, onState) {
      w.runtime?.EventsOn(Events.Batch, (data) => onBatch(data as Batch));
      onState({ state: 'open', attempt: 0 });
    },
  };
}

/** takeToken reads ?token= once, keeps it in sessionStorage and removes it from the address bar. */
export function takeToken(loc: Location, storage: Storage, hist: History): string | null {
  const url = new URL(loc.href);
  const t = url.searchParams.get(Routes.tokenParam);
  if (t) {
    try {
      storage.setItem(TOKEN_KEY, t);
    } catch {
      /* storage may be disabled; the cookie still authenticates */
    }
    url.searchParams.delete(Routes.tokenParam);
    hist.replaceState(hist.state, '', url.pathname + url.search + url.hash);
    return t;
  }
  try {
    return storage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

/** backoffDelay is the wait before reconnect attempt n (1-based): 0.5 s doubling to 10 s, ±25% jitter. */
export function backoffDelay(attempt: number, rand: () => number = Math.random): number {
  const base = Math.min(10_000, 500 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.75 + rand() * 0.5));
}

function browserTransport(): Transport {
  const token = takeToken(window.location, window.sessionStorage, window.history);
  return {
    kind: 'browser',
    async call<T>(method: MethodName, ...args: unknown[]): Promise<T> {
      const headers: Record<string, string> = { 'Content-Type': 'application/json' };
      if (token) headers[Routes.tokenHeader] = token;
      const res = await fetch(Routes.apiPrefix + method, {
        method: 'POST',
        credentials: 'same-origin',
        headers,
        body: JSON.stringify(args),
      });
      const text = await res.text();
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
    subscribe(onBatch, onState, onResync) {
      let attempt = 0;
      let opened = false;
      const connect = () => {
        const proto = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
        let url = `${proto}//${window.location.host}${Routes.events}`;
        if (token) url += `?${Routes.tokenParam}=${encodeURIComponent(token)}`;
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

/** pickTransport returns the desktop transport inside Wails, the browser one otherwise. */
export function pickTransport(): Transport {
  const w = window as unknown as WailsWindow;
  const app = w.go?.app?.App;
  if (app && w.runtime) return desktopTransport(app, w);
  return browserTransport();
}
