import { retryAfterMs } from './webhook-backoff.js';

/** One POST of a delivery. */
export interface WebhookRequest {
  url: string;
  /** The JSON body, sent as it is. */
  body: string;
  headers: Record<string, string>;
  /** Longest time for the whole attempt (connect, send, answer headers), ms. */
  timeoutMs: number;
  /** Aborts the attempt (the server is closing). */
  signal?: AbortSignal;
  /** Current time (epoch ms), for an HTTP-date `Retry-After`. */
  now?: number;
}

/** How one attempt went. */
export interface WebhookAttempt {
  /** A 2xx answer. */
  ok: boolean;
  /** The answer's status, when there was one. */
  status?: number;
  /** Why it failed (`HTTP 500`, `timed out after 10 s`, the network error). */
  error?: string;
  /** Worth trying again: no answer (network error, timeout), 408, 429 or 5xx. Other 4xx and 3xx are not. */
  retryable: boolean;
  /** The answer's `Retry-After`, in ms. */
  retryAfterMs?: number;
  /** `signal` aborted it. */
  aborted?: boolean;
}

/** The cause's message of a fetch failure (`fetch failed` alone says nothing), one line. */
function reason(error: unknown): string {
  const cause = (error as { cause?: { message?: unknown; code?: unknown } }).cause;
  const text = typeof cause?.message === 'string' && cause.message ? cause.message : (error as Error).message;
  return String(text).split('\n')[0]!.slice(0, 300);
}

/**
 * POST a delivery with Node's fetch (undici): no redirects followed (a 3xx
 * is a failure: a webhook's URL says where it goes), the answer's body is
 * not read (it is cancelled, freeing the connection), and the attempt ends
 * after `timeoutMs` whatever the receiver does.
 */
export async function sendWebhook(request: WebhookRequest): Promise<WebhookAttempt> {
  // One controller per attempt (AbortSignal.any on the long-lived closing signal keeps every attempt's signal alive in Node 20).
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, request.timeoutMs);
  const stop = () => controller.abort();
  if (request.signal?.aborted) controller.abort();
  request.signal?.addEventListener('abort', stop, { once: true });
  try {
    const response = await fetch(request.url, { method: 'POST', headers: request.headers, body: request.body, redirect: 'manual', signal: controller.signal });
    await response.body?.cancel().catch(() => undefined);
    const status = response.status;
    if (status >= 200 && status < 300) return { ok: true, status, retryable: false };
    const retryable = status === 408 || status === 429 || status >= 500;
    const after = retryable ? retryAfterMs(response.headers.get('retry-after'), request.now ?? Date.now()) : undefined;
    return {
      ok: false,
      status,
      error: status >= 300 && status < 400 ? `HTTP ${status} (redirects are not followed)` : `HTTP ${status}`,
      retryable,
      ...(after !== undefined ? { retryAfterMs: after } : {}),
    };
  } catch (error) {
    if (request.signal?.aborted) return { ok: false, error: 'the server closed during the attempt', retryable: true, aborted: true };
    if (timedOut) return { ok: false, error: `timed out after ${request.timeoutMs / 1000} s`, retryable: true };
    return { ok: false, error: reason(error), retryable: true };
  } finally {
    clearTimeout(timer);
    request.signal?.removeEventListener('abort', stop);
  }
}
