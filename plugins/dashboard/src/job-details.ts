import type { JobResult, JobView } from './api/types.js';

/** Fields of a job view that are the server's bookkeeping, not the submitted document. */
const STATE_FIELDS = new Set([
  'state',
  'attempts',
  'worker_id',
  'worker_hostname',
  'live',
  'started_at',
  'finished_at',
  'result',
  'reason',
  'cancel_requested',
  'retry_of',
  'retried_as',
  'parent_id',
  'flow',
  'requirements',
  'eligibility',
]);

/** The job document as submitted (with the id, title and time the server gave it). */
export function jobDocument(job: JobView): Record<string, unknown> {
  return Object.fromEntries(Object.entries(job).filter(([key]) => !STATE_FIELDS.has(key)));
}

/**
 * Why a job failed or was cancelled: the result's message, else the failed
 * task's, else the server's reason. A job that ended while it waited for
 * children (its result is the record it waited with): the server's reason
 * (`child ID (TITLE) failed: ...`).
 */
export function failureMessage(job: JobView): string | undefined {
  const result = job.result;
  if (result?.waiting_children !== undefined && job.reason) return job.reason;
  const task = result?.tasks?.find((t) => t.error);
  return result?.message ?? task?.error?.message ?? job.reason;
}

function asTail(value: unknown): string | undefined {
  if (typeof value === 'string' && value.trim()) return value;
  if (Array.isArray(value) && value.length && value.every((line) => typeof line === 'string')) return value.join('\n');
  return undefined;
}

/**
 * The stderr tail a module kept for a failure: a `stderrTail`-like field
 * (`stderrTail`, `stderr_tail`, `stderr`, `tail`) of a task error's details.
 */
export function stderrTail(result: JobResult | undefined): string | undefined {
  for (const task of result?.tasks ?? []) {
    const details = task.error?.details;
    if (!details) continue;
    for (const key of ['stderrTail', 'stderr_tail', 'stderr', 'tail']) {
      const tail = asTail(details[key]);
      if (tail) return tail;
    }
    for (const [key, value] of Object.entries(details)) {
      const tail = /stderr|tail/i.test(key) ? asTail(value) : undefined;
      if (tail) return tail;
    }
  }
  const details = (result as { details?: Record<string, unknown> } | undefined)?.details;
  return details ? asTail(details.stderrTail ?? details.stderr) : undefined;
}
