import { SisyphusError } from '../module/errors.js';
import { ErrorCodes } from '../module/error-codes.js';

/** Where the operator commands find the server. */
export interface ApiOptions {
  /** Base URL. Default: `$SISYPHUS_API`, else `$API_URL`, else http://localhost:5000. */
  api?: string;
  /** Bearer token. Default `$SISYPHUS_TOKEN`. */
  token?: string;
}

/** The server said no (4xx) or failed (5xx), or could not be reached (`status` 0). */
export class ApiError extends SisyphusError {
  constructor(
    message: string,
    readonly status: number,
    readonly body?: unknown,
  ) {
    super(message, {}, status >= 400 && status < 500 ? ErrorCodes.USAGE : ErrorCodes.RUN);
  }
}

/** Resolve the base URL and token from options and the environment. */
export function apiTarget(options: ApiOptions): { base: string; token?: string } {
  const env = (name: string) => process.env[name]?.trim() || undefined;
  const base = (options.api || env('SISYPHUS_API') || env('API_URL') || 'http://localhost:5000').replace(/\/+$/, '');
  const token = options.token || env('SISYPHUS_TOKEN');
  return token ? { base, token } : { base };
}

/**
 * One request to the job server; resolves with the parsed JSON (undefined
 * for 204). Throws an {@link ApiError} with the server's own message.
 */
export async function apiRequest<T = unknown>(options: ApiOptions, method: string, path: string, body?: unknown): Promise<T> {
  const { base, token } = apiTarget(options);
  let response: Response;
  try {
    response = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    const inner = (error as { cause?: { code?: string; message?: string; errors?: Array<{ code?: string }> } }).cause;
    const cause = inner?.code ?? inner?.errors?.find((e) => e.code)?.code ?? inner?.message ?? (error as Error).message;
    throw new ApiError(`cannot reach the server at ${base}: ${cause}`, 0);
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  if (!response.ok) {
    const message = (parsed as { message?: string } | undefined)?.message ?? (text || response.statusText);
    throw new ApiError(`${method} ${path}: ${response.status} ${message}`, response.status, parsed);
  }
  return parsed as T;
}
