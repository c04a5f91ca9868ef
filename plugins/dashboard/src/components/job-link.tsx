import { jobHref } from '../router.js';
import { Ellipsis } from './ellipsis.js';

/**
 * A link to a job's page (`#/jobs/ID`) that shows the job's title on one
 * line ({@link Ellipsis}: the whole title in the tooltip). `testId` names
 * the link (`data-testid`); without it the link has none.
 */
export function JobLink({ id, title, testId }: { id: string; title: string; testId?: string }) {
  return (
    <a href={jobHref(id)} data-testid={testId}>
      <Ellipsis text={title} />
    </a>
  );
}
