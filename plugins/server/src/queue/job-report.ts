import { ErrorCodes } from '@sisyphus/core';
import type { JobOutcome, JobState, LeaseOptions, QueueStore, StoredJob } from '../store/queue-store.js';
import { StoreError, jobNotFound } from '../store/store-error.js';
import { waitForChildrenOf, waitRecorded, waitingChildrenOf } from './job-flow.js';
import { withChildRequirements, type RequirementSources } from './job-requirements.js';

/** A worker's report of a job, in the original API's shape (`PATCH /jobs/{id}/completed`). */
export interface JobReport {
  /** The job did not complete. */
  failed: boolean;
  /** The result record (`worker_id`, `cancelled`, `requeue`, `message`, ...); stored as the job's `result`. */
  info: Record<string, unknown>;
}

/** Settings of {@link reportJob}. */
export interface ReportOptions {
  /** The reporting worker (the lease holder); undefined for an original client, whose report any lease accepts. */
  workerId: string | undefined;
  /** Epoch ms. */
  now: number;
  /** Lease of a next job handed out with the report (ms). */
  leaseMs: number;
  /** Also hand the reporting worker its next job, as a poll right after would (our workers; needs `workerId`). */
  next?: boolean;
  /** What the reporting worker can do, for its next job (see `LeaseOptions`). */
  lease?: LeaseOptions;
  /**
   * The modules known where the report is taken (the server's), for the
   * requirements of child jobs; without it a child requires its modules and
   * what its document (or its parent's) names in `requires`.
   */
  registry?: RequirementSources['registry'];
}

/** What a report did. */
export interface ReportOutcome {
  /** The job's state now: `queued` when it was given back, else how it ended. */
  state: Extract<JobState, 'queued' | 'waiting-children' | 'completed' | 'failed' | 'cancelled'>;
  /** The reporting worker's next job (leased to it), when asked for and there was one. */
  next?: StoredJob;
}

/**
 * The rule of a report, the same for every route and transport:
 * - done -> `completed`;
 * - failed with `info.requeue` (the worker stopped mid-job) -> back to the
 *   head of the queue, unless a cancel was asked for;
 * - failed -> `cancelled` when the worker cancelled it or a cancel was
 *   asked for (reason `cancelled`), else `failed`;
 * - not failed with `info.waiting_children` (a task handed over child jobs)
 *   -> `waiting-children` (`QueueStore.waitForChildren`; children get new ids
 *   and the job's priority; a malformed one, one without `info.worker_id`
 *   or one whose `task_index` is not a task of the job is `SIS_VALIDATION`),
 *   unless a cancel was asked for meanwhile: then `cancelled`; a child job
 *   that waits, or a job that waited {@link MAX_ROUNDS} times, fails with the reason.
 * The holder rules are the store's (see `QueueStore.finish`). Throws a
 * {@link StoreError}: `SIS_JOB_NOT_FOUND` for an unknown job,
 * `SIS_LEASE_LOST` when another worker holds it or it finished already
 * (unless with this very report: a report sent again is accepted).
 */
export async function reportJob(store: QueueStore, jobId: string, report: JobReport, options: ReportOptions): Promise<ReportOutcome> {
  const { failed, info } = report;
  const { workerId, now } = options;
  const waiting = failed ? undefined : waitingChildrenOf(info);
  if (waiting) return waitForChildren(store, jobId, info, waiting, options);
  // Only a failure needs the stored job (was a cancel asked for?); a success goes straight to finish.
  const job = failed ? await store.get(jobId) : undefined;
  if (failed && !job) throw jobNotFound(jobId);
  if (failed && info.requeue === true && !job?.cancel_requested) {
    refuse(await store.release(jobId, workerId, now), jobId, workerId);
    return { state: 'queued' };
  }
  const cancelled = failed && (info.cancelled === true || job?.cancel_requested === true);
  const state = !failed ? 'completed' : cancelled ? 'cancelled' : 'failed';
  const ended: JobOutcome = { state, result: info, ...(cancelled ? { reason: 'cancelled' } : {}) };
  if (options.next && workerId) {
    const { result, job: next } = await store.finishAndPoll(jobId, workerId, ended, now, options.leaseMs, options.lease);
    if (result !== 'ok' && (await recordedAlready(store, jobId, workerId, ended))) return { state };
    refuse(result, jobId, workerId);
    return next ? { state, next } : { state };
  }
  const result = await store.finish(jobId, workerId, ended, now);
  if (result !== 'ok' && (await recordedAlready(store, jobId, workerId, ended))) return { state };
  refuse(result, jobId, workerId);
  return { state };
}

