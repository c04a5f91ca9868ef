/**
 * Idle workers waiting in a long-poll (`GET /queue/poll?wait=S`). When a job
 * is queued (or requeued) the oldest waiter is woken to try a lease, so an
 * idle worker starts a new job within milliseconds instead of a poll interval.
 */
export class PollWaiters {
  readonly #waiting: Array<() => void> = [];

  /** Resolve after `ms`, or earlier when woken or `signal` fires. */
  wait(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        const i = this.#waiting.indexOf(done);
        if (i >= 0) this.#waiting.splice(i, 1);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      this.#waiting.push(done);
    });
  }

  /** Wake up to `count` waiters (oldest first). */
  wake(count = 1): void {
    for (const done of this.#waiting.slice(0, count)) done();
  }

  /** Wake everyone (shutdown). */
  wakeAll(): void {
    this.wake(this.#waiting.length);
  }

  get size(): number {
    return this.#waiting.length;
  }
}
