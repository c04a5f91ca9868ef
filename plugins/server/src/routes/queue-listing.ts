import { Readable } from 'node:stream';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { escapeJsonText } from '../json-escape.js';
import type { QueueStore } from '../store/queue-store.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route may change which jobs are queued: `GET /queue` reads the queue again after it answers (see {@link QueueListing}). */
    changesQueue?: boolean;
  }
}

/** The `queue` array of `GET /queue`: its JSON text in pieces (no piece joined to another), and how many jobs it holds. */
interface Listing {
  pieces: Buffer[];
  bytes: number;
  entries: number;
}

/** Jobs read per store call while building the whole listing: each call and its encoding is a short slice of the event loop. */
const BUILD_PAGE = 250;
/** A build that took longer than this is not repeated sooner than {@link THROTTLE} times its length. */
const CHEAP_BUILD_MS = 50;
const THROTTLE = 4;

const COMMA = Buffer.from(',');

/**
 * `GET /queue` without stalls. The original API lists the whole queue, and
 * original workers ask for it every poll interval while idle, so:
 * - the documents are the store's own JSON text, never decoded and encoded
 *   again, kept as buffers and sent as a stream (no copy per caller);
 * - the listing is read a page at a time, letting other requests (worker
 *   heartbeats) run between pages;
 * - callers at the same time share one read, and the result is reused
 *   until this server changes the queue ({@link invalidate}) or, for
 *   changes through another server or direct workers on the same store,
 *   for at most `maxAgeMs`;
 * - a long queue that changes all the time is read again at most every
 *   few build lengths (a build of over 50 ms is not repeated within four
 *   times its length; callers get the last listing meanwhile), so
 *   dashboards polling it never take more than about a fifth of the CPU.
 */
export class QueueListing {
  #cached: { listing: Listing; at: number; version: number; buildMs: number } | undefined;
  #reading: { promise: Promise<Listing>; version: number } | undefined;
  #version = 0;

  constructor(
    private readonly store: QueueStore,
    private readonly maxAgeMs = 1000,
  ) {}

  /** The queue changed through this server: the next listing reads it again. */
  invalidate(): void {
    this.#version += 1;
  }

  /** The whole queue (see the class). */
  async whole(): Promise<Listing> {
    const cached = this.#cached;
    const now = Date.now();
    if (cached) {
      const fresh = cached.version === this.#version && now - cached.at < this.maxAgeMs;
      const throttled = cached.buildMs > CHEAP_BUILD_MS && now - cached.at < THROTTLE * cached.buildMs;
      if (fresh || throttled) return cached.listing;
    }
    if (this.#reading?.version === this.#version) return this.#reading.promise;
    const version = this.#version;
    const started = performance.now();
    const promise = this.#read();
    this.#reading = { promise, version };
    try {
      const listing = await promise;
      this.#cached = { listing, at: Date.now(), version, buildMs: performance.now() - started };
      return listing;
    } finally {
      if (this.#reading?.promise === promise) this.#reading = undefined;
    }
  }

  async #read(): Promise<Listing> {
    const pieces: Buffer[] = [];
    let bytes = 0;
    let entries = 0;
    let cursor: string | undefined;
    do {
      const page = await this.store.queuedDocuments({ limit: BUILD_PAGE, ...(cursor ? { cursor } : {}) });
      if (page.documents.length) {
        const piece = Buffer.from(escapeJsonText(page.documents.join(',')));
        if (pieces.length) pieces.push(COMMA);
        pieces.push(piece);
        bytes += piece.length + (pieces.length > 1 ? 1 : 0);
      }
      entries += page.documents.length;
      cursor = page.next;
      if (cursor) await yieldToEventLoop();
    } while (cursor);
    return { pieces, bytes, entries };
  }

  /** One page of up to `limit` jobs after `cursor`, with the cursor of the next. */
  async page(limit: number, cursor: string | undefined): Promise<Listing & { next?: string }> {
    const [page, entries] = await Promise.all([this.store.queuedDocuments({ limit, ...(cursor ? { cursor } : {}) }), this.store.queueLength()]);
    const piece = Buffer.from(escapeJsonText(page.documents.join(',')));
    return { pieces: [piece], bytes: piece.length, entries, ...(page.next ? { next: page.next } : {}) };
  }
}

/**
 * The body of `GET /queue` around a listing: `{"queue":[...],"entries":N,"attributes":{...}[,"next":"..."]}`
 * as a stream of the listing's own buffers, and its length in bytes.
 */
export function queueBody(listing: Listing & { next?: string }, attributesJson: string): { stream: Readable; length: number } {
  const head = Buffer.from('{"queue":[');
  const tail = Buffer.from(`],"entries":${listing.entries},"attributes":${attributesJson}${listing.next ? `,"next":${JSON.stringify(listing.next)}` : ''}}`);
  return { stream: Readable.from([head, ...listing.pieces, tail], { objectMode: false }), length: head.length + listing.bytes + tail.length };
}
