import { TransportError } from '@sisyphus/core/transport';
import { nodeRequest, type Agents } from './node-request.js';

/** An HTTP answer, body read as text. */
export interface HttpAnswer {
  status: number;
  text: string;
}

/** One request of {@link httpRequest}. */
export interface HttpRequestInit {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Path and query, e.g. `/queue/poll?wait=10`. */
  path: string;
  /** Sent as JSON. */
  body?: unknown;
  token?: string;
  timeoutMs: number;
  /** The caller's signal (worker stopping). */
  signal?: AbortSignal;
  /** The transport's own signal (closed). */
  closed: AbortSignal;
  /** A custom fetch (tests, proxies); without it, node:http with keep-alive `agents`. */
  fetch?: typeof fetch;
  agents: Agents;
}

/** `base` + `path`, keeping a path prefix of the base (`http://h/api` + `/queue`). */
export function joinUrl(base: string, path: string): string {
  return new URL(path.replace(/^\/+/, ''), base.endsWith('/') ? base : `${base}/`).href;
}

/**
 * One HTTP request with a timeout. Resolves with any HTTP answer (the
 * caller judges the status). When the server cannot be reached, or the
 * answer does not arrive in time, throws a retryable `TransportError`;
 * when the caller's signal fired, rethrows its reason.
 */
export async function httpRequest(base: string, init: HttpRequestInit): Promise<HttpAnswer> {
  const timeout = AbortSignal.timeout(init.timeoutMs);
  const signals = [timeout, init.closed, ...(init.signal ? [init.signal] : [])];
  const what = `${init.method} ${init.path}`;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  const body = init.body !== undefined ? JSON.stringify(init.body) : undefined;
  const signal = AbortSignal.any(signals);
  try {
    if (!init.fetch) return await nodeRequest(joinUrl(base, init.path), { method: init.method, headers, ...(body !== undefined ? { body } : {}), signal }, init.agents);
    const response = await init.fetch(joinUrl(base, init.path), { method: init.method, headers, ...(body !== undefined ? { body } : {}), signal });
    return { status: response.status, text: await response.text() };
  } catch (error) {
    if (init.signal?.aborted) throw init.signal.reason ?? error;
    if (init.closed.aborted) throw new TransportError(`${what}: the transport is closed`, { retryable: false, cause: error });
    if (timeout.aborted) throw new TransportError(`${what}: no answer within ${init.timeoutMs / 1000} s`, { cause: error });
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const detail = cause?.code ?? cause?.message ?? (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new TransportError(`${what}: ${detail}`, { cause: error });
  }
}

/** Is the status a success (2xx)? */
export function isOk(answer: HttpAnswer): boolean {
  return answer.status >= 200 && answer.status < 300;
}

/**
 * The error for an unexpected answer: 5xx, 408 and 429 are worth retrying;
 * other statuses (401, 403, 400...) will not change by themselves.
 */
export function statusError(what: string, answer: HttpAnswer): TransportError {
  const retryable = answer.status >= 500 || answer.status === 408 || answer.status === 429;
  const body = answer.text.trim().slice(0, 200);
  return new TransportError(`${what}: HTTP ${answer.status}${body ? ` ${body}` : ''}`, { retryable, status: answer.status });
}

/** Parse a JSON body; a malformed one is a (retryable) `TransportError`. */
export function parseJson(what: string, answer: HttpAnswer): unknown {
  try {
    // JSON.parse reads the \u0026-style escapes the server uses for & < >.
    return JSON.parse(answer.text);
  } catch (error) {
    throw new TransportError(`${what}: the answer is not JSON (${answer.text.slice(0, 80)})`, { status: answer.status, cause: error });
  }
}
