import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ServerContext } from '../server-context.js';
import type { WorkerRecord } from '../store/queue-store.js';
import { recordHeartbeat } from '../queue/worker-heartbeat.js';
import { appliedSchedule, needsTagSchedules, scheduleView } from '../queue/applied-schedule.js';
import { checkScheduleAttributes } from '../queue/schedule-attributes.js';
import { AttributesBody, HeartbeatBody, WorkerIdParams, WorkersQuery } from './route-schemas.js';

/** Largest heartbeat body (bytes): statuses are kept and listed by every `GET /workers`. */
export const HEARTBEAT_BODY_LIMIT = 64 * 1024;

/** A worker as the original API shows it: last heartbeat + `worker_id` + `attributes`. */
export function workerView(record: WorkerRecord): Record<string, unknown> {
  return { ...record.status, worker_id: record.worker_id, attributes: record.attributes };
}

/** A worker in `GET /workers?offline=1`: the original view, plus whether it is online and when it was last heard from. */
function workerViewWithPresence(record: WorkerRecord): Record<string, unknown> {
  return { ...workerView(record), online: record.live, last_seen: record.last_seen ? new Date(record.last_seen).toISOString() : null };
}

/**
 * Add to each worker's view the `schedule` that applies to it (see
 * `appliedSchedule`: its own or its tags', with `active` and `next_change`);
 * a worker without one keeps the original shape. The queue's attributes are
 * read once, and only when some worker has tags and no schedule of its own.
 */
async function withSchedules(ctx: ServerContext, records: readonly WorkerRecord[], views: Record<string, unknown>[], now: number): Promise<Record<string, unknown>[]> {
  const queueAttributes = records.some(needsTagSchedules) ? await ctx.store.queueAttributes() : undefined;
  records.forEach((record, i) => {
    const applied = appliedSchedule(record, queueAttributes, now);
    // `schedule` is the server's word only: a heartbeat's own field of that name is not shown.
    if (applied) views[i]!.schedule = scheduleView(applied);
    else delete views[i]!.schedule;
  });
  return views;
}

/** `/workers`: list, status, heartbeat (renews the running job's lease), removal, attributes. */
export function registerWorkerRoutes(server: FastifyInstance, ctx: ServerContext): void {
  const app = server.withTypeProvider<TypeBoxTypeProvider>();
  const { store } = ctx;
  const expiryMs = () => ctx.options.clientExpirySeconds * 1000;

  app.get(
    '/workers',
    {
      config: { access: ['submitter', 'worker'] },
      schema: {
        tags: ['workers'],
        summary:
          'Workers with a live heartbeat (seen within CLIENT_EXPIRY), sorted by hostname, as the original lists them. ?offline=1 adds workers whose heartbeat expired but that have attributes (e.g. disabled), each with online and last_seen',
        querystring: WorkersQuery,
      },
    },
    async (request) => {
      const now = ctx.now();
      const all = await store.workers(now);
      const withOffline = request.query.offline === '1';
      const records = withOffline ? all : all.filter((w) => w.live);
      const workers = await withSchedules(ctx, records, records.map(withOffline ? workerViewWithPresence : workerView), now);
      return { workers, count: workers.length };
    },
  );

  app.get(
    '/workers/:id',
    {
      config: { access: ['worker', 'submitter'] },
      schema: {
        tags: ['workers'],
        summary: 'Last heartbeat with worker_id and attributes (created on demand), and the schedule that applies to it, if any (active hours, with active and next_change)',
        params: WorkerIdParams,
      },
    },
    async (request) => {
      const now = ctx.now();
      const record = await store.worker(request.params.id, now);
      return (await withSchedules(ctx, [record], [workerView(record)], now))[0];
    },
  );

  app.post(
    '/workers/:id',
    {
      config: { access: ['worker'] },
      // A heartbeat is a few hundred bytes; every GET /workers sends them all back.
      bodyLimit: HEARTBEAT_BODY_LIMIT,
      schema: {
        tags: ['workers'],
        summary: 'Heartbeat {status, hostname, version, online_at, job_id?, ...}. Renews the lease of job_id; the reply lists jobs to abort in cancel',
        params: WorkerIdParams,
        body: HeartbeatBody,
      },
    },
    async (request) => {
      const { record, cancel } = await recordHeartbeat(store, request.params.id, request.body, {
        now: ctx.now(),
        leaseMs: ctx.options.leaseSeconds * 1000,
        expiryMs: expiryMs(),
      });
      return { ...workerView(record), cancel };
    },
  );

  app.delete('/workers/:id', { schema: { tags: ['workers'], summary: 'Forget a worker', params: WorkerIdParams } }, async (request, reply) => {
    if (await store.removeWorker(request.params.id)) return reply.code(204).send();
    return reply.code(404).send({ message: 'no such worker' });
  });

  app.patch(
    '/workers/:id',
    {
      schema: {
        tags: ['workers'],
        summary:
          'Set worker attributes, e.g. {disabled: true} or {schedule: {timezone?, windows: [{days?, from, to}]}} (active hours; null clears it); answers the attributes. 400 names a bad schedule field',
        params: WorkerIdParams,
        body: AttributesBody,
      },
    },
    async (request) => {
      // A bad schedule: SIS_VALIDATION -> 400 naming the field; one without timezone gets this server's.
      const patch = checkScheduleAttributes('worker', request.body);
      const attributes = await store.setWorkerAttributes(request.params.id, patch);
      // This server's polls see the new attributes (a schedule, disabled) at once.
      ctx.workers.forget(request.params.id);
      if (!attributes.disabled) ctx.waiters.wakeAll();
      return attributes;
    },
  );
}
