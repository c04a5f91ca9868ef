import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ServerContext } from '../server-context.js';
import { SubmissionError, prepareJob } from '../job-submission.js';
import { leasedDocument } from '../queue/job-flow.js';
import { workerScheduleBlock } from '../queue/applied-schedule.js';
import { checkScheduleAttributes } from '../queue/schedule-attributes.js';
import { safeJson } from '../json-escape.js';
import { AttributesBody, PollQuery, QueueQuery, SubmissionBody } from './route-schemas.js';
import { queueBody } from './queue-listing.js';

/** The 404 message of an unanswered poll, by what blocked it. */
const BLOCKED_MESSAGE = { queue: 'the queue is disabled', worker: 'this worker is disabled', none: 'no queued job this worker can run' } as const;

/** `/queue`: list, submit, clear, attributes, and `/queue/poll` (with long-poll). */
export function registerQueueRoutes(server: FastifyInstance, ctx: ServerContext): void {
  const app = server.withTypeProvider<TypeBoxTypeProvider>();
  const { store, listing } = ctx;

  app.get(
    '/queue',
    {
      config: { access: ['worker', 'submitter'] },
      schema: {
        tags: ['queue'],
        summary: 'The queue in order, its length (entries: all queued jobs) and attributes. ?limit=N&cursor=C pages it (next: the cursor of the next page)',
        querystring: QueueQuery,
      },
    },
    async (request, reply) => {
      const q = request.query;
      const limit = q.limit ?? (q.cursor !== undefined ? 1000 : undefined);
      const [queue, attributes] = await Promise.all([limit === undefined ? listing.whole() : listing.page(limit, q.cursor), store.queueAttributes()]);
      const body = queueBody(queue, safeJson(attributes));
      return reply.type('application/json; charset=utf-8').header('content-length', body.length).send(body.stream);
    },
  );

  app.post(
    '/queue',
    {
      config: { access: ['submitter'], changesQueue: true },
      schema: {
        tags: ['queue'],
        summary: 'Submit a job: {job_title | job_name, tasks, priority?, job_id?}; answers {job_id}. 400 names every problem with its path; 409 when the job_id exists',
        body: SubmissionBody,
      },
    },
    async (request, reply) => {
      let job;
      try {
        job = await prepareJob(request.body, { registry: ctx.registry, store, acceptUnknown: ctx.options.acceptUnknownModules, now: new Date(ctx.now()) });
      } catch (error) {
        if (error instanceof SubmissionError) return reply.code(400).send({ message: `invalid job: ${error.message}`, problems: error.problems });
        throw error;
      }
      await store.submit(job); // SIS_JOB_EXISTS -> 409
      ctx.waiters.wake();
      return { job_id: job.job_id };
    },
  );

  app.delete('/queue', { config: { changesQueue: true }, schema: { tags: ['queue'], summary: 'Clear the queue and its job records' } }, async (_request, reply) => {
    await store.clear();
    return reply.code(204).send();
  });

  app.patch('/queue', { schema: { tags: ['queue'], summary: 'Set queue attributes, e.g. {disabled: true}; answers the attributes', body: AttributesBody } }, async (request) => {
    // Per-tag schedules (`schedules`) are checked: a bad one is a 400 naming the field.
    const attributes = await store.setQueueAttributes(checkScheduleAttributes('queue', request.body));
    if (!attributes.disabled) ctx.waiters.wakeAll();
    return attributes;
  });

  app.get(
    '/queue/poll',
    {
      config: { access: ['worker'] },
      // A HEAD would lease a job too, and send nothing of it.
      exposeHeadRoute: false,
      schema: {
        tags: ['queue'],
        summary: 'Take the next job (404 when none). ?wait=S long-polls up to S seconds; ?worker_id=ID names the lease holder',
        querystring: PollQuery,
      },
    },
    async (request, reply) => {
      const query = request.query;
      const workerId = query.worker_id || undefined;
      const waitMs = Math.min(query.wait ?? 0, ctx.options.maxPollWaitSeconds) * 1000;
      const deadline = Date.now() + waitMs;
      const closed = new AbortController();
      request.raw.once('close', () => closed.abort());
      const gone = AbortSignal.any([closed.signal, ctx.closing]);
      for (;;) {
        // Shutting down: the store closes next; the worker polls again (another server, or this one restarted).
        if (ctx.closing.aborted) return reply.code(503).header('retry-after', '2').send({ message: 'the server is shutting down' });
        // Only jobs this worker can run (its capabilities from its last heartbeat; see WorkerDirectory),
        // and none outside its active hours (answered as a disabled worker is; a long-poll keeps looking).
        const { record, lease } = await ctx.workers.lookup(workerId ?? '');
        const off = record ? await workerScheduleBlock(store, record, ctx.now()) : undefined;
        const { job, blocked } = off ? {} : await store.poll(workerId ?? '', ctx.options.leaseSeconds * 1000, ctx.now(), lease);
        // (A client that vanished right now leaves a lease that expires and requeues the job.)
        if (job) {
          listing.invalidate();
          return leasedDocument(store, job);
        }
        const left = deadline - Date.now();
        if (left <= 0 || closed.signal.aborted) return reply.code(404).send({ message: off?.reason ?? BLOCKED_MESSAGE[blocked ?? 'none'] });
        // Woken at once by a submit to this server (or, on a store that tells, to another
        // instance); it looks again every 250 ms anyway (several servers on one SQLite file,
        // a missed Redis message) or every second on a store that tells.
        await ctx.waiters.wait(Math.min(left, store.onJobsAvailable ? 1000 : 250), gone);
      }
    },
  );
}
