import type { StoredJob } from '../store/queue-store.js';

/**
 * The types of the queue's events, as `GET /events` names them (SSE
 * `event:`) and the event log keeps them.
 *
 * - `job.*`: a job changed; data `{job: JobSummary}` (`job.removed`: `{job: {job_id}}`).
 * - `queue.cleared` `{}`, `queue.attributes` `{attributes}`.
 * - `worker.heartbeat` `{worker: {worker_id, online, last_seen, status, attributes}}`,
 *   `worker.attributes` `{worker_id, attributes}`, `worker.removed` `{worker_id}`,
 *   `worker.offline` `{worker: {worker_id, online: false, last_seen, expired_at, hostname?}}`
 *   (once per expiry of a worker's heartbeat, see `webhooks/worker-offline.ts`).
 * - `data.changed` `{module, name, deleted}`.
 */
export const QUEUE_EVENT_TYPES = [
  'job.submitted',
  'job.started',
  'job.requeued',
  'job.completed',
  'job.failed',
  'job.cancelled',
  'job.cancel_requested',
  'job.removed',
  'job.priority',
  'job.retried',
  'job.waiting_children',
  'job.resumed',
  'queue.cleared',
  'queue.attributes',
  'worker.heartbeat',
  'worker.attributes',
  'worker.removed',
  'worker.offline',
  'data.changed',
] as const;

/** One of {@link QUEUE_EVENT_TYPES}. */
export type QueueEventType = (typeof QUEUE_EVENT_TYPES)[number];

/** What a `job.*` event says of its job: the listing fields, without the document and the result. */
export interface JobSummary {
  job_id: string;
  job_title: string;
  state: StoredJob['state'];
  priority: number;
  attempts: number;
  added: string;
  worker_id?: string;
  started_at?: string;
  finished_at?: string;
  reason?: string;
  cancel_requested?: boolean;
  retry_of?: string;
  retried_as?: string;
  /** A child job: its parent. */
  parent_id?: string;
  /** A job that waited for children: where it resumes, its round, how many children the round has and how many have not ended. */
  flow?: { task_index: number; round: number; children: number; pending: number; finally_id?: string };
}

/** What a summary says of a job's flow: counts, not the ids (a round may have thousands). */
function flowSummary(flow: NonNullable<StoredJob['flow']>): NonNullable<JobSummary['flow']> {
  return {
    task_index: flow.task_index,
    round: flow.round,
    children: flow.children.length,
    pending: flow.pending,
    ...(flow.finally_id !== undefined ? { finally_id: flow.finally_id } : {}),
  };
}

/** The {@link JobSummary} of a stored job. */
export function jobSummary(job: StoredJob): JobSummary {
  return {
    job_id: job.job_id,
    job_title: job.job_title,
    state: job.state,
    priority: job.priority,
    attempts: job.attempts,
    added: job.added,
    ...(job.worker_id !== undefined ? { worker_id: job.worker_id } : {}),
    ...(job.started_at !== undefined ? { started_at: job.started_at } : {}),
    ...(job.finished_at !== undefined ? { finished_at: job.finished_at } : {}),
    ...(job.reason !== undefined ? { reason: job.reason } : {}),
    ...(job.cancel_requested ? { cancel_requested: true } : {}),
    ...(job.retry_of !== undefined ? { retry_of: job.retry_of } : {}),
    ...(job.retried_as !== undefined ? { retried_as: job.retried_as } : {}),
    ...(job.parent_id !== undefined ? { parent_id: job.parent_id } : {}),
    ...(job.flow ? { flow: flowSummary(job.flow) } : {}),
  };
}

/** The event type of a job that reached final state `state`. */
export function finishedEventType(state: 'completed' | 'failed' | 'cancelled'): QueueEventType {
  return `job.${state}`;
}
