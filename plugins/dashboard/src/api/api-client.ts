import { noteDateHeader } from '../state/server-clock.js';
import { toast } from '../state/toast.js';
import { getToken } from './token-store.js';

/** A refused or failed API call: the HTTP status (0: the server could not be reached) and the server's message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body?: unknown,
    /** Already shown to the user (a 403 toast, a 401 that went back to the login). */
    readonly handled = false,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Options of {@link api}. */
export interface ApiOptions {
  method?: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  body?: unknown;
  /** Use this token instead of the session's (`null`: none). */
  token?: string | null;
  /** Let 401 and 403 through to the caller instead of ending the session or showing a toast. */
  raw?: boolean;
}

let onUnauthorized: (message: string) => void = () => {};

/** What to do when the server no longer knows the session's token (set by the session). */
export function setUnauthorizedHandler(handler: (message: string) => void): void {
  onUnauthorized = handler;
}

function messageOf(body: unknown, status: number): string {
  if (typeof body === 'object' && body !== null && typeof (body as { message?: unknown }).message === 'string') {
    return (body as { message: string }).message;
  }
  return `HTTP ${status}`;
}

/**
 * Call the API at `path` (an absolute path on this server, e.g. `/jobs`):
 * JSON in and out, the session's bearer token, errors as {@link ApiError}.
 * A 401 ends the session (back to the login), a 403 shows a toast.
 */
export async function api<T>(path: string, options: ApiOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const token = options.token !== undefined ? options.token : getToken();
  if (token) headers.authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(path, {
      method: options.method ?? 'GET',
      headers,
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, 'cannot reach the server');
  }
  noteDateHeader(response.headers.get('date'));
  const text = response.status === 204 ? '' : await response.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  if (response.ok) return body as T;
  const message = messageOf(body, response.status);
  if (!options.raw && response.status === 401) {
    onUnauthorized(message);
    throw new ApiError(401, message, body, true);
  }
  if (!options.raw && response.status === 403) {
    toast(`Not allowed: ${message}`, 'error');
    throw new ApiError(403, message, body, true);
  }
  throw new ApiError(response.status, message, body);
}

/** Show a failed call's message, unless it was shown already. */
export function reportError(error: unknown): void {
  if (error instanceof ApiError) {
    if (!error.handled) toast(error.message, 'error');
    return;
  }
  toast(error instanceof Error ? error.message : String(error), 'error');
}
