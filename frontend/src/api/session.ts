// Team mode's logins in the app (issue 14): who is logged in (/auth/me),
// what their role may call, and the login and logout requests. In
// single-user mode (the printed token) and in the desktop window there is no
// user: everything is allowed and nothing here shows. The server's 403 stays
// the real guard; this only hides or disables what would be refused.

/** AuthRoutes are the server's login routes (backend/httpapi/team.go). */
export const AuthRoutes = {
  login: '/auth/login',
  logout: '/auth/logout',
  me: '/auth/me',
} as const;

/** Me is /auth/me's answer. */
export interface Me {
  /** team is false in single-user mode; then the other fields are absent. */
  team: boolean;
  name?: string;
  role?: string;
  /** methods maps every API method to the least role that may call it. */
  methods?: Record<string, string>;
}

const RANK: Record<string, number> = { observer: 1, moderator: 2, lead: 3 };

/** neededRole is the least role that may call method (lead for one the server did not list, as the server does). */
export function neededRole(me: Me, method: string): string {
  return me.methods?.[method] ?? 'lead';
}

/** may reports whether the logged-in user may call method; always true outside team mode. */
export function may(me: Me | null | undefined, method: string): boolean {
  if (!me?.team) return true;
  const have = RANK[me.role ?? ''] ?? 0;
  return have > 0 && have >= (RANK[neededRole(me, method)] ?? 3);
}

/** denial is the tooltip of a control the user's role may not use ('' when it may). */
export function denial(me: Me | null | undefined, method: string): string {
  if (may(me, method)) return '';
  return `Your role (${me?.role || 'none'}) may not do this: it needs ${neededRole(me as Me, method)}.`;
}

/** MeResult is what the app does at start: show the login screen, or load (with the user in team mode). */
export type MeResult = { kind: 'login' } | { kind: 'app'; me: Me | null };

type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

/** isLoginAnswer reports whether a 401 body is team mode's "log in" answer ({"error":…,"login":…}). */
export function isLoginAnswer(status: number, body: string): boolean {
  if (status !== 401) return false;
  try {
    const j = JSON.parse(body) as { login?: unknown };
    return typeof j.login === 'string' && j.login !== '';
  } catch {
    return false;
  }
}

/**
 * loadMe asks /auth/me who is logged in. Team mode without a session gives
 * { kind: 'login' }; team mode with one gives the user; single-user mode
 * (or a server without the route, such as the dev server) gives no user,
 * so the app loads as it always did.
 */
export async function loadMe(f: Fetch): Promise<MeResult> {
  let res: Response;
  try {
    res = await f(AuthRoutes.me, { credentials: 'same-origin' });
  } catch {
    return { kind: 'app', me: null };
  }
  const text = await res.text();
  if (isLoginAnswer(res.status, text)) return { kind: 'login' };
  if (!res.ok) return { kind: 'app', me: null };
  try {
    const me = JSON.parse(text) as Me;
    if (me && me.team === true && typeof me.name === 'string' && typeof me.role === 'string') return { kind: 'app', me };
  } catch {
    /* not JSON: an older server or the dev server's index.html */
  }
  return { kind: 'app', me: null };
}

/**
 * logIn posts the name and password as JSON. It resolves to '' on success
 * (the server set the session cookie) or to the message to show: the
 * server's own for a wrong password, its rate-limit answer with the wait
 * from Retry-After, or what went wrong.
 */
export async function logIn(f: Fetch, name: string, password: string): Promise<string> {
  if (!name.trim() || !password) return 'Enter your name and password.';
  let res: Response;
  try {
    res = await f(AuthRoutes.login, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name, password }),
    });
  } catch (e) {
    return `The console did not answer: ${(e as Error).message || String(e)}`;
  }
  if (res.ok) return '';
  let msg = '';
  try {
    const j = JSON.parse(await res.text()) as { error?: unknown };
    if (typeof j.error === 'string') msg = j.error;
  } catch {
    /* not JSON */
  }
  if (res.status === 429) {
    const wait = Number(res.headers.get('Retry-After'));
    const base = msg || 'Too many failed logins for this name.';
    return wait > 0 ? `${base} Next attempt in ${wait} s.` : base;
  }
  if (res.status === 401) return msg || 'Wrong name or password.';
  return `Login failed (HTTP ${res.status})${msg ? `: ${msg}` : ''}`;
}

/** logOut ends this session on the server; it resolves to '' or what went wrong. */
export async function logOut(f: Fetch): Promise<string> {
  try {
    const res = await f(AuthRoutes.logout, { method: 'POST', credentials: 'same-origin' });
    return res.ok ? '' : `Logout failed (HTTP ${res.status})`;
  } catch (e) {
    return `Logout failed: ${(e as Error).message || String(e)}`;
  }
}
