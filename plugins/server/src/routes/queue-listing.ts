import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { escapeJsonText } from '../json-escape.js';
import { MAX_PAGE_SIZE } from '../store/list-paging.js';
import type { QueueStore } from '../store/queue-store.js';

/** The `queue` array of `GET /queue` as JSON text, and how many jobs it holds. */
interface Listing {
  json: string;
  entries: number;
}

/**
 * `GET /queue` without stalls. The original API lists the whole queue, and
 * original workers ask for it every poll interval while idle, so:
 * - the documents are the store's own JSON text, joined, never decoded and
 *   encoded again;
 * - the listing is read a page at a time, letting other requests (worker
 *   heartbeats) run between pages;
 * - callers at the same time share one read, and the result is reused
 *   until this server changes the queue ({@link invalidate}) or, for
 *   changes through another server or direct workers on the same store,
 *   for at most `maxAgeMs`.
 */
export class QueueListing {
  #cached: { listing: Listing; at: number; version: number } | undefined;
  #reading: { promise: Promise<Listing>; version: number } | undefined;
  #version = 0;

  constructor(
    private readonly store: QueueStore,
    private readonly maxAgeMs = 1000,
  ) {}

  /** The queue changed through this server: the next listing reads it again. */
  invalidate(): void {
    this.#version += 1;
    this.#cached = undefined;
  }

  /** The whole queue (see the class). */
  async whole(): Promise<Listing> {
    const cached = this.#cached;
    if (cached && cached.version === this.#version && Date.now() - cached.at < this.maxAgeMs) return cached.listing;
    if (this.#reading?.version === this.#version) return this.#reading.promise;
    const version = this.#version;
    const promise = this.#read();
    this.#reading = { promise, version };
    try {
      const listing = await promise;
      if (version === this.#version) this.#cached = { listing, at: Date.now(), version };
      return listing;
    } finally {
      if (this.#reading?.promise === promise) this.#reading = undefined;
    }
  }

  async #read(): Promise<Listing> {
    const parts: string[] = [];
    let entries = 0;
    let cursor: string | undefined;
    do {
      const page = await this.store.queuedDocuments({ limit: MAX_PAGE_SIZE, ...(cursor ? { cursor } : {}) });
      if (page.documents.length) parts.push(escapeJsonText(page.documents.join(',')));
      entries += page.documents.length;
      cursor = page.next;
      if (cursor) await yieldToEventLoop();
    } while (cursor);
    return { json: `[${parts.join(',')}]`, entries };
  }

  /** One page of up to `limit` jobs after `cursor`, with the cursor of the next. */
  async page(limit: number, cursor: string | undefined): Promise<Listing & { next?: string }> {
    const [page, entries] = await Promise.all([this.store.queuedDocuments({ limit, ...(cursor ? { cursor } : {}) }), this.store.queueLength()]);
    return { json: `[${escapeJsonText(page.documents.join(','))}]`, entries, ...(page.next ? { next: page.next } : {}) };
  }
}
