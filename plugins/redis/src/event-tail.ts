import type { Redis } from 'ioredis';

/** How long the tail waits before it reads again after an error on a connection that is up (a wrong key type, say). */
const ERROR_PAUSE_MS = 1000;
/** Entries one XREAD hands back at most: only the newest id of a reply counts. */
const READ_COUNT = 100;

/**
 * Listeners of the event log's appends, by whatever process on the prefix:
 * a connection of its own (a duplicate of the store's, started by the first
 * listener) blocks in `XREAD BLOCK 0` on the stream from the newest id it saw
 * and calls every listener when entries arrive (once per reply, and once a
 * tick at most). After the connection was lost it reads on from where it
 * stood once Redis is back, and calls the listeners then too (something may
 * have been appended meanwhile). `close()` disconnects it: nothing is left to
 * keep the process alive.
 */
export class EventTail {
  readonly #listeners = new Set<() => void>();
  #connection: Redis | undefined;
  #closed = false;
  #notifying = false;

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    /** The connection's client name (`CLIENT LIST` shows it). */
    private readonly name: string,
  ) {}

  /** Call `listener` after appends (see {@link QueueEventLog.onAppend}); returns the unsubscribe function. */
  listen(listener: () => void): () => void {
    this.#listeners.add(listener);
    this.#start();
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Stop: drop the listeners and the connection. */
  close(): void {
    this.#closed = true;
    this.#listeners.clear();
    this.#connection?.disconnect();
    this.#connection = undefined;
  }

  #start(): void {
    if (this.#connection || this.#closed) return;
    // Where to start, asked on the store's connection now: an append the caller makes after this call comes after it.
    const start = this.redis.xrevrange(this.key, '+', '-', 'COUNT', 1).then(
      (entries) => (entries[0]?.[0] as string | undefined) ?? '0-0',
      () => '$',
    );
    // A read waits for Redis while it is away (offline queue); the one waiting when the connection was lost is
    // sent again after the reconnect (with the newest id seen, so nothing is skipped); none fails for retries.
    const connection = this.redis.duplicate({
      lazyConnect: false,
      enableOfflineQueue: true,
      autoResendUnfulfilledCommands: true,
      maxRetriesPerRequest: null,
      connectionName: this.name,
    });
    connection.on('error', () => undefined); // the store's connection reports outages
    let connected = false;
    connection.on('ready', () => {
      if (connected) this.#notify(); // back after an outage
      connected = true;
    });
    this.#connection = connection;
    void this.#follow(connection, start);
  }

  async #follow(connection: Redis, start: Promise<string>): Promise<void> {
    let last = await start;
    while (!this.#closed && this.#connection === connection) {
      try {
        const reply = (await connection.xread('COUNT', READ_COUNT, 'BLOCK', 0, 'STREAMS', this.key, last)) as Array<[string, Array<[string, string[]]>]> | null;
        const entries = reply?.[0]?.[1] ?? [];
        if (entries.length > 0) {
          last = entries[entries.length - 1]![0];
          this.#notify();
        }
      } catch {
        if (this.#closed) return;
        // Refused while connected (say, the key is not a stream): try again, but not in a tight loop.
        if (connection.status === 'ready') await new Promise((resolve) => setTimeout(resolve, ERROR_PAUSE_MS).unref());
      }
    }
  }

  /** Call every listener, once for however many notifications come in one tick. */
  #notify(): void {
    if (this.#notifying || this.#closed) return;
    this.#notifying = true;
    setImmediate(() => {
      this.#notifying = false;
      if (this.#closed) return;
      for (const listener of [...this.#listeners]) {
        try {
          listener();
        } catch {
          // A listener's failure is its own.
        }
      }
    });
  }
}
