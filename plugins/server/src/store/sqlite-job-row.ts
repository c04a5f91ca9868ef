import type { JobFlow, JobState, StoredJob } from './queue-store.js';

/** A row of the SQLite store's `jobs` table (schema in `sqlite-schema.ts`). */
export interface JobRow {
  job_id: string;
  job_title: string;
  /** The job document, JSON. */
  job: string;
  state: JobState;
  priority: number;
  /** Queue order within a priority (a requeue takes the smallest). */
  seq: number;
  added: string;
  attempts: number;
  worker_id: string | null;
  lease_expires: number | null;
  started_at: string | null;
  finished_at: string | null;
  /** JSON. */
  result: string | null;
  reason: string | null;
  cancel_requested: number;
  retry_of: string | null;
  retried_as: string | null;
  parent_id: string | null;
  /** The {@link JobFlow}, JSON. */
  flow: string | null;
  /** The `finally` job (a `NewJob`, JSON) still to queue when the job ends failed or cancelled. */
  flow_finally: string | null;
  sort_key?: string;
}

/** ISO text of epoch ms `ms`, as the store keeps times. */
export const iso = (ms: number) => new Date(ms).toISOString();

/** The {@link JobFlow} of a row, when it has one. */
export function flowOf(row: Pick<JobRow, 'flow'>): JobFlow | undefined {
  return row.flow === null ? undefined : (JSON.parse(row.flow) as JobFlow);
}

/** A row as the store hands it out. */
export function toJob(row: JobRow): StoredJob {
  const job: StoredJob = {
    job_id: row.job_id,
    job_title: row.job_title,
    job: JSON.parse(row.job) as Record<string, unknown>,
    state: row.state,
    priority: row.priority,
    added: row.added,
    attempts: row.attempts,
  };
  if (row.worker_id !== null) job.worker_id = row.worker_id;
  if (row.lease_expires !== null) job.lease_expires = row.lease_expires;
  if (row.started_at !== null) job.started_at = row.started_at;
  if (row.finished_at !== null) job.finished_at = row.finished_at;
  if (row.result !== null) job.result = JSON.parse(row.result) as Record<string, unknown>;
  if (row.reason !== null) job.reason = row.reason;
  if (row.cancel_requested) job.cancel_requested = true;
  if (row.retry_of !== null) job.retry_of = row.retry_of;
  if (row.retried_as !== null) job.retried_as = row.retried_as;
  if (row.parent_id !== null) job.parent_id = row.parent_id;
  if (row.flow !== null) job.flow = JSON.parse(row.flow) as JobFlow;
  return job;
}
