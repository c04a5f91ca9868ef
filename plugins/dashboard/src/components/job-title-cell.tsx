import type { JobView } from '../api/types.js';
import { jobHref } from '../router.js';
import { JobLink } from './job-link.js';

/**
 * The "Job" cell of a list of jobs (Queue, History, Running, waiting for
 * children): the title linking to the job's page ({@link JobLink}) and, for
 * a child job (`parent_id` set), "↑ parent job" under it linking to its
 * parent (`parent-link`, the parent's id in the tooltip).
 */
export function JobTitleCell({ job }: { job: Pick<JobView, 'job_id' | 'job_title' | 'parent_id'> }) {
  return (
    <>
      <JobLink id={job.job_id} title={job.job_title} />
      {job.parent_id ? (
        <a class="sub" href={jobHref(job.parent_id)} data-testid="parent-link" title={`A child job of ${job.parent_id}`}>
          ↑ parent job
        </a>
      ) : null}
    </>
  );
}
