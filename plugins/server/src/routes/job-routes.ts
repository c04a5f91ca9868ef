import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ServerContext } from '../server-context.js';
import { ErrorCodes } from '@sisyphus/core';
import type { StoredJob } from '../store/queue-store.js';
import { StoreError, jobNotFound } from '../store/store-error.js';
import { jobDocument } from '../queue/job-document.js';
import { leasedDocument } from '../queue/job-flow.js';
import { jobWorkerFields, type JobWorkerFields } from './job-worker.js';
import { reportJob } from '../queue/job-report.js';
import { jobSummary } from '../queue/queue-events.js';
import { CompletedQuery, CompletionBody, JobIdParams, JobPatchBody, JobsQuery, RetryAllBody } from './route-schemas.js';
import { historyFilter } from './history-filter.js';
import { flowProgress } from './flow-progress.js';
import { retryJob, retryAll } from '../queue/job-retry.js';
import { eligibilityOf, workerPool } from '../queue/job-eligibility.js';
import { needsTagSchedules, workerScheduleBlock } from '../queue/applied-schedule.js';

/** A job with its state (its {@link jobSummary}: the fields events carry too) and, once finished, its result record; `worker` adds its worker's host and live progress (see `jobWorkerFields`). */
export function jobView(job: StoredJob, worker: JobWorkerFields = {}): Record<string, unknown> {
  return {
    ...jobDocument(job),
    ...jobSummary(job),
    ...worker,
    ...(job.requires ? { requirements: job.requires.all } : {}),
    ...(job.result !== undefined ? { result: job.result } : {}),
  };
}

/**
 * Add to each queued job's view with requirements who could run it now
 * (`eligibility`, see `eligibilityOf`): "no eligible worker: needs ..."
 * when no live worker could. One read of the workers for the whole page.
 */
async function withEligibility(ctx: ServerContext, jobs: readonly StoredJob[], views: Record<string, unknown>[]): Promise<Record<string, unknown>[]> {
  if (!jobs.some((job) => job.state === 'queued' && job.requires)) return views;
  const now = ctx.now();
  const workers = await ctx.store.workers(now);
  // The tags' schedules, when a live worker has tags (a worker outside its hours is not eligible).
  const tagged = workers.some((w) => w.live && needsTagSchedules(w));
  const pool = workerPool(workers, tagged ? await ctx.store.queueAttributes() : undefined, now);
  jobs.forEach((job, i) => {
    if (job.state === 'queued' && job.requires) views[i]!.eligibility = eligibilityOf(job.requires, pool);
  });
  return views;
}

