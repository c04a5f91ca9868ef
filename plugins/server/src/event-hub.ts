import type { QueueEvent, QueueEventLog } from './store/queue-store.js';

/** One listener of the hub: an SSE connection. */
export interface EventSubscriber {
  /** Deliver one event (in log order, each once). */
  send(event: QueueEvent): void;
  /** Events were missed (the log was trimmed past this subscriber): it must load the state afresh. */
  reset(lastId: string | undefined): void;
  /** The subscriber went away (its connection closed): a replay for it stops. */
  closed?(): boolean;
}

/** Events read from the log per call (a SQLite read blocks the process while it runs: keep it short). */
const PAGE = 200;

/**
 * Fans the store's event log out to this server's listeners: one reader
 * per server (not one per browser) follows the log from its newest event,
 * woken by `onAppend`, and hands each event to every subscriber. A
 * subscriber that comes back with the id of the last event it saw
 * (`Last-Event-ID`) first gets everything after it from the log, then the
 * live events, none twice and none missed.
 */
export class EventHub {
  readonly #log: QueueEventLog;
  readonly #subscribers = new Set<EventSubscriber>();
  #cursor: string | undefined;
  #started: Promise<void> | undefined;
  #unsubscribe: (() => void) | undefined;
  #pumping = false;
  #again = false;
  #stopped = false;
  readonly #onError: (error: unknown) => void;

  constructor(log: QueueEventLog, options: { onError?: (error: unknown) => void } = {}) {
    this.#log = log;
    this.#onError = options.onError ?? (() => undefined);
  }

  /** Start following the log at its newest event (idempotent). */
  start(): Promise<void> {
    this.#started ??= (async () => {
      this.#cursor = await this.#log.last();
      this.#unsubscribe = this.#log.onAppend(() => void this.#pump());
      void this.#pump();
    })().catch((error: unknown) => {
      // The store is away (Redis restarting): the next subscriber tries again.
      this.#started = undefined;
      throw error;
    });
    return this.#started;
  }

  /** How many subscribers listen. */
  get size(): number {
    return this.#subscribers.size;
  }

  /**
   * Add `subscriber`. With `lastEventId` it first gets every event after
   * that id (or a reset when the log no longer has it), then live ones.
   * Returns the function that removes it.
   */
  async subscribe(subscriber: EventSubscriber, lastEventId?: string): Promise<() => void> {
    await this.start();
    if (lastEventId === undefined) {
      this.#subscribers.add(subscriber);
      return () => this.#subscribers.delete(subscriber);
    }
    // Live events that arrive while the log is replayed wait here, and go out after it, minus those replayed.
    const held: QueueEvent[] = [];
    let resetWhileHeld = false;
    const holder: EventSubscriber = { send: (event) => held.push(event), reset: () => (resetWhileHeld = true) };
    this.#subscribers.add(holder);
    const replayed = new Set<string>();
    try {
      let after: string | undefined = lastEventId;
      for (;;) {
        if (subscriber.closed?.()) return () => undefined;
        const read = await this.#log.read(after, PAGE);
        if (read.reset) {
          // The log does not have `after`: the subscriber reloads; it then follows from the newest event.
          subscriber.reset(await this.#log.last());
          replayed.clear();
          held.length = 0;
          break;
        }
        for (const event of read.events) {
          replayed.add(event.id);
          subscriber.send(event);
        }
        if (read.events.length < PAGE) break;
        after = read.events[read.events.length - 1]!.id;
        // Let the process serve others between pages (a long replay from SQLite would hold it).
        await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      this.#subscribers.delete(holder);
    }
    if (resetWhileHeld) {
      subscriber.reset(this.#cursor);
      this.#subscribers.add(subscriber);
      return () => this.#subscribers.delete(subscriber);
    }
    // The replay may have read past this hub's cursor: the live events up to where it stopped come again; they
    // come in log order, so once one was not replayed, none after it was.
    let skip: Set<string> | undefined = replayed.size ? replayed : undefined;
    const live: EventSubscriber = {
      send: (event) => {
        if (skip?.has(event.id)) return;
        skip = undefined;
        subscriber.send(event);
      },
      reset: (id) => subscriber.reset(id),
    };
    for (const event of held) live.send(event);
    this.#subscribers.add(live);
    return () => this.#subscribers.delete(live);
  }

  /** Read what was appended since the cursor and hand it out; one pump at a time, again when woken meanwhile. */
  async #pump(): Promise<void> {
    if (this.#pumping) {
      this.#again = true;
      return;
    }
    this.#pumping = true;
    try {
      do {
        this.#again = false;
        for (;;) {
          if (this.#stopped) return;
          const read = await this.#log.read(this.#cursor, PAGE);
          if (read.reset && this.#cursor !== undefined) {
            // This server fell behind the log's trimming (or the store was emptied): everyone reloads.
            this.#cursor = await this.#log.last();
            for (const subscriber of [...this.#subscribers]) subscriber.reset(this.#cursor);
            break;
          }
          for (const event of read.events) {
            this.#cursor = event.id;
            for (const subscriber of [...this.#subscribers]) subscriber.send(event);
          }
          if (read.events.length < PAGE) break;
        }
      } while (this.#again);
    } catch (error) {
      this.#onError(error);
    } finally {
      this.#pumping = false;
    }
  }

  /** Stop following the log; subscribers are dropped (their connections are closed by their owners). */
  stop(): void {
    this.#stopped = true;
    this.#unsubscribe?.();
    this.#subscribers.clear();
  }
}
