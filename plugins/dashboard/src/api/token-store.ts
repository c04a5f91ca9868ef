/** The session's bearer token: in sessionStorage only (gone when the browser tab closes). */
const KEY = 'sisyphus.token';
/** Where the token lives when storage is disabled: as long as the page. */
let memory: string | null = null;

/** The token of this browser session, if any. */
export function getToken(): string | null {
  try {
    return sessionStorage.getItem(KEY) ?? memory;
  } catch {
    return memory;
  }
}

/** Keep (or with `null`, forget) the session's token. */
export function setToken(token: string | null): void {
  memory = token;
  try {
    if (token) sessionStorage.setItem(KEY, token);
    else sessionStorage.removeItem(KEY);
  } catch {
    // Storage disabled: `memory` keeps it.
  }
}
