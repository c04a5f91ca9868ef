import { redactUrl } from '@sisyphus/core/transport';
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../server-context.js';
import { humanDuration } from '../human-duration.js';

/** Replace secrets (passwords in URLs, tokens, keys) with `********`. */
export function maskSecrets(value: unknown): unknown {
  if (typeof value === 'string') return redactUrl(value);
  if (Array.isArray(value)) return value.map(maskSecrets);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, /pass|secret|token|key/i.test(k) && v !== undefined ? '********' : maskSecrets(v)]),
    );
  }
  return value;
}

/** The window of the overview's finished-job counts (ms). */
export const OVERVIEW_WINDOW_MS = 60 * 60 * 1000;

/** `/status/config`, `/status/health` and `/status/overview`. */
export function registerStatusRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/status/health', { config: { access: 'public' }, schema: { tags: ['status'], summary: '{status: "online"}; 503 when the store is unavailable' } }, async (_request, reply) => {
    const why = ctx.store.unavailable?.();
    return why ? reply.code(503).send({ status: 'degraded', message: why }) : { status: 'online' };
  });

  app.get('/status/config', { config: { access: ['worker', 'submitter'] }, schema: { tags: ['status'], summary: 'Backend (secrets masked), version, uptime, features' } }, async () => ({
    backend: maskSecrets(ctx.options.backend ?? {}),
    version: ctx.version,
    uptime: humanDuration(ctx.now() - ctx.startedAt),
    features: { long_poll: true, leases: true, poll_checks_disabled: true, complete_next: true, children: true, cancel: true, priority: true, history: true, auth: ctx.options.tokens.length > 0 },
    settings: {
      client_expiry: ctx.options.clientExpirySeconds,
      lease_seconds: ctx.options.leaseSeconds,
      max_attempts: ctx.options.maxAttempts,
      tokens: ctx.options.tokens.map((t) => ({ name: t.name ?? '(unnamed)', role: t.role, token: '********' })),
      cors_origins: ctx.options.cors.origins,
      allowed_hosts: ctx.options.allowedHosts,
      retention: ctx.options.retention,
    },
  }));

  app.get(
    '/status/overview',
    {
      config: { access: ['submitter'] },
      schema: {
        tags: ['status'],
        summary:
          "The dashboard's overview: {queue: {disabled}, jobs: {queued, running, waiting (waiting-children), completed, failed, cancelled} (finished ones: since finished_since, an hour ago), workers: {online, disabled, offline}, client_expiry_seconds}",
      },
    },
    async () => {
      const now = ctx.now();
      const since = now - OVERVIEW_WINDOW_MS;
      const [jobs, attributes, workers] = await Promise.all([ctx.store.counts(since), ctx.store.queueAttributes(), ctx.store.workers(now)]);
      const online = workers.filter((w) => w.live);
      return {
        queue: { disabled: attributes.disabled },
        jobs,
        finished_since: new Date(since).toISOString(),
        workers: { online: online.length, disabled: workers.filter((w) => w.attributes.disabled).length, offline: workers.length - online.length },
        client_expiry_seconds: ctx.options.clientExpirySeconds,
      };
    },
  );
}
