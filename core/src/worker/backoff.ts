/** Settings of {@link backoffDelay}. */
export interface BackoffOptions {
  /** Delay before the first retry (milliseconds). */
  baseMs: number;
  /** No delay grows beyond this (milliseconds). */
  maxMs: number;
  /** Source of randomness in [0, 1); for tests. */
  random?: () => number;
}

/**
 * Exponential backoff with jitter: `baseMs * 2^attempt`, capped at `maxMs`,
 * then a random point in its upper half, so that many workers that lost the
 * server at the same moment do not all come back at the same moment.
 * `attempt` counts from 0.
 */
export function backoffDelay(attempt: number, options: BackoffOptions): number {
  const random = options.random ?? Math.random;
  const exp = options.baseMs * 2 ** Math.min(Math.max(attempt, 0), 30);
  const capped = Math.min(options.maxMs, exp);
  return Math.round(capped / 2 + random() * (capped / 2));
}
