import type { ErrorCode } from '../module/error-codes.js';
import type { Phase } from '../module/errors.js';
import type { WaitingChildren } from './job-flow.js';

/** How one task fared. */
export interface TaskRecord {
  index: number;
  module: string;
  /** `pending` until it runs; `skipped` when an earlier failure stopped the job. */
  status: 'pending' | 'done' | 'failed' | 'cancelled' | 'skipped';
  /** Milliseconds spent in each phase that was entered. */
  durations: Partial<Record<Phase, number>>;
  /** The phase the task failed in, with the error. */
  error?: { code: ErrorCode; phase: Phase; message: string; details?: Record<string, unknown> };
  /** Warnings the module logged (e.g. mkvmerge's), kept for the record. */
  warnings?: string[];
  /** A cleanup failure after `run` had already failed (the run error wins). */
  cleanupError?: { code: ErrorCode; message: string };
  /**
   * What the task's `run` returned, when it returned something other than
   * undefined (BullMQ's `returnvalue`): JSON-able, at most 64 KiB as JSON. A
   * parent reads its children's through `ResumedStep.children[i].returnvalue`.
   */
  returnvalue?: unknown;
  /** The task waits for child jobs (status stays `pending` until it resumes). */
  waiting?: boolean;
}

/**
 * The record of a finished job. The first fields are those the original
 * Sisyphus worker reports in `PATCH /jobs/{id}/completed` `info`.
 */
export interface JobResult {
  /** ISO time the job started. */
  start_time: string;
  /** ISO time the job ended. */
  end_time: string;
  /** Seconds between the two. */
  runtime: number;
  /** Host name of the worker. */
  worker: string;
  /** Id of the worker. */
  worker_id: string;
  /** Version of @sisyphus/core that ran the job. */
  version: string;
  /** True when every task ran and cleaned up. */
  completed: boolean;
  /** Module of the failed task, on failure. */
  module?: string;
  /** One-line reason, on failure or cancel. */
  message?: string;

  job_id: string;
  job_title: string;
  /** True when the job did not complete (failure, cancel or timeout). */
  failed: boolean;
  /** True when the job was cancelled through its signal. */
  cancelled: boolean;
  /** Error code of the failure. */
  code?: ErrorCode;
  /** Phase of the failure. */
  phase?: Phase;
  /** Index of the failed task. */
  task_index?: number;
  /** Per-task outcome and phase durations. */
  tasks: TaskRecord[];
  /**
   * Set by the worker loop when it aborted the job because the worker was
   * stopping (not because the job failed or was cancelled by the server): a
   * server should queue the job again.
   */
  requeue?: boolean;
  /**
   * A task handed over child jobs and the job waits for them (`completed`
   * and `failed` are false): see {@link WaitingChildren}. The server queues
   * them and resumes the job; a local run never reports it (the engine runs
   * the children itself).
   */
  waiting_children?: WaitingChildren;
}
