import { redactUrl } from '../transport/redact-url.js';
import { SisyphusError } from '../module/errors.js';
import { ErrorCodes } from '../module/error-codes.js';
import { printable } from './printable.js';
import { usage } from './usage-error.js';

/** Where the operator commands find the server. */
export interface ApiOptions {
  /** Base URL. Default: `$SISYPHUS_API`, else `$API_URL`, else http://localhost:5000. */
  api?: string;
  /** Bearer token. Default `$SISYPHUS_TOKEN`. */
  token?: string;
}

/** Answers that mean "the server cannot serve now", not "it refused the request": a gateway without its server, or the store reconnecting. */
const UNAVAILABLE_STATUSES = new Set([502, 503, 504]);

/** Milliseconds one request may take before the server counts as unreachable. */
export const API_TIMEOUT_MS = 30_000;

/**
 * The server said no (4xx, code `SIS_USAGE`) or failed (5xx, `SIS_RUN`), or
 * could not be reached (`status` 0: refused, no such host, timed out; or a
 * 502/503/504 answer): code `SIS_SERVER_UNREACHABLE`, exit 3.
 */
export class ApiError extends SisyphusError {
  constructor(
    message: string,
    readonly status: number,
    readonly body?: unknown,
    /**
     * The request may have reached the server and been carried out although
     * no answer says so: it was sent, and then the answer timed out, the
     * connection broke, or a gateway answered 502/503/504 (it may have
     * forwarded the request). False when it surely was not (connection
     * refused, unknown host) or the server itself answered.
     */
    readonly mayHaveReachedServer = false,
  ) {
    super(message, {}, status === 0 || UNAVAILABLE_STATUSES.has(status) ? ErrorCodes.SERVER_UNREACHABLE : status >= 400 && status < 500 ? ErrorCodes.USAGE : ErrorCodes.RUN);
  }

  /** The server could not be reached or cannot serve now (exit 3): trying again later may work. */
  get unreachable(): boolean {
    return this.code === ErrorCodes.SERVER_UNREACHABLE;
  }
}

/** `url` with any user name and password replaced by `****` (one rule: {@link redactUrl}; also without a scheme), for messages. */
export function maskUrl(url: string): string {
  return printable(/^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? redactUrl(url) : url.replace(/^[^/?#]*@/, '****@'));
}

/**
 * The server's base URL, checked: an http(s) URL without a user name or
 * password (fetch refuses those, and a password in a URL ends up in shell
 * history and in messages; the token goes in `--token` /
 * `$SISYPHUS_TOKEN`). Anything else is bad usage (exit 2), named by
 * where it came from, with the URL masked.
 */
function checkedBase(url: string, from: string): string {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    throw usage(`${from} must be an http:// or https:// URL (got ${maskUrl(url)})`);
  }
  if (parsed.username || parsed.password) {
    throw usage(`${from} must not hold a user name or password (got ${maskUrl(url)}); give the token with --token or $SISYPHUS_TOKEN`);
  }
  return url.replace(/\/+$/, '');
}

/**
 * Resolve the base URL and token from options and the environment. Throws
 * a usage error (exit 2) for a URL that is not http(s) or holds a user
 * name or password; the message names the source and masks the URL.
 */
export function apiTarget(options: ApiOptions): { base: string; token?: string } {
  const env = (name: string) => process.env[name]?.trim() || undefined;
  const sources: Array<[string | undefined, string]> = [
    [options.api || undefined, '--api (or the config\'s api.url)'],
    [env('SISYPHUS_API'), '$SISYPHUS_API'],
    [env('API_URL'), '$API_URL'],
  ];
  const [url, from] = sources.find(([value]) => value !== undefined) ?? ['http://localhost:5000', 'the default server URL'];
  const base = checkedBase(url!, from);
  const token = options.token || env('SISYPHUS_TOKEN');
  return token ? { base, token } : { base };
}

/** Failures that happen before a request is sent (and TLS handshake failures): it surely did not reach the server. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ERR_INVALID_URL', 'UND_ERR_CONNECT_TIMEOUT']);

/** Why a fetch failed, in a word (`ECONNREFUSED`, `ENOTFOUND`, `timed out after 30 s`, ...), and whether the request may have been sent. */
function failureOf(error: unknown): { why: string; maybeSent: boolean } {
  if ((error as Error).name === 'TimeoutError') return { why: `timed out after ${API_TIMEOUT_MS / 1000} s`, maybeSent: true };
  const inner = (error as { cause?: { code?: string; message?: string; errors?: Array<{ code?: string }> } }).cause;
  const code = inner?.code ?? inner?.errors?.find((e) => e.code)?.code;
  return { why: printable(code ?? inner?.message ?? (error as Error).message), maybeSent: code === undefined || !(NOT_SENT.has(code) || /CERT|SSL|TLS/.test(code)) };
}

/** Options of one {@link apiRequest}. */
export interface RequestOptions {
  /** Ends the request early (e.g. Ctrl-C); the abort reason is thrown as is. */
  signal?: AbortSignal;
}

/**
 * One request to the job server; resolves with the parsed JSON (undefined
 * for 204). Throws an {@link ApiError} with the server's own message.
 */
export async function apiRequest<T = unknown>(options: ApiOptions, method: string, path: string, body?: unknown, request: RequestOptions = {}): Promise<T> {
  const { base, token } = apiTarget(options);
  const timeout = AbortSignal.timeout(API_TIMEOUT_MS);
  const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
  let response: Response;
  let text: string;
  try {
    response = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal,
    });
    text = await response.text();
  } catch (error) {
    if (request.signal?.aborted) throw request.signal.reason;
    const { why, maybeSent } = failureOf(error);
    throw new ApiError(`cannot reach the server at ${printable(base)}: ${why}`, 0, undefined, maybeSent);
  }
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  if (!response.ok) {
    const given = (parsed as { message?: unknown } | undefined)?.message;
    // The server's (or a proxy's) words, on one line and printable: they may quote what a submitter or worker sent.
    const message = printable(String(given ?? (text || response.statusText)).replace(/\s+/g, ' ').trim());
    const unavailable = UNAVAILABLE_STATUSES.has(response.status);
    const where = unavailable ? `the server at ${printable(base)} cannot serve now: ` : '';
    // Our own server's "store unavailable" means it did nothing; any other gateway answer may come after the request was forwarded.
    const storeRefused = (parsed as { code?: unknown } | undefined)?.code === ErrorCodes.STORE_UNAVAILABLE;
    throw new ApiError(`${where}${method} ${printable(path)}: ${response.status} ${message}`, response.status, parsed, unavailable && !storeRefused);
  }
  return parsed as T;
}
