import { EventSource } from 'eventsource';
import { apiTarget, type ApiOptions } from './api-client.js';

/** What {@link openJobEventStream} reports. */
export interface JobEventHandlers {
  /** Connected (again): whatever happened while away is replayed, or a `reset` follows. */
  onOpen(): void;
  /** An event of the stream: its SSE type and parsed data. */
  onEvent(type: string, data: Record<string, unknown>): void;
  /** The connection broke; the stream reconnects by itself (with Last-Event-ID). */
  onDisconnect(message: string): void;
  /** The server refused the stream for good: HTTP `status` (404: a server without `/events`). */
  onRefused(status: number, message: string): void;
}

/** The event types `submit --wait` follows. */
const TYPES = ['job.started', 'job.requeued', 'job.completed', 'job.failed', 'job.cancelled', 'job.cancel_requested', 'job.removed', 'job.retried', 'worker.heartbeat', 'reset'];

/**
 * Follow the server's `GET /events` (Server-Sent Events) with the token of
 * `options`; the `eventsource` package reconnects after a dropped connection
 * or a server restart, sending the last event's id so nothing is missed.
 * Returns the function that closes the stream.
 */
export function openJobEventStream(options: ApiOptions, handlers: JobEventHandlers): () => void {
  const { base, token } = apiTarget(options);
  const source = new EventSource(`${base}/events`, {
    fetch: (input, init) => fetch(input, { ...init, headers: { ...init?.headers, ...(token ? { authorization: `Bearer ${token}` } : {}) } }),
  });
  source.addEventListener('open', () => handlers.onOpen());
  source.addEventListener('error', (event) => {
    // A status means the server answered, but not with a stream: the library does not try again.
    if (event.code !== undefined && source.readyState === EventSource.CLOSED) handlers.onRefused(event.code, event.message ?? `HTTP ${event.code}`);
    else handlers.onDisconnect(event.message ?? 'the event stream broke');
  });
  for (const type of TYPES) {
    source.addEventListener(type, (event) => {
      let data: unknown;
      try {
        data = JSON.parse(event.data);
      } catch {
        return;
      }
      if (typeof data === 'object' && data !== null) handlers.onEvent(type, data as Record<string, unknown>);
    });
  }
  return () => source.close();
}
