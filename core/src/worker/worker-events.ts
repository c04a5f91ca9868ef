import type { LogLevel } from '../container/services.js';
import type { JobResult } from '../engine/job-result.js';
import type { HeartbeatReply, WorkerStatus } from '../transport/transport.js';

/** A heartbeat was sent (`ok`) or could not be. */
export interface WorkerHeartbeatEvent {
  /** The slot's id as the server sees it. */
  workerId: string;
  status: WorkerStatus;
  ok: boolean;
  reply?: HeartbeatReply;
  error?: unknown;
}

/** A slot did not poll because the queue or the worker is disabled. */
export interface WorkerPollSkipEvent {
  workerId: string;
  reason: 'queue-disabled' | 'worker-disabled';
}

/** A slot took a job and starts running it. */
export interface WorkerJobStartEvent {
  workerId: string;
  jobId: string;
  title: string;
}

/** A slot's job has ended (the result is not yet reported). */
export interface WorkerJobEndEvent {
  workerId: string;
  jobId: string;
  result: JobResult;
}

/**
 * What became of a job's result: `delivered` to the server, `refused` by it
 * for good (e.g. 409, lease lost), or `lost` (not deliverable before the
 * worker had to exit, or an error that retrying cannot fix).
 */
export interface WorkerJobReportedEvent {
  workerId: string;
  jobId: string;
  outcome: 'delivered' | 'refused' | 'lost' | 'kept';
  reason?: string;
  /** How many attempts it took. */
  attempts: number;
}

/** A running job is being aborted: `cancel` asked by the server, `stop` by an aborting stop. */
export interface WorkerJobAbortEvent {
  workerId: string;
  jobId: string;
  reason: 'cancel' | 'stop';
}

/** The server became unreachable (`down`) or reachable again (`up`). Once per outage each. */
export interface WorkerNetworkEvent {
  state: 'down' | 'up';
  /** What failed first (on `down`). */
  error?: string;
  /** How long the outage lasted (on `up`). */
  downMs?: number;
}

/** A log line of the worker loop (job logs are the engine's `log` events). */
export interface WorkerLogEvent {
  level: LogLevel;
  message: string;
  workerId?: string;
  fields?: Record<string, unknown>;
}

/** The worker's typed events (eventemitter3). */
export interface WorkerEvents {
  heartbeat: (event: WorkerHeartbeatEvent) => void;
  'poll:skip': (event: WorkerPollSkipEvent) => void;
  'job:start': (event: WorkerJobStartEvent) => void;
  'job:end': (event: WorkerJobEndEvent) => void;
  'job:reported': (event: WorkerJobReportedEvent) => void;
  'job:abort': (event: WorkerJobAbortEvent) => void;
  network: (event: WorkerNetworkEvent) => void;
  log: (event: WorkerLogEvent) => void;
  /** `stop()` was called (again with `abort` when it escalates). */
  stopping: (event: { abort: boolean }) => void;
  /** Every slot has ended; nothing runs any more. */
  stopped: () => void;
}
