import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { WebhookDelivery, WebhookStore } from '../store/webhook-store.js';
import type { ResolvedWebhook } from '../webhooks/webhook-config.js';

/** Most deliveries one `GET /webhooks/{name}/deliveries` lists. */
const MAX_DELIVERIES = 200;

const WebhookNameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 64, description: 'The hook name' }) });
const DeliveriesQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_DELIVERIES, description: `How many, newest first (default 50, at most ${MAX_DELIVERIES})` })),
});

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

/** A delivery as the API shows it: what happened, without the body. */
export function deliveryView(d: WebhookDelivery): Record<string, unknown> {
  const view: Record<string, unknown> = {
    event_id: d.event_id,
    event_type: d.event_type,
    event_at: iso(d.event_at),
    status: d.status,
    attempts: d.attempts,
    created_at: iso(d.created_at),
    last_attempt_at: iso(d.last_attempt_at),
    status_code: d.status_code,
    error: d.error,
    // Pending: when it is tried next; sending: when its claim lapses.
    next_attempt_at: d.status === 'pending' || d.status === 'sending' ? iso(d.next_at) : undefined,
    finished_at: iso(d.finished_at),
  };
  for (const key of Object.keys(view)) if (view[key] === undefined) delete view[key];
  return view;
}

/** A hook as the API shows it: its settings without the secret. */
function hookView(hook: ResolvedWebhook): Record<string, unknown> {
  const { title, modules, workerIds } = hook.filter;
  const filter = { ...(title !== undefined ? { title } : {}), ...(modules ? { module: modules } : {}), ...(workerIds ? { worker_id: workerIds } : {}) };
  return { name: hook.name, url: hook.url, events: hook.events, filter, timeout_seconds: hook.timeoutMs / 1000, max_attempts: hook.maxAttempts };
}

/**
 * `GET /webhooks` (each configured hook, its secret left out, with its
 * unfinished deliveries and its last attempted delivery) and
 * `GET /webhooks/{name}/deliveries` (its newest deliveries). Admin only:
 * hooks' URLs and the jobs' events are the operator's business.
 */
export function registerWebhookRoutes(server: FastifyInstance, hooks: readonly ResolvedWebhook[], store: WebhookStore | undefined): void {
  const app = server.withTypeProvider<TypeBoxTypeProvider>();
  const byName = new Map(hooks.map((hook) => [hook.name, hook]));

  app.get(
    '/webhooks',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'The configured webhooks (no secrets), each with pending (deliveries not done) and last_delivery (the delivery whose attempt ended last). Admin only',
      },
    },
    async () => {
      const webhooks = await Promise.all(
        hooks.map(async (hook) => {
          const summary = store ? await store.summary(hook.name) : { pending: 0 };
          return { ...hookView(hook), pending: summary.pending, last_delivery: summary.last ? deliveryView(summary.last) : null };
        }),
      );
      return { webhooks };
    },
  );

  app.get(
    '/webhooks/:name/deliveries',
    {
      schema: {
        tags: ['webhooks'],
        summary: "A webhook's newest deliveries: event, status (pending, sending, delivered, failed), attempts, status_code, error and times. Admin only",
        params: WebhookNameParams,
        querystring: DeliveriesQuery,
      },
    },
    async (request, reply) => {
      const hook = byName.get(request.params.name);
      if (!hook) return reply.code(404).send({ message: `no webhook named ${JSON.stringify(request.params.name)}` });
      const deliveries = store ? await store.deliveries(hook.name, request.query.limit ?? 50) : [];
      return { webhook: hook.name, deliveries: deliveries.map(deliveryView) };
    },
  );
}
