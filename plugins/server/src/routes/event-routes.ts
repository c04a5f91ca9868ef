import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ServerContext } from '../server-context.js';
import type { QueueEvent } from '../store/queue-store.js';
import { EventsQuery } from './route-schemas.js';

/** Milliseconds between keep-alive comments (proxies drop idle connections). */
const KEEPALIVE_MS = 15_000;
/** A subscriber that has this many bytes unsent is too slow: it is dropped and reconnects with its Last-Event-ID. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
/** Longest `Last-Event-ID` looked at; longer ones are no id of ours (the subscriber reloads). */
const MAX_EVENT_ID_LENGTH = 100;

/** Listeners one server serves at most; more get 503 (each holds a connection and its unsent events). */
export const MAX_EVENT_LISTENERS = 1000;

/** Each event's wire text, made once for every listener (the hub hands the same event object to all). */
const wireText = new WeakMap<QueueEvent, string>();

/** One event in the SSE wire format: its id, its type as `event:`, its data (`type`, ISO `at`, payload) as one line of JSON. */
export function sseMessage(event: QueueEvent): string {
  let text = wireText.get(event);
  if (text === undefined) {
    const data = JSON.stringify({ type: event.type, at: new Date(event.at).toISOString(), ...event.data });
    text = `id: ${event.id}\nevent: ${event.type}\ndata: ${data}\n\n`;
    wireText.set(event, text);
  }
  return text;
}

/** The `reset` message: events were missed; `id` moves the client's Last-Event-ID on to the newest event. */
function resetMessage(lastId: string | undefined): string {
  return `${lastId !== undefined ? `id: ${lastId}\n` : ''}event: reset\ndata: ${JSON.stringify({ type: 'reset', at: new Date().toISOString() })}\n\n`;
}

/** `GET /events`: the queue's events as Server-Sent Events, resumable with `Last-Event-ID`. */
export function registerEventRoutes(server: FastifyInstance, ctx: ServerContext): void {
  const app = server.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/events',
    {
      config: { access: ['submitter'] },
      // A HEAD would open a stream that never answers.
      exposeHeadRoute: false,
      schema: {
        tags: ['events'],
        summary:
          'Server-Sent Events: job.*, queue.*, worker.*, data.changed (data: JSON with type and at). Send Last-Event-ID (header, or ?last_event_id=) to resume; event reset means events were missed: reload',
        querystring: EventsQuery,
      },
    },
    async (request, reply) => {
      const header = request.headers['last-event-id'];
      const given = (typeof header === 'string' ? header : undefined) ?? request.query.last_event_id;
      // An id no log of ours could have made still resumes: as a reset.
      const lastEventId = given === undefined ? undefined : given.length > MAX_EVENT_ID_LENGTH ? '' : given;
      if (ctx.hub.size >= MAX_EVENT_LISTENERS) {
        return reply.code(503).header('retry-after', '10').send({ message: `this server has ${MAX_EVENT_LISTENERS} event listeners already; try again later or another server` });
      }
      const res = reply.raw;
      reply.hijack();
      res.writeHead(200, {
        ...(reply.getHeaders() as Record<string, string>),
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        'x-accel-buffering': 'no',
        connection: 'keep-alive',
      });
      res.write(`retry: 2000\n: ${ctx.hub.size + 1} listening\n\n`);
      let closed = false;
      let unsubscribe: (() => void) | undefined;
      const end = (drop = false) => {
        if (closed) return;
        closed = true;
        clearInterval(keepalive);
        unsubscribe?.();
        // A listener that fell behind is cut off at once: ending politely would queue behind what it never read.
        if (drop) res.destroy();
        else res.end();
      };
      const write = (text: string) => {
        if (closed) return;
        res.write(text);
        if (res.writableLength > MAX_BUFFERED_BYTES) {
          request.log.warn(`GET /events: a listener fell ${res.writableLength} bytes behind; dropped (it resumes with its Last-Event-ID)`);
          end(true);
        }
      };
      const keepalive = setInterval(() => write(': keepalive\n\n'), KEEPALIVE_MS);
      request.raw.on('close', () => end());
      res.on('close', () => end());
      res.on('error', () => end(true));
      try {
        unsubscribe = await ctx.hub.subscribe(
          { send: (event) => write(sseMessage(event)), reset: (id) => write(resetMessage(id)), closed: () => closed },
          lastEventId,
        );
        if (closed) unsubscribe();
      } catch (error) {
        request.log.error({ err: error }, `GET /events: ${(error as Error).message}`);
        end();
      }
    },
  );
}
