import { SisyphusError } from '../module/errors.js';
import { ErrorCodes } from '../module/error-codes.js';

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
  ) {
    super(message, {}, status === 0 || UNAVAILABLE_STATUSES.has(status) ? ErrorCodes.SERVER_UNREACHABLE : status >= 400 && status < 500 ? ErrorCodes.USAGE : ErrorCodes.RUN);
  }

  /** The server could not be reached or cannot serve now (exit 3): trying again later may work. */
  get unreachable(): boolean {
    return this.code === ErrorCodes.SERVER_UNREACHABLE;
  }
}

/** Resolve the base URL and token from options and the environment. */
export function apiTarget(options: ApiOptions): { base: string; token?: string } {
  const env = (name: string) => process.env[name]?.trim() || undefined;
  const base = (options.api || env('SISYPHUS_API') || env('API_URL') || 'http://localhost:5000').replace(/\/+$/, '');
  const token = options.token || env('SISYPHUS_TOKEN');
  return token ? { base, token } : { base };
}

/** Why a fetch failed, in a word: `ECONNREFUSED`, `ENOTFOUND`, `timed out after 30 s`, ... */
function failureOf(error: unknown): string {
  if ((error as Error).name === 'TimeoutError') return `timed out after ${API_TIMEOUT_MS / 1000} s`;
  const inner = (error as { cause?: { code?: string; message?: string; errors?: Array<{ code?: string }> } }).cause;
  return inner?.code ?? inner?.errors?.find((e) => e.code)?.code ?? inner?.message ?? (error as Error).message;
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
    throw new ApiError(`cannot reach the server at ${base}: ${failureOf(error)}`, 0);
  }
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  if (!response.ok) {
    const message = (parsed as { message?: string } | undefined)?.message ?? (text || response.statusText);
    const where = UNAVAILABLE_STATUSES.has(response.status) ? `the server at ${base} cannot serve now: ` : '';
    throw new ApiError(`${where}${method} ${path}: ${response.status} ${message}`, response.status, parsed);
  }
  return parsed as T;
}
