import Fastify, { type FastifyInstance } from 'fastify';
import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { createRequire } from 'node:module';
import type { ModuleRegistry } from '@sisyphus/core';
import { registerAuth } from './auth.js';
import { safeJson } from './json-escape.js';
import { PollWaiters } from './poll-waiters.js';
import type { ServerContext } from './server-context.js';
import { resolveServerOptions, type ServerOptions } from './server-options.js';
import type { QueueStore } from './store/queue-store.js';
import { registerQueueRoutes } from './routes/queue-routes.js';
import { registerJobRoutes } from './routes/job-routes.js';
import { registerWorkerRoutes } from './routes/worker-routes.js';
import { registerDataRoutes } from './routes/data-routes.js';
import { registerStatusRoutes } from './routes/status-routes.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

/** A running job server: the fastify app plus what it owns. */
export interface SisyphusServer {
  app: FastifyInstance;
  context: ServerContext;
  /** Stop sweeping, wake long-polls, close the app and the store. */
  close(): Promise<void>;
}

/**
 * Build the job server on `store`: every original Sisyphus route with its
 * original shapes (CORS, 404 on an empty poll, attributes on demand, `&<>`
 * escaped in JSON), plus leases, history, cancel, priority, long-poll,
 * bearer-token roles and OpenAPI at `/doc`. Call `app.listen()` to serve.
 */
export async function createServer(
  store: QueueStore,
  options: ServerOptions = {},
  extras: { registry?: ModuleRegistry; now?: () => number } = {},
): Promise<SisyphusServer> {
  const resolved = resolveServerOptions(options);
  const app = Fastify({
    logger: resolved.logger ?? false,
    bodyLimit: resolved.bodyLimit,
    // A strict API: no stripping of unknown fields, no type coercion.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: true } },
    forceCloseConnections: true,
  });
  const context: ServerContext = {
    store,
    options: resolved,
    waiters: new PollWaiters(),
    startedAt: Date.now(),
    version,
    now: extras.now ?? Date.now,
    ...(extras.registry ? { registry: extras.registry } : {}),
  };

  app.setReplySerializer((payload) => safeJson(payload));
  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, _request, reply) => {
    const status = error.statusCode ?? 500;
    if (status >= 500) app.log.error(error);
    let message = error.message;
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') message = `request body is larger than ${resolved.bodyLimit} bytes`;
    else if (error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError) message = `malformed JSON: ${error.message}`;
    else if (status >= 500) message = 'internal server error';
    return reply.code(status).send({ message });
  });

  await app.register(cors, { origin: true, methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] });
  await app.register(swagger, {
    openapi: {
      info: { title: 'Sisyphus API', version, description: 'The original Sisyphus API plus leases, history, cancel, priority, long-poll and auth' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/doc', uiConfig: { docExpansion: 'list' } });
  registerAuth(app, resolved.tokens);
  if (store.unavailable) {
    // A store that is down (Redis restarting) gets a clear 503, not a request that hangs; workers back off and retry.
    app.addHook('onRequest', async (request, reply) => {
      if (request.method === 'OPTIONS' || request.url === '/status/health') return;
      const why = store.unavailable!();
      if (why) return reply.code(503).header('retry-after', '2').send({ message: why });
    });
  }

  registerQueueRoutes(app, context);
  registerJobRoutes(app, context);
  registerWorkerRoutes(app, context);
  registerDataRoutes(app, context);
  registerStatusRoutes(app, context);

  const sweeper = setInterval(() => {
    store
      .expireLeases(context.now(), resolved.maxAttempts)
      .then(({ requeued, failed }) => {
        if (requeued.length) {
          resolved.log?.('warn', `lease expired (no heartbeat from its worker): requeued ${requeued.join(', ')}`);
          context.waiters.wake(requeued.length);
        }
        if (failed.length) resolved.log?.('warn', `lease expired too often or while cancelling: ended ${failed.join(', ')}`);
      })
      .catch((error: unknown) => resolved.log?.('error', `lease sweep failed: ${(error as Error).message}`));
  }, resolved.sweepIntervalMs);
  sweeper.unref();
  // Jobs submitted or requeued through another instance on the same store wake this one's long-polls.
  const unsubscribe = store.onJobsAvailable?.((everyone) => (everyone ? context.waiters.wakeAll() : context.waiters.wake()));

  return {
    app,
    context,
    async close() {
      clearInterval(sweeper);
      unsubscribe?.();
      context.waiters.wakeAll();
      await app.close();
      await store.close();
    },
  };
}
