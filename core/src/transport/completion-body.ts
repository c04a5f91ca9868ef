import type { JobResult } from '../engine/job-result.js';

/** The body of `PATCH /jobs/{id}/completed` (the original API's), and what every transport reports. */
export interface CompletionBody {
  failed: boolean;
  /** The job's result record (start/end time, runtime, worker, worker_id, version, ...). */
  info: Record<string, unknown>;
}

/**
 * The completion body, in the original worker's shape: `{failed, info}`,
 * `info` being the engine's result record. A job that failed before running
 * (schema, init or validation failure, or cancelled before its start) is
 * sent the way the original sends a validation failure: `message` but no
 * `completed` and no `module`. Our extra fields stay. A job waiting for
 * children is sent `failed: false` with `info.waiting_children`.
 */
export function completionBody(result: JobResult): CompletionBody {
  // A job that waits for children neither completed nor failed: the server queues them (`waiting_children`).
  if (result.waiting_children) return { failed: false, info: { ...result } };
  const beforeRun = !result.completed && (result.phase === undefined || result.phase === 'init' || result.phase === 'validate');
  if (!beforeRun) return { failed: !result.completed, info: { ...result } };
  const { completed: _completed, module: _module, ...info } = result;
  return { failed: true, info };
}
