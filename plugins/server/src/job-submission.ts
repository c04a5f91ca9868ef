import { randomUUID } from 'node:crypto';
import { parseJob, renderTemplate, schemaProblems, type ModuleRegistry, type SchemaProblem } from '@sisyphus/core';
import type { NewJob } from './store/queue-store.js';

/** A submission that cannot be queued: every problem with its JSON path. */
export class SubmissionError extends Error {
  constructor(readonly problems: SchemaProblem[]) {
    super(problems.map((p) => (p.path ? `${p.path} ${p.message}` : p.message)).join('; '));
  }
}

function problemsOf(error: unknown): SchemaProblem[] {
  const details = (error as { details?: { problems?: SchemaProblem[] | string[] } }).details;
  const list = details?.problems;
  if (Array.isArray(list) && list.length) {
    return list.map((p) => (typeof p === 'string' ? { path: '', message: p } : p));
  }
  return [{ path: '', message: (error as Error).message }];
}

/**
 * Check a submitted job and make the record to queue: the job schema
 * (`job_title` or `job_name`, `tasks`), no unfilled `{{ }}` placeholder, and
 * each task's data against its module's schema when the server knows the
 * module (an unknown module is an error unless `acceptUnknown`).
 */
export function prepareSubmission(body: unknown, registry: ModuleRegistry | undefined, acceptUnknown: boolean, now: Date): NewJob {
  let job;
  try {
    renderTemplate(body, {});
    job = parseJob(body);
  } catch (error) {
    throw new SubmissionError(problemsOf(error));
  }
  const problems: SchemaProblem[] = [];
  job.tasks.forEach((task, i) => {
    const entry = registry?.get(task.module);
    if (!entry) {
      if (registry && !acceptUnknown) {
        problems.push({ path: `tasks[${i}].module`, message: `"${task.module}" is not an available module (available: ${registry.names().join(', ')})` });
      }
      return;
    }
    problems.push(...schemaProblems(entry.module.schema, task.data, `tasks[${i}].data`));
  });
  if (problems.length) throw new SubmissionError(problems);
  const jobId = job.job_id ?? randomUUID();
  const added = now.toISOString();
  const { priority, ...rest } = job;
  return {
    job_id: jobId,
    job_title: job.job_title,
    priority: priority ?? 0,
    added,
    job: { ...rest, job_id: jobId, added, ...(priority !== undefined ? { priority } : {}) },
  };
}
