import type { JobResult } from '../engine/job-result.js';

/** A job handed to a worker by its transport. */
export interface LeasedJob {
  /** The job's id on the server. */
  job_id: string;
  /** The job document as submitted (`job_title`/`job_name`, `tasks`, ...). */
  job: Record<string, unknown>;
  /** Transport-specific lease handle (kept opaque by the worker). */
  lease?: unknown;
}

/** The heartbeat body, in the original Sisyphus worker's shape. */
export interface WorkerStatus {
  status: 'startup' | 'idle' | 'in_progress';
  hostname: string;
  version: string;
  /** When the worker came online (any string; the original sends Python `str(datetime)` or "None"). */
  online_at: string;
  job_id?: string;
  job_title?: string;
  /** Module name of the running task. */
  task?: string;
  /** 0-100. */
  progress?: number;
  info?: Record<string, unknown>;
}

/** What a server may answer to a heartbeat. */
export interface HeartbeatReply {
  /** Ids of running jobs the worker must abort. */
  cancel?: string[];
  /** True when the worker (or the queue) is disabled. */
  disabled?: boolean;
}

/**
 * The worker's link to a job source (HTTP server, Redis, ...). Each adapter
 * owns its connection; every adapter runs the core's transport conformance
 * suite.
 */
export interface Transport {
  /** Adapter name, e.g. `http`. */
  readonly name: string;
  /** The next job, or `undefined` when there is none right now. Honours `signal`. */
  next(signal: AbortSignal): Promise<LeasedJob | undefined>;
  /** Report status; renews the lease of the running job. */
  heartbeat(status: WorkerStatus): Promise<HeartbeatReply | void>;
  /** Report a finished job (done, failed or cancelled). Must not lose `result`. */
  complete(job: LeasedJob, result: JobResult): Promise<void>;
  /** Server-side module data (e.g. ffmpeg option sets), or `undefined`. */
  getData(module: string, name: string): Promise<Record<string, unknown> | undefined>;
  /** Release the connection. */
  close(): Promise<void>;
}
