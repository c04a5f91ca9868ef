import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../server-context.js';
import type { JobState, StoredJob } from '../store/queue-store.js';
import { jobDocument } from './queue-routes.js';

const STATES: readonly JobState[] = ['queued', 'running', 'completed', 'failed', 'cancelled'];

/** A job with its state and, once finished, its result record. */
export function jobView(job: StoredJob): Record<string, unknown> {
  return {
    ...jobDocument(job),
    state: job.state,
    priority: job.priority,
    attempts: job.attempts,
    ...(job.worker_id !== undefined ? { worker_id: job.worker_id } : {}),
    ...(job.started_at !== undefined ? { started_at: job.started_at } : {}),
    ...(job.finished_at !== undefined ? { finished_at: job.finished_at } : {}),
    ...(job.result !== undefined ? { result: job.result } : {}),
    ...(job.reason !== undefined ? { reason: job.reason } : {}),
    ...(job.cancel_requested ? { cancel_requested: true } : {}),
  };
}

/** `/jobs`: history, one job, removal, completion, cancel. */
export function registerJobRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const { store } = ctx;

  app.get(
    '/jobs',
    {
      config: { access: ['submitter'] },
      schema: {
        tags: ['jobs'],
        summary: 'Jobs in any state, newest first (queued: in queue order); ?state=&limit=&cursor=',
        querystring: { type: 'object', properties: { state: { type: 'string' }, limit: { type: 'string' }, cursor: { type: 'string' } } },
      },
    },
    async (request, reply) => {
      const q = request.query as { state?: string; limit?: string; cursor?: string };
      if (q.state !== undefined && !STATES.includes(q.state as JobState)) {
        return reply.code(400).send({ message: `state must be one of ${STATES.join(', ')}` });
      }
      const limit = q.limit === undefined ? 50 : Number(q.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) return reply.code(400).send({ message: 'limit must be an integer from 1 to 1000' });
      let page;
      try {
        page = await store.list({ limit, ...(q.state ? { state: q.state as JobState } : {}), ...(q.cursor ? { cursor: q.cursor } : {}) });
      } catch (error) {
        if (error instanceof RangeError) return reply.code(400).send({ message: `cursor: ${error.message}` });
        throw error;
      }
      return { jobs: page.jobs.map(jobView), ...(page.next ? { next: page.next } : {}) };
    },
  );

  app.get('/jobs/:id', { config: { access: ['submitter', 'worker'] }, schema: { tags: ['jobs'], summary: 'A job in any state, with its result once finished' } }, async (request, reply) => {
    const job = await store.get((request.params as { id: string }).id);
    if (!job) return reply.code(404).send({ message: 'no such job' });
    return jobView(job);
  });

  app.delete('/jobs/:id', { config: { access: ['submitter'] }, schema: { tags: ['jobs'], summary: 'Remove a queued job (running ones: POST /jobs/{id}/cancel)' } }, async (request, reply) => {
    const id = (request.params as { id: string }).id;
    if (await store.remove(id)) return reply.code(204).send();
    const job = await store.get(id);
    if (!job) return reply.code(404).send({ message: 'no such job' });
    return reply.code(409).send({ message: `job is ${job.state}; only queued jobs can be removed (use POST /jobs/${id}/cancel)` });
  });

  app.patch(
    '/jobs/:id/completed',
    {
      config: { access: ['worker'] },
      schema: {
        tags: ['jobs'],
        summary:
          'Report a finished job: {failed, info}. 409 when the lease was lost. ?next=1: the reply also hands the reporting worker (info.worker_id) its next job in `next`, as a poll would',
        querystring: { type: 'object', properties: { next: { type: 'string' } } },
      },
    },
    async (request, reply) => {
      const id = (request.params as { id: string }).id;
      const wantsNext = (request.query as { next?: string }).next === '1';
      const body = request.body as { failed?: unknown; info?: unknown } | undefined;
      if (typeof body !== 'object' || body === null || typeof body.failed !== 'boolean') {
        return reply.code(400).send({ message: 'body must be {failed: boolean, info: object}' });
      }
      const info = typeof body.info === 'object' && body.info !== null && !Array.isArray(body.info) ? (body.info as Record<string, unknown>) : {};
      // Only a failure needs the stored job (was a cancel asked for?); a success goes straight to finish.
      const job = body.failed ? await store.get(id) : undefined;
      if (body.failed && !job) return reply.code(404).send({ message: 'no such job' });
      const workerId = typeof info.worker_id === 'string' ? info.worker_id : undefined;
      // A worker stopped mid-job gives the job back (unless it was asked to cancel it).
      if (body.failed && info.requeue === true && !job?.cancel_requested) {
        const released = await store.release(id, workerId, ctx.now());
        if (released === 'ok') {
          ctx.waiters.wake();
          return { job_id: id, state: 'queued' };
        }
        if (released === 'not-found') return reply.code(404).send({ message: 'no such job' });
        return reply.code(409).send({ message: `job ${id} is no longer leased to ${workerId ?? 'this worker'}; the report was not recorded` });
      }
      const cancelled = body.failed && (info.cancelled === true || job?.cancel_requested === true);
      const state = !body.failed ? 'completed' : cancelled ? 'cancelled' : 'failed';
      const ended = { state, result: info, ...(cancelled ? { reason: 'cancelled' } : {}) } as const;
      if (wantsNext && workerId !== undefined && workerId !== '') {
        // One request per job for our workers: the report and the next poll (never long: the worker polls itself when none came).
        const { result, job: next } = await store.finishAndPoll(id, workerId, ended, ctx.now(), ctx.options.leaseSeconds * 1000);
        if (result === 'ok') return next ? { job_id: id, state, next: jobDocument(next) } : { job_id: id, state };
        return refuse(result);
      }
      const outcome = await store.finish(id, workerId, ended, ctx.now());
      if (outcome === 'ok') return { job_id: id, state };
      return refuse(outcome);

      function refuse(outcome: 'not-found' | 'lease-lost') {
        if (outcome === 'not-found') return reply.code(404).send({ message: 'no such job' });
        return reply.code(409).send({ message: `job ${id} is no longer leased to ${workerId ?? 'this worker'} (its lease expired or it finished); the report was not recorded` });
      }
    },
  );

  app.post('/jobs/:id/cancel', { config: { access: ['submitter'] }, schema: { tags: ['jobs'], summary: 'Cancel: a queued job is removed from the queue, a running one is aborted by its worker' } }, async (request, reply) => {
    const id = (request.params as { id: string }).id;
    const result = await store.cancel(id, ctx.now());
    if (result === 'not-found') return reply.code(404).send({ message: 'no such job' });
    if (result === 'finished') return reply.code(409).send({ message: 'the job has finished already' });
    return { job_id: id, status: result };
  });
}
