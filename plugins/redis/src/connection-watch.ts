import type { Redis } from 'ioredis';
import type { BullmqInternals } from './bullmq-internals.js';

/**
 * Listens to the errors of the store's connection and of BullMQ's queue and
 * worker (ioredis prints every unheard one), tells `log` once per outage and
 * once when Redis is back, and calls the reconnect listeners then.
 */
export class ConnectionWatch {
  #down = false;
  #closed = false;
  readonly #reconnectListeners = new Set<() => void>();

  constructor(
    private readonly redis: Redis,
    bull: BullmqInternals,
    log: ((level: 'warn' | 'info', message: string) => void) | undefined,
  ) {
    const lost = (error: Error) => {
      if (this.#down || this.#closed) return;
      this.#down = true;
      log?.('warn', `Redis connection lost (${error.message}); reconnecting`);
    };
    redis.on('error', lost);
    bull.onError(lost);
    redis.on('ready', () => {
      if (!this.#down) return;
      this.#down = false;
      log?.('info', 'Redis connection back');
      for (const listener of this.#reconnectListeners) listener();
    });
  }

  /** See {@link BullmqStore.onReconnect}. */
  onReconnect(listener: () => void): () => void {
    this.#reconnectListeners.add(listener);
    return () => {
      this.#reconnectListeners.delete(listener);
    };
  }

  /** Why Redis cannot serve requests right now (connecting, reconnecting...), or undefined. */
  unavailable(): string | undefined {
    return this.redis.status === 'ready' ? undefined : `the Redis store is ${this.redis.status}; try again shortly`;
  }

  /** No more outage reports (the store is closing). */
  close(): void {
    this.#closed = true;
  }
}
