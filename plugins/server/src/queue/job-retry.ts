import { randomUUID } from 'node:crypto';
import { ErrorCodes } from '@sisyphus/core';
import type { JobFilter, QueueStore, StoredJob } from '../store/queue-store.js';
import { StoreError, isStoreError, jobNotFound } from '../store/store-error.js';

/** A retry made: the new job and the one it retries. */
export interface Retried {
  job_id: string;
  retry_of: string;
}

/**
 * The rule of a retry, for every route and the CLI: a failed or cancelled
 * job is queued again as a new job with a new id and the same document
 * (title, tasks, priority), linked both ways (`retry_of` on the new job,
 * `retried_as` on the old one). A job is retried once: retry the retry
 * (unless that retry was removed: then the old job may be retried again).
 * `StoreError`s as {@link QueueStore.retry}.
 */
export async function retryJob(store: QueueStore, jobId: string, now: Date): Promise<Retried> {
  const old = await store.get(jobId);
  if (!old) throw jobNotFound(jobId);
  // Retried once already; unless that retry is gone (removed from the queue, or purged from the history).
  if (await retriedAlready(store, old)) {
    throw new StoreError(ErrorCodes.JOB_STATE, `job ${jobId} was retried already as ${old.retried_as}; retry ${old.retried_as} instead`);
  }
  return queueRetry(store, old, now);
}

/** Has `job` a retry that still exists? */
async function retriedAlready(store: QueueStore, job: StoredJob): Promise<boolean> {
  return job.retried_as !== undefined && (await store.get(job.retried_as)) !== undefined;
}

/** Queue the retry of `old` (read just now); the store refuses what changed meanwhile (see {@link QueueStore.retry}). */
async function queueRetry(store: QueueStore, old: StoredJob, now: Date): Promise<Retried> {
  const jobId = old.job_id;
  if (old.state !== 'failed' && old.state !== 'cancelled') {
    throw new StoreError(ErrorCodes.JOB_STATE, `job ${jobId} is ${old.state}; only failed or cancelled jobs can be retried`);
  }
  const newId = randomUUID();
  const added = now.toISOString();
  await store.retry(jobId, {
    job_id: newId,
    job_title: old.job_title,
    priority: old.priority,
    added,
    job: { ...old.job, job_id: newId, added },
    retry_of: jobId,
    // Same document, same requirements (capability routing).
    ...(old.requires ? { requires: old.requires } : {}),
  });
  return { job_id: newId, retry_of: jobId };
}

/** What {@link retryAll} did. */
export interface RetryAllOutcome {
  retried: Retried[];
  count: number;
  /** Jobs the filter selected that were retried already (by an earlier call, or meanwhile). */
  skipped: number;
  /** The limit stopped it: more jobs of the filter may be retried by calling again. */
  more?: true;
}

/** Jobs looked at per page while retrying; the process serves others between pages. */
const PAGE = 50;

/** Retry every job `filter` selects (newest first) that was not retried yet, at most `limit`. */
export async function retryAll(store: QueueStore, filter: JobFilter & { state: 'failed' | 'cancelled' }, limit: number, now: Date): Promise<RetryAllOutcome> {
  const retried: Retried[] = [];
  let skipped = 0;
  let cursor: string | undefined;
  do {
    const page = await store.list({ ...filter, limit: PAGE, ...(cursor ? { cursor } : {}) });
    for (const job of page.jobs) {
      // Retried already, unless that retry is gone (as a single retry decides).
      if (await retriedAlready(store, job)) {
        skipped += 1;
        continue;
      }
      if (retried.length >= limit) return { retried, count: retried.length, skipped, more: true };
      try {
        // The job as the page has it: no second read (the store's retry refuses it if it changed since).
        retried.push(await queueRetry(store, job, now));
      } catch (error) {
        // Retried (or removed by retention) since the page was read.
        if (isStoreError(error, ErrorCodes.JOB_STATE) || isStoreError(error, ErrorCodes.JOB_NOT_FOUND)) skipped += 1;
        else throw error;
      }
    }
    cursor = page.next;
    // A SQLite store answers synchronously: without a turn between pages, 10,000 retries would hold the server for seconds.
    await new Promise((resolve) => setImmediate(resolve));
  } while (cursor);
  return { retried, count: retried.length, skipped };
}
