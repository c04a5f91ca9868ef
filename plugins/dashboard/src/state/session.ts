import { ApiError, api, setUnauthorizedHandler } from '../api/api-client.js';
import { getToken, setToken } from '../api/token-store.js';
import type { Role, WhoAmI } from '../api/types.js';
import { Observable } from './observable.js';

/** Where the session stands: asking the server, signed out, the server unreachable, or signed in. */
export type SessionState =
  | { phase: 'checking' }
  | { phase: 'unreachable'; message: string }
  | { phase: 'login'; error?: string; busy?: boolean }
  | { phase: 'ready'; auth: boolean; role: Role; name?: string };

/** The refusal shown when a worker token tries to sign in. */
export const WORKER_REFUSED = 'worker tokens cannot sign in to the dashboard';

/** The current session. */
export const session = new Observable<SessionState>({ phase: 'checking' });

/** Actions only an admin may take (with auth off everyone is admin); `fleet.read`: see the watch folders and webhooks. */
export type AdminAction = 'queue.pause' | 'worker.disable' | 'data.write' | 'fleet.read';

/** May the signed-in user take `action`? */
export function can(_action: AdminAction): boolean {
  const state = session.value;
  return state.phase === 'ready' && (!state.auth || state.role === 'admin');
}

/** Why the page went back to the login: the server refused the session's token (removed from its config). */
function signedOut(message: string): string {
  return `Signed out: the server no longer accepts this token (${message}). Sign in again.`;
}

setUnauthorizedHandler((message) => {
  if (session.value.phase !== 'ready') return;
  setToken(null);
  session.set({ phase: 'login', error: signedOut(message) });
});

async function whoami(token: string | null): Promise<WhoAmI> {
  return api<WhoAmI>('/auth/whoami', { token, raw: true });
}

/** Ask the server who we are (with the session's token, if any): signed in, or the login. */
export async function startSession(): Promise<void> {
  session.set({ phase: 'checking' });
  const token = getToken();
  try {
    const me = await whoami(token);
    // Auth on and no token sent: the server answers `role: null` (not a 401, so the first load logs no error).
    if (me.auth && !me.role) {
      if (token) setToken(null);
      session.set({ phase: 'login' });
      return;
    }
    if (me.auth && me.role === 'worker') {
      setToken(null);
      session.set({ phase: 'login', error: WORKER_REFUSED });
      return;
    }
    session.set({ phase: 'ready', auth: me.auth, role: me.auth && me.role ? me.role : 'admin', ...(me.name ? { name: me.name } : {}) });
  } catch (error) {
    // A token the server does not know (removed from its config): 401.
    if (error instanceof ApiError && error.status === 401) {
      if (token) setToken(null);
      session.set(token ? { phase: 'login', error: signedOut(error.message) } : { phase: 'login' });
    } else {
      session.set({ phase: 'unreachable', message: error instanceof Error ? error.message : String(error) });
    }
  }
}

/** Sign in with `token`: refused when the server does not know it or it is a worker's. */
export async function signIn(token: string): Promise<void> {
  token = token.trim();
  if (!token) {
    session.set({ phase: 'login', error: 'enter a token' });
    return;
  }
  session.set({ phase: 'login', busy: true });
  try {
    const me = await whoami(token);
    if (me.auth && !me.role) {
      session.set({ phase: 'login', error: 'unknown token' });
      return;
    }
    if (me.role === 'worker') {
      session.set({ phase: 'login', error: WORKER_REFUSED });
      return;
    }
    setToken(token);
    session.set({ phase: 'ready', auth: me.auth, role: me.auth && me.role ? me.role : 'admin', ...(me.name ? { name: me.name } : {}) });
  } catch (error) {
    const unknown = error instanceof ApiError && error.status === 401;
    session.set({ phase: 'login', error: unknown ? 'unknown token' : error instanceof Error ? error.message : String(error) });
  }
}

/** Forget the token and show the login. */
export function signOut(): void {
  setToken(null);
  session.set({ phase: 'login' });
}
