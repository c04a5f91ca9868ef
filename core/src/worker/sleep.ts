import { addAbortListener } from 'node:events';

/** Ends a {@link sleep} early, but not before `minMs` of it have passed. */
export interface Wake {
  signal: AbortSignal;
  /** Shortest wait even when `signal` has fired (milliseconds; default 0). */
  minMs?: number;
}

/**
 * Wait `ms` milliseconds, or less when `signal` fires. Resolves true when
 * the full time passed, false when it was cut short; never rejects.
 * `wake` cuts it short too, though not before `wake.minMs`: a retry waiting
 * on its backoff goes as soon as the server is reachable again, yet a server
 * that answers some calls and fails this one does not get it in a tight loop.
 */
export function sleep(ms: number, signal?: AbortSignal, wake?: Wake): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const started = performance.now();
    const listeners: Disposable[] = [];
    let done = false;
    const finish = (full: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      for (const listener of listeners) listener[Symbol.dispose]();
      resolve(full);
    };
    let timer = setTimeout(finish, ms, true);
    if (signal) listeners.push(addAbortListener(signal, () => finish(false)));
    if (wake) {
      const minMs = wake.minMs ?? 0;
      if (minMs < ms) {
        listeners.push(addAbortListener(wake.signal, () => {
          if (done) return; // an already fired signal calls back a microtask later
          const left = minMs - (performance.now() - started);
          if (left <= 0) return finish(false);
          clearTimeout(timer);
          timer = setTimeout(finish, left, false);
        }));
      }
    }
  });
}
