import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../server-context.js';
import type { WorkerRecord } from '../store/queue-store.js';

/** A worker as the original API shows it: last heartbeat + `worker_id` + `attributes`. */
export function workerView(record: WorkerRecord): Record<string, unknown> {
  return { ...record.status, worker_id: record.worker_id, attributes: record.attributes };
}

/** `/workers`: list, status, heartbeat (renews the running job's lease), removal, attributes. */
export function registerWorkerRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const { store } = ctx;
  const expiryMs = () => ctx.options.clientExpirySeconds * 1000;

  app.get('/workers', { config: { access: ['submitter', 'worker'] }, schema: { tags: ['workers'], summary: 'Workers seen within CLIENT_EXPIRY, sorted by hostname' } }, async () => {
    const workers = (await store.workers(ctx.now())).map(workerView);
    return { workers, count: workers.length };
  });

  app.get('/workers/:id', { config: { access: ['worker', 'submitter'] }, schema: { tags: ['workers'], summary: 'Last heartbeat with worker_id and attributes (created on demand)' } }, async (request) => {
    return workerView(await store.worker((request.params as { id: string }).id, ctx.now()));
  });

  app.post(
    '/workers/:id',
    {
      config: { access: ['worker'] },
      schema: {
        tags: ['workers'],
        summary: 'Heartbeat {status, hostname, version, online_at, job_id?, ...}. Renews the lease of job_id; the reply lists jobs to abort in cancel',
      },
    },
    async (request, reply) => {
      const id = (request.params as { id: string }).id;
      const body = request.body;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) return reply.code(400).send({ message: 'heartbeat body must be an object' });
      const status = body as Record<string, unknown>;
      const now = ctx.now();
      const record = await store.heartbeat(id, status, now, expiryMs());
      const cancel: string[] = [];
      if (typeof status.job_id === 'string' && status.job_id && status.status !== 'idle') {
        const held = await store.renew(status.job_id, id, ctx.options.leaseSeconds * 1000, now);
        const job = await store.get(status.job_id);
        // Abort when asked to, or when the job is no longer this worker's (lease lost, finished elsewhere).
        if (!held || job?.cancel_requested) cancel.push(status.job_id);
      }
      return { ...workerView(record), cancel };
    },
  );

  app.delete('/workers/:id', { schema: { tags: ['workers'], summary: 'Forget a worker' } }, async (request, reply) => {
    if (await store.removeWorker((request.params as { id: string }).id)) return reply.code(204).send();
    return reply.code(404).send({ message: 'no such worker' });
  });

  app.patch('/workers/:id', { schema: { tags: ['workers'], summary: 'Set worker attributes, e.g. {disabled: true}; answers the attributes' } }, async (request, reply) => {
    const body = request.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return reply.code(400).send({ message: 'body must be an object of attributes' });
    if ('disabled' in body && typeof (body as { disabled: unknown }).disabled !== 'boolean') return reply.code(400).send({ message: 'disabled must be a boolean' });
    const attributes = await store.setWorkerAttributes((request.params as { id: string }).id, body as Record<string, unknown>);
    if (!attributes.disabled) ctx.waiters.wakeAll();
    return attributes;
  });
}
