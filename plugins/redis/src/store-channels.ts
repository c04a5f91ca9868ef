import type { Redis } from 'ioredis';
import type { StoreKeys } from './store-keys.js';

/**
 * The store's two pub/sub channels on a prefix, shared by every store
 * instance on it: "jobs may be waiting" (so long-polls and idle direct
 * workers look at once instead of on their next tick) and "cancel of a
 * running job requested" (so a direct worker stops it at once). Messages can
 * be missed (while reconnecting): listeners still look again now and then.
 */
export class StoreChannels {
  #subscriber: Redis | undefined;
  #closed = false;
  readonly #wakeListeners = new Set<(everyone: boolean) => void>();
  readonly #cancelListeners = new Set<(jobId: string) => void>();

  constructor(
    private readonly redis: Redis,
    private readonly keys: StoreKeys,
  ) {}

  /** Tell every subscriber of {@link onJobsAvailable} that a job (or, `everyone`, any number of jobs) may be waiting. */
  async wake(everyone = false): Promise<void> {
    await this.redis.publish(this.keys.wakeChannel, everyone ? '*' : '1');
  }

  /** Tell every subscriber of {@link onCancelRequested} that running job `jobId` is to be cancelled. */
  async cancelRequested(jobId: string): Promise<void> {
    await this.redis.publish(this.keys.cancelChannel, jobId);
  }

  /** See {@link BullmqStore.onJobsAvailable}. */
  onJobsAvailable(listener: (everyone: boolean) => void): () => void {
    this.#wakeListeners.add(listener);
    this.#subscribe();
    return () => {
      this.#wakeListeners.delete(listener);
    };
  }

  /** See {@link BullmqStore.onCancelRequested}. */
  onCancelRequested(listener: (jobId: string) => void): () => void {
    this.#cancelListeners.add(listener);
    this.#subscribe();
    return () => {
      this.#cancelListeners.delete(listener);
    };
  }

  /** The connection that listens on both channels (made on first use). */
  #subscribe(): void {
    if (this.#subscriber || this.#closed) return;
    // Queues its subscribe until connected (the store's own connection may fail fast), and subscribes again after a reconnect.
    const subscriber = this.redis.duplicate({ lazyConnect: false, enableOfflineQueue: true, autoResendUnfulfilledCommands: true });
    subscriber.on('error', () => undefined); // the main connection reports outages
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.keys.cancelChannel) for (const listener of this.#cancelListeners) listener(message);
      else for (const wake of this.#wakeListeners) wake(message === '*');
    });
    void subscriber.subscribe(this.keys.wakeChannel, this.keys.cancelChannel).catch(() => undefined);
    this.#subscriber = subscriber;
  }

  /** Drop every listener and the listening connection; nothing subscribes any more. */
  close(): void {
    this.#closed = true;
    this.#wakeListeners.clear();
    this.#cancelListeners.clear();
    this.#subscriber?.disconnect();
  }
}
