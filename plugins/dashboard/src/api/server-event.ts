import type { JobSummary, QueueEventType } from '@sisyphus/server/queue';

/** The job fields every `job.*` event carries (`job.removed`: the id only); a child's carry `parent_id`. */
export type EventJob = Partial<JobSummary> & Pick<JobSummary, 'job_id'>;

/** An event of `GET /events` (its `data`, parsed). */
export interface ServerEvent {
  type: string;
  at: string;
  job?: EventJob;
  worker?: { worker_id: string; online: boolean; last_seen: string; status: Record<string, unknown>; attributes?: Record<string, unknown> };
  worker_id?: string;
  attributes?: Record<string, unknown>;
  module?: string;
  name?: string;
  deleted?: boolean;
}

/** Every event type the server sends (named SSE events are only delivered to listeners of their name). */
export const EVENT_TYPES = [
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
  'reset',
] as const satisfies ReadonlyArray<QueueEventType | 'reset'>;

/** Compiles only while {@link EVENT_TYPES} lists every type the server sends. */
const everyType: [Exclude<QueueEventType, (typeof EVENT_TYPES)[number]>] extends [never] ? true : never = true;
void everyType;
