import type { StoredJob } from '../store/queue-store.js';

/**
 * The job document as the original API hands it out (`GET /queue`, a poll,
 * the `next` of a report): the submitted document with `job_id`,
 * `job_title` and `added`. Made in place from `job.job` (stores decode a
 * fresh object for every call, so nothing else holds it): a worker taking
 * hundreds of jobs a second copies no documents.
 */
export function jobDocument(job: StoredJob): Record<string, unknown> {
  const doc = job.job;
  doc.job_id = job.job_id;
  doc.job_title = job.job_title;
  doc.added = job.added;
  // Documents stored before the priority was kept beside them carry the one they were submitted with.
  if ('priority' in doc) doc.priority = job.priority;
  return doc;
}
