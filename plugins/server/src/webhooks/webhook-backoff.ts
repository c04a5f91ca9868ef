/** The delay before the second attempt, before jitter (ms); it doubles with each attempt. */
export const RETRY_BASE_MS = 1000;
/** The longest delay between two attempts (ms). */
export const RETRY_MAX_MS = 30 * 60_000;
/** The longest `Retry-After` honoured (ms); a longer one is cut to it. */
export const RETRY_AFTER_MAX_MS = 60 * 60_000;

/**
 * How long to wait after failed attempt number `attempt` (1 for the first)
 * before the next: exponential (`RETRY_BASE_MS` × 2^(attempt−1), at most
 * `RETRY_MAX_MS`) with jitter, between half and all of it, so that
 * deliveries that failed together (a receiver that was down) do not all
 * come back at once. `random` in [0, 1).
 */
export function retryDelayMs(attempt: number, random: () => number = Math.random): number {
  const full = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.max(0, Math.min(attempt - 1, 40)));
  return Math.round(full / 2 + random() * (full / 2));
}

/**
 * A `Retry-After` header in ms from `now` (epoch ms): delay-seconds or an
 * HTTP date, at most `RETRY_AFTER_MAX_MS`; undefined when absent or not
 * understood.
 */
export function retryAfterMs(header: string | null | undefined, now: number): number | undefined {
  if (header === null || header === undefined) return undefined;
  const text = header.trim();
  let ms: number;
  if (/^\d+$/.test(text)) ms = Number(text) * 1000;
  else {
    const at = Date.parse(text);
    if (Number.isNaN(at)) return undefined;
    ms = at - now;
  }
  return Math.min(RETRY_AFTER_MAX_MS, Math.max(0, ms));
}