/**
 * Is this very report recorded already? A worker whose first attempt went
 * through but whose answer was lost (a network cut, a timeout) sends it
 * again: that is accepted (and changes nothing), not refused as a lost lease.
 */
async function recordedAlready(store: QueueStore, jobId: string, workerId: string | undefined, ended: JobOutcome): Promise<boolean> {
  if (workerId === undefined) return false;
  const job = await store.get(jobId);
  return job?.state === ended.state && job.worker_id === workerId && job.result !== undefined && JSON.stringify(job.result) === JSON.stringify(ended.result);
}

/** Throw the {@link StoreError} of a finish or release that did not go through. */
function refuse(result: 'ok' | 'not-found' | 'lease-lost', jobId: string, workerId: string | undefined): void {
  if (result === 'ok') return;
  if (result === 'not-found') throw jobNotFound(jobId);
  throw new StoreError(
    ErrorCodes.LEASE_LOST,
    `lease lost: job ${jobId} is no longer leased to ${workerId ?? 'this worker'} (another worker holds it, or it finished); the report was not recorded`,
  );
}

/** A job that waits for children more often than this is failed (a task that never checks `resumed` would wait for ever). */
export const MAX_ROUNDS = 1000;

/** {@link reportJob} of a report that waits for children. */
async function waitForChildren(store: QueueStore, jobId: string, info: Record<string, unknown>, waiting: Record<string, unknown>, options: ReportOptions): Promise<ReportOutcome> {
  const { workerId, now } = options;
  // Only the lease holder hands over child jobs: an anonymous report (an original client's) cannot.
  if (!workerId) throw new StoreError(ErrorCodes.VALIDATION, 'a report that waits for children must name its worker (info.worker_id), the holder of the job');
  const job = await store.get(jobId);
  if (!job) throw jobNotFound(jobId);
  const { waiting_children: _, ...rest } = info;
  const end = (message: string, cancelled = false) => reportJob(store, jobId, { failed: true, info: { ...rest, completed: false, failed: true, cancelled, message } }, options);
  if (job.state === 'running' && job.worker_id === workerId) {
    // Cancelled while its step ran: nothing to wait for.
    if (job.cancel_requested) return end('cancelled', true);
    // Refused by ending the job with the reason (its worker learns nothing from a refusal it would only retry or drop).
    if (job.parent_id !== undefined) return end('a child job cannot wait for children of its own (nested fan-out is not supported)');
    if ((job.flow?.round ?? 0) >= MAX_ROUNDS) return end(`the job waited for children ${MAX_ROUNDS} times; stopped (does its task check ctx.children.resumed?)`);
  }
  const tasks = Array.isArray(job.job.tasks) ? job.job.tasks.length : 0;
  const index = waiting.task_index;
  if (typeof index === 'number' && Number.isInteger(index) && index >= tasks) {
    throw new StoreError(ErrorCodes.VALIDATION, `waiting_children.task_index ${index} is not a task of job ${jobId} (it has ${tasks})`);
  }
  const made = waitForChildrenOf(info, waiting, job.priority, now);
  // Children run where they can (capability routing), as their parent did.
  const sources: RequirementSources = { registry: options.registry, store };
  const [children, last] = await Promise.all([
    withChildRequirements(made.children, job.job, sources),
    made.finally ? withChildRequirements([made.finally], job.job, sources) : Promise.resolve([]),
  ]);
  const wait = { ...made, children, ...(last[0] ? { finally: last[0] } : {}) };
  const result = await store.waitForChildren(jobId, workerId, wait, now);
  if (result !== 'ok') {
    if (waitRecorded(await store.get(jobId), info)) return { state: 'waiting-children' };
    refuse(result, jobId, workerId);
  }
  if (!options.next || !workerId) return { state: 'waiting-children' };
  const { job: next } = await store.poll(workerId, options.leaseMs, now, options.lease);
  return next ? { state: 'waiting-children', next } : { state: 'waiting-children' };
}
