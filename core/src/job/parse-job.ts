import { JobError } from '../module/errors.js';
import { ErrorCodes } from '../module/error-codes.js';
import { formatProblems, schemaProblems } from './format-errors.js';
import { JobInputSchema, type Job, type JobInput } from './job-schema.js';
import { queueIdProblem } from './queue-id.js';

/**
 * Check a (rendered) job document against the job schema and normalise it:
 * `job_name` is accepted as an alias of `job_title`. Throws a {@link JobError}
 * (`SIS_JOB_INVALID`) listing every problem with its path.
 */
export function parseJob(input: unknown): Job {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new JobError('job must be an object with job_title and tasks', { code: ErrorCodes.JOB_INVALID });
  }
  const problems = schemaProblems(JobInputSchema, input);
  const doc = input as JobInput;
  if (doc.job_title === undefined && doc.job_name === undefined) {
    problems.unshift({ path: 'job_title', message: 'is required (job_name is accepted too)' });
  }
  if (doc.job_title !== undefined && doc.job_name !== undefined && doc.job_title !== doc.job_name) {
    problems.push({ path: 'job_name', message: 'differs from job_title; give only one' });
  }
  // Every accepted job must be addressable by its id (see queue-id.ts).
  const idProblem = typeof doc.job_id === 'string' && doc.job_id !== '' ? queueIdProblem(doc.job_id) : undefined;
  if (idProblem) problems.push({ path: 'job_id', message: idProblem });
  if (problems.length) {
    throw new JobError(`invalid job: ${formatProblems(problems)}`, { details: { problems } });
  }
  const job: Job = { job_title: (doc.job_title ?? doc.job_name) as string, tasks: doc.tasks };
  if (doc.job_id !== undefined) job.job_id = doc.job_id;
  if (doc.priority !== undefined) job.priority = doc.priority;
  if (doc.added !== undefined) job.added = doc.added;
  if (doc.requires !== undefined) job.requires = doc.requires;
  return job;
}
