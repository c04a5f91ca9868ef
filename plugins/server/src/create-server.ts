import Fastify, { type FastifyInstance } from 'fastify';
import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { createRequire } from 'node:module';
import { QUEUE_ID_MAX_LENGTH } from '@sisyphus/core/transport';
import { type ModuleRegistry } from '@sisyphus/core/config';
import { RequestSchemaError, routeValidatorCompiler } from './route-validator.js';
import { registerAuth } from './auth.js';
import { safeJson } from './json-escape.js';
import { registerJsonBodyParser } from './json-body-parser.js';
import { registerOriginGuard } from './request-origin-guard.js';
import { RequestLogController } from './request-log-controller.js';
import { PollWaiters } from './poll-waiters.js';
import { LeaseSweeper } from './queue/lease-sweeper.js';
import { HistoryRetention } from './queue/history-retention.js';
import { QueueListing } from './routes/queue-listing.js';
import { STORE_ERROR_STATUS, isStoreError } from './store/store-error.js';
import type { ServerContext } from './server-context.js';
import { resolveServerOptions, type ServerOptions } from './server-options.js';
import type { QueueStore } from './store/queue-store.js';
import { registerQueueRoutes } from './routes/queue-routes.js';
import { registerJobRoutes } from './routes/job-routes.js';
import { registerWorkerRoutes } from './routes/worker-routes.js';
import { registerDataRoutes } from './routes/data-routes.js';
import { registerStatusRoutes } from './routes/status-routes.js';
import { registerEventRoutes } from './routes/event-routes.js';
import { registerAuthRoutes } from './routes/auth-routes.js';
import { registerTemplateRoutes } from './routes/template-routes.js';
import { registerDashboardRoutes } from './routes/dashboard-routes.js';
import { registerMetricsRoutes } from './routes/metrics-routes.js';
import { withQueueEvents } from './queue/evented-store.js';
import { seedSchedules } from './queue/schedule-attributes.js';
import { EventHub } from './event-hub.js';
import { registerWebhookRoutes } from './routes/webhook-routes.js';
import { WebhookDispatcher } from './webhooks/webhook-dispatcher.js';
import { announceOfflineWorkers } from './webhooks/worker-offline.js';
import { WorkerDirectory } from './worker-directory.js';
import { registerWatchRoutes } from './routes/watch-routes.js';
import { WatchService } from './watch/watch-service.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

/** How long (wall-clock ms) a poll may use a worker's record (capabilities, attributes) read from the store before reading it again. */
const WORKER_RECORD_TTL_MS = 2000;

/** A running job server: the fastify app plus what it owns. */
export interface SisyphusServer {
  app: FastifyInstance;
  context: ServerContext;
  /** The lease sweep (see `LeaseSweeper`: grace periods after start, outages and freezes). */
  sweeper: LeaseSweeper;
  /** The history retention (see `HistoryRetention`); `run()` applies it now. */
  retention: HistoryRetention;
  /** The webhooks' deliveries (see `WebhookDispatcher`); idle without configured hooks. */
  webhooks: WebhookDispatcher;
  /** The watch folders (see `WatchService`); idle without rules. */
  watch: WatchService;
  /** Stop sweeping, wake long-polls, close the app and the store. */
  close(): Promise<void>;
}

/**
 * Build the job server on `store`: every original Sisyphus route with its
 * original shapes (CORS for the configured origins, 404 on an empty poll,
 * attributes on demand, `&<>` escaped in JSON), plus leases, history, cancel,
 * priority, long-poll, bearer-token roles, a Host/Origin guard against hostile
 * browser pages, OpenAPI at `/doc`, the queue's events at `/events` (every
 * change is appended to the store's event log, see `withQueueEvents`) and the
 * web dashboard at `/ui/`. Call `app.listen()` to serve.
 */
