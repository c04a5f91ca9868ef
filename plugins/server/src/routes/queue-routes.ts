import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../server-context.js';
import { SubmissionError, prepareSubmission } from '../job-submission.js';
import type { StoredJob } from '../store/queue-store.js';

/** The 404 message of an unanswered poll, by what blocked it. */
const BLOCKED_MESSAGE = { queue: 'the queue is disabled', worker: 'this worker is disabled', none: 'the queue is empty' } as const;

/** The job document as the original API hands it out. */
export function jobDocument(job: StoredJob): Record<string, unknown> {
  return { ...job.job, job_id: job.job_id, job_title: job.job_title, added: job.added };
}

const seconds = (value: unknown, max: number): number => {
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? Math.min(n, max) : 0;
};

/** `/queue`: list, submit, clear, attributes, and `/queue/poll` (with long-poll). */
export function registerQueueRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const { store } = ctx;

  app.get('/queue', { config: { access: ['worker', 'submitter'] }, schema: { tags: ['queue'], summary: 'The queue in order, its length and attributes' } }, async () => {
    const [queued, attributes] = await Promise.all([store.queued(), store.queueAttributes()]);
    return { queue: queued.map(jobDocument), entries: queued.length, attributes };
  });

  app.post(
    '/queue',
    {
      config: { access: ['submitter'] },
      schema: { tags: ['queue'], summary: 'Submit a job: {job_title | job_name, tasks, priority?}; answers {job_id}' },
    },
    async (request, reply) => {
      let job;
      try {
        job = prepareSubmission(request.body, ctx.registry, ctx.options.acceptUnknownModules, new Date(ctx.now()));
      } catch (error) {
        if (error instanceof SubmissionError) return reply.code(400).send({ message: `invalid job: ${error.message}`, problems: error.problems });
        throw error;
      }
      if (await store.get(job.job_id)) return reply.code(409).send({ message: `job ${job.job_id} exists already` });
      await store.submit(job);
      ctx.waiters.wake();
      return { job_id: job.job_id };
    },
  );

  app.delete('/queue', { schema: { tags: ['queue'], summary: 'Clear the queue and its job records' } }, async (_request, reply) => {
    await store.clear();
    return reply.code(204).send();
  });

  app.patch('/queue', { schema: { tags: ['queue'], summary: 'Set queue attributes, e.g. {disabled: true}; answers the attributes' } }, async (request, reply) => {
    const body = request.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return reply.code(400).send({ message: 'body must be an object of attributes' });
    if ('disabled' in body && typeof (body as { disabled: unknown }).disabled !== 'boolean') return reply.code(400).send({ message: 'disabled must be a boolean' });
    const attributes = await store.setQueueAttributes(body as Record<string, unknown>);
    if (!attributes.disabled) ctx.waiters.wakeAll();
    return attributes;
  });

  app.get(
    '/queue/poll',
    {
      config: { access: ['worker'] },
      schema: {
        tags: ['queue'],
        summary: 'Take the next job (404 when none). ?wait=S long-polls up to S seconds; ?worker_id=ID names the lease holder',
        querystring: { type: 'object', properties: { wait: { type: 'string' }, worker_id: { type: 'string' } } },
      },
    },
    async (request, reply) => {
      const query = request.query as { wait?: string; worker_id?: string };
      const workerId = query.worker_id || undefined;
      const waitMs = seconds(query.wait, ctx.options.maxPollWaitSeconds) * 1000;
      const deadline = Date.now() + waitMs;
      const closed = new AbortController();
      request.raw.once('close', () => closed.abort());
      for (;;) {
        const { job, blocked } = await store.poll(workerId ?? '', ctx.options.leaseSeconds * 1000, ctx.now());
        // (A client that vanished right now leaves a lease that expires and requeues the job.)
        if (job) return jobDocument(job);
        const left = deadline - Date.now();
        if (left <= 0 || closed.signal.aborted) return reply.code(404).send({ message: BLOCKED_MESSAGE[blocked ?? 'none'] });
        // Woken at once by a submit to this server (or, on a store that tells, to another
        // instance); it looks again every 250 ms anyway (several servers on one SQLite file,
        // a missed Redis message) or every second on a store that tells.
        await ctx.waiters.wait(Math.min(left, store.onJobsAvailable ? 1000 : 250), closed.signal);
      }
    },
  );
}
