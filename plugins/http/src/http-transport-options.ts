import { ConfigError, ErrorCodes, type Logger } from '@sisyphus/core';

/** Options of the HTTP transport (the config's `transport.options`). */
export interface HttpTransportOptions {
  /** Base URL of the Sisyphus API. Default `http://localhost:5000` (overridden by `API_URL`). */
  apiUrl?: string;
  /** Sent as `Authorization: Bearer TOKEN` (servers with auth on). */
  token?: string;
  /** Give up on a request after this many milliseconds (a long-poll gets its wait on top). Default 30000. */
  requestTimeoutMs?: number;
  /**
   * Long-poll `GET /queue/poll?wait=...`: `true`/`false` force it; default:
   * on when `GET /status/config` lists `features.long_poll` (our server),
   * off otherwise (the original Python server).
   */
  longPoll?: boolean;
  /** Worker id used when a heartbeat names none. */
  workerId?: string;
  /** Where the transport notes what it detected. */
  logger?: Logger;
  /** A `fetch` to use instead of the global one (tests, proxies). */
  fetch?: typeof fetch;
}

/** The default API address, as in the original worker. */
export const DEFAULT_API_URL = 'http://localhost:5000';

/** The options with defaults filled in. */
export interface ResolvedHttpTransportOptions extends HttpTransportOptions {
  apiUrl: string;
  requestTimeoutMs: number;
}

/** Check the options and fill in defaults; a wrong field is a `ConfigError` that names it. */
export function resolveHttpTransportOptions(options: HttpTransportOptions = {}): ResolvedHttpTransportOptions {
  const bad = (field: string, why: string) =>
    new ConfigError(`transport.options.${field}: ${why}`, { code: ErrorCodes.CONFIG_INVALID });
  const apiUrl = options.apiUrl ?? DEFAULT_API_URL;
  if (typeof apiUrl !== 'string' || !/^https?:\/\//i.test(apiUrl)) throw bad('apiUrl', `must be an http(s) URL (got ${JSON.stringify(apiUrl)})`);
  try {
    new URL(apiUrl);
  } catch {
    throw bad('apiUrl', `is not a valid URL: ${apiUrl}`);
  }
  if (options.token !== undefined && (typeof options.token !== 'string' || options.token === '')) throw bad('token', 'must be a non-empty string');
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  if (typeof requestTimeoutMs !== 'number' || !(requestTimeoutMs > 0)) throw bad('requestTimeoutMs', 'must be a positive number');
  if (options.longPoll !== undefined && typeof options.longPoll !== 'boolean') throw bad('longPoll', 'must be true or false');
  return { ...options, apiUrl, requestTimeoutMs };
}
