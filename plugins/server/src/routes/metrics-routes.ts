import type { FastifyInstance } from 'fastify';
import { renderMetrics } from '../metrics/render-metrics.js';
import { EventedQueueStore } from '../queue/evented-store.js';
import type { ServerContext } from '../server-context.js';

/**
 * `GET /metrics`: the queue's metrics and the process's in the Prometheus
 * text format (docs/server.md lists them). Role `metrics` (or `admin`) when
 * tokens are on. What this server recorded is written to the store first,
 * so a scrape right after a report counts it.
 */
export function registerMetricsRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get(
    '/metrics',
    {
      config: { access: ['metrics'] },
      schema: {
        tags: ['status'],
        summary: 'Metrics in the Prometheus text format: queue depth, jobs by state, durations, failures, lease expiries, requeues, workers, heartbeats (the same on every server of one Redis), and this process',
      },
    },
    async (_request, reply) => {
      if (ctx.store instanceof EventedQueueStore) await ctx.store.flushMetrics();
      const { contentType, text } = await renderMetrics(ctx.store, ctx.now());
      return reply.type(contentType).send(text);
    },
  );
}
