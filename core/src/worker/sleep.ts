import { setTimeout as delay } from 'node:timers/promises';

/**
 * Wait `ms` milliseconds, or less when `signal` fires. Resolves true when
 * the full time passed, false when it was cut short; never rejects.
 */
export async function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return false;
  try {
    await delay(ms, undefined, signal ? { signal } : {});
    return true;
  } catch {
    return false;
  }
}
