import { EventSource } from 'eventsource';
import { api } from '../api/api-client.js';
import { EVENT_TYPES, type ServerEvent } from '../api/server-event.js';
import { getToken } from '../api/token-store.js';
import { Observable } from '../state/observable.js';
import { noteEventTime } from '../state/server-clock.js';

/** What the header shows: `live` while the stream is open, `reconnecting` otherwise. */
export type ConnectionState = 'live' | 'reconnecting';

/** Wait before opening a new stream after the server refused one (it asks for 2 s between retries itself). */
const REOPEN_MS = 2000;

/**
 * The one `GET /events` connection of the page. Views subscribe to its
 * events; `generation` changes whenever they must load their snapshots
 * again: on the first connection (events between a view's snapshot and the
 * stream's start are unknown), on a `reset` from the server (events were
 * missed), and on a new connection that has no event id to resume from.
 * A dropped connection resumes with `Last-Event-ID`: the server sends what
 * was missed, or `reset`.
 */
export class EventStream {
  /** `live` or `reconnecting`. */
  readonly connection = new Observable<ConnectionState>('reconnecting');
  /** Changes when every view must load its snapshot afresh. */
  readonly generation = new Observable(0);
  #listeners = new Set<(event: ServerEvent) => void>();
  #source: EventSource | undefined;
  #lastId: string | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running = false;

  /** Open the stream (with the session's token). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#open();
  }

  /** Close the stream (signing out); the next start begins afresh. */
  stop(): void {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#source?.close();
    this.#source = undefined;
    this.#lastId = null;
    this.connection.set('reconnecting');
  }

  /** Call `listener` for every event; returns the unsubscribe function. */
  subscribe(listener: (event: ServerEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #open(): void {
    const source = new EventSource('/events', {
      // The library's fetch lets the stream carry the bearer token, and the last id when a new stream resumes an old one.
      fetch: (url, init) => {
        const headers = new Headers(init?.headers as HeadersInit | undefined);
        const token = getToken();
        if (token) headers.set('authorization', `Bearer ${token}`);
        if (this.#lastId !== null && !headers.has('last-event-id')) headers.set('last-event-id', this.#lastId);
        return fetch(url, { ...init, headers, cache: 'no-store' } as RequestInit);
      },
    });
    this.#source = source;
    source.onopen = () => {
      if (this.#source !== source) return;
      this.connection.set('live');
      // Nothing to resume from: whatever happened before this stream started is unknown.
      if (this.#lastId === null) this.#bump();
    };
    const onMessage = (message: MessageEvent) => this.#onMessage(source, message);
    for (const type of EVENT_TYPES) source.addEventListener(type, onMessage as (event: Event) => void);
    source.addEventListener('message', onMessage as (event: Event) => void);
    source.onerror = (error) => {
      if (this.#source !== source) return;
      this.connection.set('reconnecting');
      // The library retries dropped streams by itself; a refused one (non-200) it gives up on.
      if (source.readyState !== source.CLOSED) return;
      this.#source = undefined;
      if (error.code === 401) {
        // The token is no longer known: asking who we are ends the session (back to the login).
        void api('/auth/whoami').catch(() => {});
      }
      if (this.#running) this.#timer = setTimeout(() => this.#running && this.#open(), REOPEN_MS);
    };
  }

  #onMessage(source: EventSource, message: MessageEvent): void {
    if (this.#source !== source) return;
    if (message.lastEventId) this.#lastId = message.lastEventId;
    let event: ServerEvent;
    try {
      event = JSON.parse(String(message.data)) as ServerEvent;
    } catch {
      return;
    }
    if (!event || typeof event !== 'object') return;
    if (typeof event.type !== 'string') event.type = message.type;
    if (event.type === 'reset') {
      this.#bump();
    } else {
      noteEventTime(event.at);
    }
    for (const listener of [...this.#listeners]) listener(event);
  }

  #bump(): void {
    this.generation.set(this.generation.value + 1);
  }
}

/** The page's stream. */
export const eventStream = new EventStream();
