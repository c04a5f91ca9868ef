/** Fields of a {@link TransportError}. */
export interface TransportErrorOptions {
  /** Try again later (network error, 5xx, timeout)? Default true. */
  retryable?: boolean;
  /** HTTP status (or the adapter's equivalent), when there was an answer. */
  status?: number;
  cause?: unknown;
}

/**
 * A transport call that did not go through. `retryable` tells the worker
 * whether to back off and try again (server unreachable, 5xx) or to give up
 * on this call (e.g. 401: a wrong token will not fix itself).
 */
export class TransportError extends Error {
  override readonly name = 'TransportError';
  /** Worth trying again later. */
  readonly retryable: boolean;
  /** HTTP status (or equivalent), when the server answered. */
  readonly status?: number;

  constructor(message: string, options: TransportErrorOptions = {}) {
    super(message, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.retryable = options.retryable ?? true;
    if (options.status !== undefined) this.status = options.status;
  }
}

/** Should the worker retry after `error`? True unless it says `retryable: false`. */
export function isRetryable(error: unknown): boolean {
  return !(typeof error === 'object' && error !== null && (error as { retryable?: unknown }).retryable === false);
}