/** `/jobs`: history, one job, removal, completion, cancel. */
export function registerJobRoutes(server: FastifyInstance, ctx: ServerContext): void {
  const app = server.withTypeProvider<TypeBoxTypeProvider>();
  const { store } = ctx;

  app.get(
    '/jobs',
    {
      config: { access: ['submitter'] },
      schema: {
        tags: ['jobs'],
        summary:
          'Jobs in any state, newest first (queued: in queue order); ?state=&title= (case-insensitive part)&worker= (worker id)&since=&until= (ISO times on finished_at, else added)&limit=&cursor=',
        querystring: JobsQuery,
      },
    },
    async (request) => {
      const q = request.query;
      const limit = q.limit ?? 50;
      const page = await store.list({ limit, ...historyFilter(q), ...(q.cursor ? { cursor: q.cursor } : {}) });
      const workers = await jobWorkerFields(store, page.jobs, ctx.now());
      const views = await withEligibility(ctx, page.jobs, page.jobs.map((job, i) => jobView(job, workers[i])));
      return { jobs: views, ...(page.next ? { next: page.next } : {}) };
    },
  );

  app.get('/jobs/:id', { config: { access: ['submitter', 'worker'] }, schema: { tags: ['jobs'], summary: 'A job in any state, with its result once finished; worker_hostname, and while it runs live: {task, progress, info, at} from its worker\'s last heartbeat', params: JobIdParams } }, async (request) => {
    const { id } = request.params;
    const job = await store.get(id);
    if (!job) throw jobNotFound(id);
    const [view] = await withEligibility(ctx, [job], [jobView(job, (await jobWorkerFields(store, [job], ctx.now()))[0])]);
    if (!view) throw jobNotFound(id);
    if (job.state === 'waiting-children') {
      // Its progress is its children's (weighted), as a running job's is its worker's.
      const flow = (await flowProgress(store, job, ctx.now()))!;
      view.live = { progress: flow.progress, children: flow.states, at: new Date(ctx.now()).toISOString() };
    }
    return view;
  });

  app.get(
    '/jobs/:id/children',
    {
      config: { access: ['submitter', 'worker'] },
      schema: {
        tags: ['jobs'],
        summary:
          'The children of a job that waited for children (its current round), in order, each with its state, worker, weight and progress (0-100), and the round\'s progress weighted by weight; every child ever (all rounds, the finally job) in all',
        params: JobIdParams,
      },
    },
    async (request) => {
      const { id } = request.params;
      const job = await store.get(id);
      if (!job) throw jobNotFound(id);
      const now = ctx.now();
      const flow = await flowProgress(store, job, now);
      const all = await store.children(id);
      const hosts = await jobWorkerFields(store, all, now);
      return {
        job_id: id,
        state: job.state,
        ...(job.flow ? { flow: jobSummary(job).flow } : {}),
        progress: flow?.progress ?? (job.state === 'completed' ? 100 : 0),
        states: flow?.states ?? {},
        children: flow?.children ?? [],
        // (As `children` names each child's worker host, so does `all`.)
        all: all.map((child, i) => ({ ...jobSummary(child), ...(hosts[i]?.worker_hostname ? { worker_hostname: hosts[i]!.worker_hostname } : {}) })),
      };
    },
  );

  app.patch(
    '/jobs/:id',
    {
      config: { access: ['submitter'], changesQueue: true },
      schema: { tags: ['jobs'], summary: 'Change a queued job: {priority}; answers the job. 409 when it is not queued', params: JobIdParams, body: JobPatchBody },
    },
    async (request) => {
      const { id } = request.params;
      const result = await store.setPriority(id, request.body.priority);
      if (result === 'not-found') throw jobNotFound(id);
      const job = await store.get(id);
      if (!job) throw jobNotFound(id);
      if (result === 'not-queued') throw new StoreError(ErrorCodes.JOB_STATE, `job ${id} is ${job.state}; only a queued job's priority can change`);
      return jobView(job);
    },
  );

  app.post(
    '/jobs/:id/retry',
    {
      config: { access: ['submitter'], changesQueue: true },
      schema: {
        tags: ['jobs'],
        summary: 'Queue a failed or cancelled job again as a new job (same document, retry_of: this id); answers 201 {job_id, retry_of}. 409 when it is not failed/cancelled or was retried already',
        params: JobIdParams,
      },
    },
    async (request, reply) => {
      const retried = await retryJob(store, request.params.id, new Date(ctx.now()));
      ctx.waiters.wake();
      return reply.code(201).send(retried);
    },
  );

  app.post(
    '/jobs/retry',
    {
      config: { access: ['submitter'], changesQueue: true },
      schema: {
        tags: ['jobs'],
        summary:
          'Retry every failed (state: cancelled: every cancelled) job the filter selects (title, worker, since, until), newest first, up to limit (default 1000); jobs retried already are skipped. Answers {retried: [{job_id, retry_of}], count, skipped, more?} (more: the limit stopped it; call again)',
        body: RetryAllBody,
      },
    },
    async (request) => {
      const body = request.body;
      const outcome = await retryAll(store, { ...historyFilter(body), state: body.state ?? 'failed' }, body.limit ?? 1000, new Date(ctx.now()));
      if (outcome.count) ctx.waiters.wakeAll();
      return outcome;
    },
  );

  app.delete('/jobs/:id', { config: { access: ['submitter'], changesQueue: true }, schema: { tags: ['jobs'], summary: 'Remove a queued job (running ones: POST /jobs/{id}/cancel)', params: JobIdParams } }, async (request, reply) => {
    const { id } = request.params;
    if (await store.remove(id)) return reply.code(204).send();
    const job = await store.get(id);
    if (!job) throw jobNotFound(id);
    throw new StoreError(ErrorCodes.JOB_STATE, `job ${id} is ${job.state}; only queued jobs can be removed (use POST /jobs/${id}/cancel)`);
  });

  app.patch(
    '/jobs/:id/completed',
    {
      // A report may put the job back (requeue), take a requeued one out (its last holder), or lease the next.
      config: { access: ['worker'], changesQueue: true },
      schema: {
        tags: ['jobs'],
        summary:
          'Report a finished job: {failed, info}. 409 when the lease was lost. ?next=1: the reply also hands the reporting worker (info.worker_id) its next job in `next`, as a poll would',
        params: JobIdParams,
        querystring: CompletedQuery,
        body: CompletionBody,
      },
    },
    async (request) => {
      const { id } = request.params;
      const body = request.body;
      const info = typeof body.info === 'object' && body.info !== null && !Array.isArray(body.info) ? (body.info as Record<string, unknown>) : {};
      const workerId = typeof info.worker_id === 'string' && info.worker_id !== '' ? info.worker_id : undefined;
      // The next job, when asked for, is one this worker can run now (capabilities, active hours).
      const poller = request.query.next === '1' && workerId ? await ctx.workers.lookup(workerId) : undefined;
      const off = poller?.record ? await workerScheduleBlock(store, poller.record, ctx.now()) : undefined;
      const wantsNext = request.query.next === '1' && !off;
      // SIS_JOB_NOT_FOUND -> 404, SIS_LEASE_LOST -> 409 (see reportJob).
      const { state, next } = await reportJob(store, id, { failed: body.failed, info }, {
        workerId,
        now: ctx.now(),
        leaseMs: ctx.options.leaseSeconds * 1000,
        next: wantsNext,
        // The next job is one this worker can run (capability routing).
        ...(wantsNext && poller ? { lease: poller.lease } : {}),
        ...(ctx.registry ? { registry: ctx.registry } : {}),
      });
      if (state === 'queued') ctx.waiters.wake();
      return next ? { job_id: id, state, next: await leasedDocument(store, next) } : { job_id: id, state };
    },
  );

  app.post('/jobs/:id/cancel', { config: { access: ['submitter'], changesQueue: true }, schema: { tags: ['jobs'], summary: 'Cancel: a queued job is removed from the queue, a running one is aborted by its worker', params: JobIdParams } }, async (request) => {
    const { id } = request.params;
    const result = await store.cancel(id, ctx.now());
    if (result === 'not-found') throw jobNotFound(id);
    if (result === 'finished') throw new StoreError(ErrorCodes.JOB_STATE, `job ${id} has finished already`);
    return { job_id: id, status: result };
  });
}
