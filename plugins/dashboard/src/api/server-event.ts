import type { JobState } from './types.js';

/** The job fields every `job.*` event carries. */
export interface EventJob {
  job_id: string;
  job_title?: string;
  state?: JobState;
  priority?: number;
  attempts?: number;
  added?: string;
  worker_id?: string;
  started_at?: string;
  finished_at?: string;
  reason?: string;
  cancel_requested?: boolean;
  retry_of?: string;
  retried_as?: string;
}

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
  'queue.cleared',
  'queue.attributes',
  'worker.heartbeat',
  'worker.attributes',
  'worker.removed',
  'data.changed',
  'reset',
] as const;