export async function createServer(
  rawStore: QueueStore,
  options: ServerOptions = {},
  extras: { registry?: ModuleRegistry; now?: () => number; /** The watch rules' scanner lease (ms; default 30 s): tests of several servers shorten it. */ watchLeaseMs?: number } = {},
): Promise<SisyphusServer> {
  const resolved = resolveServerOptions(options);
  const app = Fastify({
    // One logger for fastify and the server's own events; none: fastify's silent one.
    ...(resolved.logger ? { loggerInstance: resolved.logger.child({ component: 'server' }) } : { logger: false }),
    logController: new RequestLogController(),
    bodyLimit: resolved.bodyLimit,
    forceCloseConnections: true,
    routerOptions: {
      // Every id the queue accepts is routable: ids are at most QUEUE_ID_MAX_LENGTH unreserved characters;
      // room for ids of original workers with characters a URL percent-encodes (3 each).
      maxParamLength: 3 * QUEUE_ID_MAX_LENGTH,
    },
  });
  // Params, query strings and bodies are checked against the routes' TypeBox schemas (routes/route-schemas.ts).
  app.setValidatorCompiler(routeValidatorCompiler);
  // Every change this server makes to the store is also an event in the store's log (GET /events serves it).
  const store = withQueueEvents(rawStore, {
    heartbeatRefreshMs: Math.max(1000, (resolved.clientExpirySeconds * 1000) / 3),
    onError: (error) => app.log.warn(`an event could not be appended to the store's log: ${(error as Error).message}`),
    onMetricsError: (error) => app.log.warn(`metrics could not be recorded in the store: ${(error as Error).message}`),
  });
  // The config's schedules (active hours) replace the stored ones they name, before any poll is answered.
  await seedSchedules(store, resolved.schedules);
  const shutdown = new AbortController();
  const hub = new EventHub(store.events, { onError: (error) => app.log.warn(`reading the store's event log: ${(error as Error).message}`) });
  const context: ServerContext = {
    store,
    hub,
    closing: shutdown.signal,
    options: resolved,
    waiters: new PollWaiters(),
    listing: new QueueListing(store),
    workers: new WorkerDirectory(store, { ttlMs: WORKER_RECORD_TTL_MS, now: Date.now }),
    startedAt: Date.now(),
    version,
    now: extras.now ?? Date.now,
    ...(extras.registry ? { registry: extras.registry } : {}),
  };

  app.setReplySerializer((payload) => safeJson(payload));
  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    // The store's refusals (job exists, not found, lease lost, bad cursor...): one status per code, the message as it is.
    if (isStoreError(error)) {
      if (error.code === 'SIS_STORE_UNAVAILABLE') void reply.header('retry-after', '2');
      return reply.code(STORE_ERROR_STATUS[error.code]).send({ message: error.message, code: error.code });
    }
    // A request that fails its route's schema: every problem with its path, as a submission's problems are.
    if (error instanceof RequestSchemaError) return reply.code(400).send({ message: error.message, problems: error.problems });
    const status = error.statusCode ?? 500;
    if (status >= 500) request.log.error({ err: error }, `${request.method} ${request.url}: ${error.message}`);
    let message = error.message;
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') message = `request body is larger than ${request.routeOptions.bodyLimit ?? resolved.bodyLimit} bytes`;
    else if (error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError) message = `malformed JSON: ${error.message}`;
    else if (status >= 500) message = 'internal server error';
    return reply.code(status).send({ message });
  });

  registerJsonBodyParser(app, resolved.bodyLimit);
  // Before CORS and auth: a forged Host or a foreign page's request gets no further.
  registerOriginGuard(app, {
    ...(resolved.bindHost !== undefined ? { bindHost: resolved.bindHost } : {}),
    allowedHosts: resolved.allowedHosts,
    corsOrigins: resolved.cors.origins,
  });
  // CORS only for the configured origins (e.g. the original dashboard's); none configured, no CORS headers at all.
  if (resolved.cors.origins.length) {
    await app.register(cors, { origin: resolved.cors.origins, methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] });
  }
  await app.register(swagger, {
    openapi: {
      info: { title: 'Sisyphus API', version, description: 'The original Sisyphus API plus leases, history, cancel, priority, long-poll and auth' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      // With tokens, every route but the public ones takes a bearer token (Swagger UI's "Authorize" then sends it).
      ...(resolved.tokens.length ? { security: [{ bearer: [] }] } : {}),
    },
  });
  await app.register(swaggerUi, { routePrefix: '/doc', uiConfig: { docExpansion: 'list' } });
  registerAuth(app, resolved.tokens);
  if (store.unavailable) {
    // A store that is down (Redis restarting) gets a clear 503, not a request that hangs; workers back off and retry.
    app.addHook('onRequest', async (request, reply) => {
      if (request.method === 'OPTIONS' || request.routeOptions.url === '/status/health') return;
      const why = store.unavailable!();
      if (why) return reply.code(503).header('retry-after', '2').send({ message: why });
    });
  }

  registerQueueRoutes(app, context);
  registerJobRoutes(app, context);
  registerWorkerRoutes(app, context);
  registerDataRoutes(app, context);
  registerStatusRoutes(app, context);
  registerEventRoutes(app, context);
  registerAuthRoutes(app, context);
  registerTemplateRoutes(app, context);
  registerWebhookRoutes(app, resolved.webhooks, rawStore.webhooks);
  registerMetricsRoutes(app, context);
  // Watch folders: the config's rules and the API's (kept in the store); one server at a time scans each rule.
  const watch = new WatchService(context, rawStore.watch, resolved.watch, { log: (level, message) => app.log[level](message), ...(extras.watchLeaseMs ? { leaseMs: extras.watchLeaseMs } : {}) });
  registerWatchRoutes(app, watch);
  await registerDashboardRoutes(app);

  // Whatever this server changes in the queue, `GET /queue` reads again (polls and the sweep invalidate it themselves).
  // (Before the answer leaves: a caller that lists the queue right after its answer sees the change.)
  app.addHook('onSend', (request, reply, payload, done) => {
    if (request.routeOptions.config?.changesQueue && reply.statusCode < 400) context.listing.invalidate();
    done(null, payload);
  });

  // The sweep's and the retention's lines go where fastify's go.
  const log = (level: 'info' | 'warn' | 'error', message: string) => app.log[level](message);
  const sweeper = new LeaseSweeper(store, {
    leaseMs: resolved.leaseSeconds * 1000,
    maxAttempts: resolved.maxAttempts,
    intervalMs: resolved.sweepIntervalMs,
    now: context.now,
    onRequeued: (requeued) => {
      context.listing.invalidate();
      context.waiters.wake(requeued.length);
    },
    // A worker whose heartbeat expired: one `worker.offline` event per expiry, whichever server of the fleet sweeps first.
    ...(rawStore.webhooks ? { workersOffline: async (now: number) => (await announceOfflineWorkers(rawStore.webhooks!, store.events, now)).map((w) => w.worker_id) } : {}),
    log,
  });
  sweeper.start();
  const retention = new HistoryRetention(store, resolved.retention, { now: context.now, log });
  retention.start();
  await watch.start().catch(async (error: unknown) => {
    // A config rule that cannot work (its template): nothing of this server keeps running.
    sweeper.stop();
    await retention.stop();
    await watch.stop();
    throw error;
  });
  // Deliveries run beside the queue: the log is read and receivers are called off the request path.
  const webhooks = new WebhookDispatcher(resolved.webhooks, rawStore.webhooks, store.events, store, { now: context.now, userAgent: `sisyphus-server/${version}`, log });
  await webhooks.start();
  // Jobs submitted or requeued through another instance on the same store wake this one's long-polls.
  const unsubscribe = store.onJobsAvailable?.((everyone) => (everyone ? context.waiters.wakeAll() : context.waiters.wake()));

  return {
    app,
    context,
    sweeper,
    retention,
    webhooks,
    watch,
    async close() {
      shutdown.abort();
      await watch.stop();
      sweeper.stop();
      await retention.stop();
      unsubscribe?.();
      hub.stop();
      await webhooks.stop();
      context.waiters.wakeAll();
      await app.close();
      await store.close();
    },
  };
}
