import type { JobFlow, JobRequirements, JobState, StoredJob } from './queue-store.js';

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
  /** What of the {@link JobFlow} is fixed for a round ({@link FlowFixed}), JSON; set once the job has waited. */
  flow: string | null;
  /** {@link JobFlow.round}; set with `flow`. */
  flow_round: number | null;
  /** {@link JobFlow.pending}; set with `flow`. */
  flow_pending: number | null;
  /** {@link JobFlow.finally_id}, once the finally job was queued. */
  flow_finally_id: string | null;
  /** The `finally` job (a `NewJob`, JSON) still to queue when the job ends failed or cancelled. */
  flow_finally: string | null;
  /** The job's requirement set (`requirement_sets.id`); NULL: anyone may run it. */
  requires_id: number | null;
  /** Its {@link JobRequirements}, JSON. */
  requires: string | null;
  sort_key?: string;
}

/** ISO text of epoch ms `ms`, as the store keeps times. */
export const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The part of a {@link JobFlow} kept as JSON in `jobs.flow`: written once per
 * wait, never on a child's end (its size grows with the children and the state).
 */
export type FlowFixed = Pick<JobFlow, 'task_index' | 'children' | 'state'>;

/** The {@link JobFlow} of a row (its `flow` JSON and flow columns), when it has one. */
export function flowOf(row: Pick<JobRow, 'flow' | 'flow_round' | 'flow_pending' | 'flow_finally_id'>): JobFlow | undefined {
  if (row.flow === null) return undefined;
  const fixed = JSON.parse(row.flow) as FlowFixed;
  const flow: JobFlow = { task_index: fixed.task_index, round: row.flow_round ?? 0, children: fixed.children, pending: row.flow_pending ?? 0 };
  if (fixed.state !== undefined) flow.state = fixed.state;
  if (row.flow_finally_id !== null) flow.finally_id = row.flow_finally_id;
  return flow;
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
  const flow = flowOf(row);
  if (flow) job.flow = flow;
  if (row.requires !== null) job.requires = JSON.parse(row.requires) as JobRequirements;
  return job;
}
