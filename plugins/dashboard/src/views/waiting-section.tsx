import { api, reportError } from '../api/api-client.js';
import type { EventJob } from '../api/server-event.js';
import type { JobView } from '../api/types.js';
import { CancelButton } from '../components/cancel-button.js';
import { JobTitleCell } from '../components/job-title-cell.js';
import { PagedTable, useRowsPage } from '../components/paged-table.js';
import { ProgressBar } from '../components/progress-bar.js';
import type { Column } from '../components/table.js';
import { TimeAgo } from '../components/time-ago.js';
import { useServerEvents } from '../events/use-server-events.js';
import { childStates } from '../flow-details.js';
import { clip } from '../format.js';
import { serverNow } from '../state/server-clock.js';
import { toast } from '../state/toast.js';
import { useBusyIds } from '../state/use-busy-ids.js';
import { useChildren } from '../state/use-children.js';
import { useJobsInState } from '../state/use-jobs-in-state.js';

/** A job waiting for its children, as this section keeps it: from `GET /jobs?state=waiting-children`, then from `job.*` events. */
type WaitingJob = Pick<JobView, 'job_id' | 'job_title' | 'flow'> & {
  /** Since when it waits (its wait's report, else the event that said so). */
  since?: string;
};

const PAGE = 100;
/** Events after which a job no longer waits (queued again to resume, ended, removed, running). */
const LEAVES = new Set(['job.resumed', 'job.started', 'job.requeued', 'job.completed', 'job.failed', 'job.cancelled', 'job.removed']);

function fromView(job: JobView): WaitingJob {
  const end = typeof job.result?.end_time === 'string' ? job.result.end_time : undefined;
  const since = end ?? job.started_at;
  return { job_id: job.job_id, job_title: job.job_title, ...(job.flow ? { flow: job.flow } : {}), ...(since ? { since } : {}) };
}

function fromEvent(job: EventJob, at: string, old: WaitingJob | undefined): WaitingJob {
  return {
    job_id: job.job_id,
    job_title: job.job_title ?? old?.job_title ?? job.job_id,
    ...(job.flow ?? old?.flow ? { flow: (job.flow ?? old?.flow)! } : {}),
    since: old?.since ?? at,
  };
}

/**
 * The Running view's jobs that wait for their children (`waiting-children`:
 * they hold no worker): each with its children's states, a progress bar of
 * the children's progress weighted (`GET /jobs/{id}/children`, refreshed at
 * most twice a second per job when an event concerns one of its children),
 * since when it waits, and cancel (which cancels its children). Shown only
 * while there is such a job.
 */
export function WaitingSection() {
  const { jobs, put, drop } = useJobsInState('waiting-children', fromView);
  const cancelling = useBusyIds();

  useServerEvents((event) => {
    const job = event.job;
    if (!job?.job_id || !jobs) return;
    if (event.type === 'job.waiting_children') {
      if (job.state !== undefined && job.state !== 'waiting-children') return;
      put(job.job_id, (old) => fromEvent(job, event.at, old));
    } else if (LEAVES.has(event.type) && jobs.has(job.job_id)) {
      drop(job.job_id);
    }
  });

  const rows = jobs ? [...jobs.values()].sort((a, b) => (a.since ?? '').localeCompare(b.since ?? '') || a.job_id.localeCompare(b.job_id)) : [];
  const page = useRowsPage(rows, PAGE);
  const children = useChildren(page.shown.map((j) => j.job_id));
  if (!rows.length) return null;

  const cancel = async (job: WaitingJob) => {
    if (!confirm(`Cancel "${clip(job.job_title)}" and its child jobs? Running children are stopped; it ends cancelled.`)) return;
    cancelling.add(job.job_id);
    try {
      await api<{ status: string }>(`/jobs/${encodeURIComponent(job.job_id)}/cancel`, { method: 'POST' });
      toast(`Cancelled ${job.job_title}`);
    } catch (error) {
      reportError(error);
    } finally {
      cancelling.remove(job.job_id);
    }
  };
  const now = serverNow();

  const columns: Array<Column<WaitingJob>> = [
    { label: 'Job', class: 'col-title', cell: (j) => <JobTitleCell job={j} /> },
    {
      label: 'Children',
      class: 'col-children',
      cell: (j) => {
        const answer = children.get(j.job_id);
        const total = answer?.flow?.children ?? j.flow?.children ?? answer?.children.length ?? 0;
        return <span data-testid="waiting-children-states">{answer ? childStates(answer.states, total) : total ? `${total} children` : '—'}</span>;
      },
    },
    { label: 'Progress', class: 'col-progress', cell: (j) => <ProgressBar value={children.get(j.job_id)?.progress} label={`Progress of the children of ${j.job_title}`} /> },
    { label: 'Waiting since', class: 'col-time', cell: (j) => <TimeAgo at={j.since} now={now} /> },
    { label: '', class: 'col-actions', cell: (j) => <CancelButton busy={cancelling.has(j.job_id)} onCancel={() => void cancel(j)} /> },
  ];

  return (
    <section class="waiting-section" data-testid="waiting-section">
      <div class="view-head">
        <h2>
          Waiting for children <span class="count">{rows.length}</span>
        </h2>
      </div>
      <PagedTable
        columns={columns}
        page={page}
        rowKey={(j) => j.job_id}
        rowProps={(j) => ({ 'data-testid': 'waiting-row', 'data-job-id': j.job_id })}
        empty="No jobs waiting for children"
        caption="Jobs waiting for their child jobs"
      />
    </section>
  );
}
