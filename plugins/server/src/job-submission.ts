import { randomUUID } from 'node:crypto';
import { isSchemaValid, parseJob, renderTemplate, schemaProblems, type SchemaProblem } from '@sisyphus/core';
import { type ModuleRegistry } from '@sisyphus/core/config';
import type { NewJob, QueueStore } from './store/queue-store.js';
import { withRequirements } from './queue/job-requirements.js';
import { MAX_PROBLEMS, listProblems } from './problem-list.js';

/** A submission that cannot be queued: every problem with its JSON path. */
export class SubmissionError extends Error {
  /** The first {@link MAX_PROBLEMS} problems. */
  readonly problems: SchemaProblem[];
  /** `moreTasks`: tasks with problems not looked into (the answer was full already). */
  constructor(problems: SchemaProblem[], moreTasks = 0) {
    const listed = listProblems(problems);
    super(`${listed.text}${moreTasks ? `; ... and ${moreTasks} more task${moreTasks === 1 ? '' : 's'} with problems` : ''}`);
    this.problems = listed.problems;
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
  // Tasks with problems once the answer is full are counted, not described.
  let badTasks = 0;
  job.tasks.forEach((task, i) => {
    const entry = registry?.get(task.module);
    if (problems.length >= MAX_PROBLEMS) {
      if ((!entry && registry && !acceptUnknown) || (entry && !isSchemaValid(entry.module.schema, task.data))) badTasks += 1;
      return;
    }
    if (!entry) {
      if (registry && !acceptUnknown) {
        problems.push({ path: `tasks[${i}].module`, message: `"${task.module}" is not an available module (available: ${registry.names().join(', ')})` });
      }
      return;
    }
    problems.push(...schemaProblems(entry.module.schema, task.data, `tasks[${i}].data`));
  });
  if (problems.length) throw new SubmissionError(problems, badTasks);
  const jobId = job.job_id ?? randomUUID();
  const added = now.toISOString();
  const { priority, ...rest } = job;
  return {
    job_id: jobId,
    job_title: job.job_title,
    priority: priority ?? 0,
    added,
    // The priority lives beside the document (it can change while the job waits), not in it.
    job: { ...rest, job_id: jobId, added },
  };
}

/**
 * {@link prepareSubmission}, then what the job needs of the worker that
 * runs it (`NewJob.requires`, see `requirementsOf`): the one way a job is
 * made for the queue, whatever submits it (`POST /queue`, templates, watch
 * folders). Throws {@link SubmissionError} as prepareSubmission does.
 */
export async function prepareJob(
  body: unknown,
  sources: { registry: ModuleRegistry | undefined; store: Pick<QueueStore, 'getData'>; acceptUnknown: boolean; now: Date },
): Promise<NewJob> {
  const job = prepareSubmission(body, sources.registry, sources.acceptUnknown, sources.now);
  return withRequirements(job, sources);
}
