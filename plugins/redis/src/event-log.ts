import type { Redis } from 'ioredis';
import { EVENT_LOG_KEEP, type EventRead, type NewQueueEvent, type QueueEvent, type QueueEventLog } from '@sisyphus/server/store';
import { EventTail } from './event-tail.js';
import { runScript } from './lua-scripts.js';
import type { StoreKeys } from './store-keys.js';

/** How many entries past {@link EVENT_LOG_KEEP} the log grows before an append trims it (events-append.lua). */
const TRIM_SLACK = 100;

/** A stream entry as XRANGE answers it: id and flat field/value pairs. */
type StreamEntry = [string, string[]];

/** The reply of one MULTI command: error or value. */
type Reply = [Error | null, unknown];

/** The largest part of a stream id (an unsigned 64-bit number). */
const MAX_PART = 2n ** 64n - 1n;

/** Is `id` a stream id (`ms-seq`, each part an unsigned 64-bit number) that Redis takes as an argument? */
function isStreamId(id: string): boolean {
  const match = /^(\d{1,20})-(\d{1,20})$/.exec(id);
  return match !== null && BigInt(match[1]!) <= MAX_PART && BigInt(match[2]!) <= MAX_PART;
}

/** The client name of the tail's connection: `sisyphus-events:` and the stream's key (client names take no spaces). */
export const tailName = (key: string): string => `sisyphus-events:${key}`.replace(/[^\x21-\x7e]/g, '_');

/** A stream entry as a {@link QueueEvent}. */
function toEvent([id, flat]: StreamEntry): QueueEvent {
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!;
  return { id, type: fields['type'] ?? '', at: Number(fields['at'] ?? 0), data: JSON.parse(fields['data'] ?? '{}') as Record<string, unknown> };
}

/**
 * The store's {@link QueueEventLog} on a Redis stream under the prefix
 * (StoreKeys.events), shared by every process on it. Ids are the stream's
 * (`ms-seq`). Appends (events-append.lua) trim the log to the newest
 * {@link EVENT_LOG_KEEP} once it holds {@link TRIM_SLACK} more, and keep
 * the newest id they trimmed, so a reader's gap is known exactly: a reader
 * is up to date when its id is still in the log or is that newest trimmed
 * one; any other id was trimmed with what followed it, or is another log's
 * (Redis emptied, another prefix): reset. Listeners hear appends of any
 * process through {@link EventTail}.
 */
export class RedisEventLog implements QueueEventLog {
  private readonly tail: EventTail;
  private readonly key: string;

  constructor(
    private readonly redis: Redis,
    private readonly keys: StoreKeys,
  ) {
    this.key = keys.events;
    this.tail = new EventTail(redis, keys.events, tailName(keys.events));
  }

  async append(events: readonly NewQueueEvent[]): Promise<string[]> {
    if (events.length === 0) return [];
    const args: Array<string | number> = [EVENT_LOG_KEEP, TRIM_SLACK];
    for (const event of events) args.push(event.type, String(event.at), JSON.stringify(event.data));
    return (await runScript(this.redis, 'events-append', [this.key, this.keys.eventsTrimmed], args)) as string[];
  }

  async read(after: string | undefined, limit: number): Promise<EventRead> {
    const count = Math.max(1, Math.floor(limit) || 1);
    if (after === undefined || !isStreamId(after)) return { events: await this.oldest(count), reset: after !== undefined };
    // All three at one point of the log's life: is `after` an entry, is it the newest trimmed, what follows it.
    const replies = ((await this.redis
      .multi()
      .xrange(this.key, after, after, 'COUNT', 1)
      .get(this.keys.eventsTrimmed)
      .xrange(this.key, `(${after}`, '+', 'COUNT', count)
      .exec()) ?? []) as Reply[];
    if (replies.length !== 3) throw new Error('event log read aborted');
    const [[entryError, entry], [trimmedError, trimmed], [rangeError, range]] = replies as [Reply, Reply, Reply];
    if (entryError ?? trimmedError) throw entryError ?? trimmedError;
    // Readers hold ids the log handed out. One it no longer has, other than the newest it trimmed (after
    // which nothing is missing), was trimmed away with what followed it, or is another log's.
    const known = (entry as StreamEntry[]).length > 0 || trimmed === after;
    if (!known) return { events: await this.oldest(count), reset: true };
    if (rangeError) throw rangeError;
    return { events: (range as StreamEntry[]).map(toEvent), reset: false };
  }

  async last(): Promise<string | undefined> {
    const [entry] = (await this.redis.xrevrange(this.key, '+', '-', 'COUNT', 1)) as StreamEntry[];
    return entry?.[0];
  }

  onAppend(listener: () => void): () => void {
    return this.tail.listen(listener);
  }

  /** Stop listening (the store is closing). */
  close(): void {
    this.tail.close();
  }

  /** The oldest `count` events kept. */
  private async oldest(count: number): Promise<QueueEvent[]> {
    return ((await this.redis.xrange(this.key, '-', '+', 'COUNT', count)) as StreamEntry[]).map(toEvent);
  }
}
