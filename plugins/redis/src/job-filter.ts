import type { JobFilter, StoredJob } from '@sisyphus/server/store';
import { timeScore, titleKey } from './job-record.js';

/** A {@link JobFilter} without its state, as the listings apply it: the title lowercased (see job-record.ts). */
export interface ListFilter {
  /** Lowercased title to find as plain text; undefined: any. */
  title?: string;
  workerId?: string;
  since?: number;
  until?: number;
}

/** The filter of `options` besides the state; undefined when it selects every job of the state. */
export function listFilter(options: JobFilter): ListFilter | undefined {
  const filter: ListFilter = {};
  if (options.title !== undefined && options.title !== '') filter.title = titleKey(options.title);
  if (options.workerId !== undefined) filter.workerId = options.workerId;
  if (options.since !== undefined) filter.since = options.since;
  if (options.until !== undefined) filter.until = options.until;
  return Object.keys(filter).length > 0 ? filter : undefined;
}

/** What {@link passes} looks at. */
export type FilteredFields = Pick<StoredJob, 'job_title' | 'worker_id' | 'added' | 'finished_at'>;

/** The time a job lists by (epoch ms): `finished_at` when finished, else `added` (the score of every index). */
export const listingTime = (job: FilteredFields): number => timeScore(job.finished_at ?? job.added);

/** Does `job` pass `filter`? (The check the scans make, made again on each record a page shows.) */
export function passes(job: FilteredFields, filter: ListFilter): boolean {
  if (filter.title !== undefined && !titleKey(job.job_title).includes(filter.title)) return false;
  if (filter.workerId !== undefined && job.worker_id !== filter.workerId) return false;
  const time = listingTime(job);
  if (filter.since !== undefined && time < filter.since) return false;
  if (filter.until !== undefined && time >= filter.until) return false;
  return true;
}
