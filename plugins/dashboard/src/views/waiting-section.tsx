import { useEffect, useRef, useState } from 'preact/hooks';
import { api, reportError } from '../api/api-client.js';
import type { EventJob } from '../api/server-event.js';
import type { JobPage, JobView } from '../api/types.js';
import { Ellipsis } from '../components/ellipsis.js';
import { Pager } from '../components/pager.js';
import { ProgressBar } from '../components/progress-bar.js';
import { Table, type Column } from '../components/table.js';
import { useGeneration, useServerEvents } from '../events/use-server-events.js';
import { childStates } from '../flow-details.js';
import { ago, clip } from '../format.js';
import { jobHref } from '../router.js';
import { serverNow } from '../state/server-clock.js';
import { toast } from '../state/toast.js';
import { useChildren } from '../state/use-children.js';

/** A job waiting for its children, as this section keeps it: from `GET /jobs?state=waiting-children`, then from `job.*` events. */
type WaitingJob = Pick<JobView, 'job_id' | 'job_title' | 'flow'> & {
  /** Since when it waits (its wait's report, else the event that said so). */
  since?: string;
};

const PAGE = 100;
/** Waiting jobs fetched per request of the snapshot. */
const FETCH = 500;
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
  const [jobs, setJobs] = useState<Map<string, WaitingJob> | undefined>();
  const [page, setPage] = useState(0);
  const [cancelling, setCancelling] = useState<Set<string>>(new Set());
  const seq = useRef(0);
  const generation = useGeneration();

  const load = async () => {
    const mine = ++seq.current;
    try {
      const all: WaitingJob[] = [];
      let cursor: string | undefined;
      do {
        const answer = await api<JobPage>(`/jobs?state=waiting-children&limit=${FETCH}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        all.push(...answer.jobs.map(fromView));
        cursor = answer.next;
      } while (cursor && all.length < 20 * FETCH && mine === seq.current);
      if (mine === seq.current) setJobs(new Map(all.map((j) => [j.job_id, j])));
    } catch (error) {
      if (mine === seq.current) reportError(error);
    }
  };
  useEffect(() => void load(), [generation]);

  useServerEvents((event) => {
    const job = event.job;
    if (!job?.job_id || !jobs) return;
    if (event.type === 'job.waiting_children') {
      if (job.state !== undefined && job.state !== 'waiting-children') return;
      setJobs((old) => new Map(old).set(job.job_id, fromEvent(job, event.at, old?.get(job.job_id))));
    } else if (LEAVES.has(event.type) && jobs.has(job.job_id)) {
      setJobs((old) => {
        const next = new Map(old);
        next.delete(job.job_id);
        return next;
      });
    }
  });

  const rows = jobs ? [...jobs.values()].sort((a, b) => (a.since ?? '').localeCompare(b.since ?? '') || a.job_id.localeCompare(b.job_id)) : [];
  const pages = Math.max(1, Math.ceil(rows.length / PAGE));
  const current = Math.min(page, pages - 1);
  const shown = rows.slice(current * PAGE, (current + 1) * PAGE);
  const children = useChildren(shown.map((j) => j.job_id));
  if (!rows.length) return null;

  const cancel = async (job: WaitingJob) => {
    if (!confirm(`Cancel "${clip(job.job_title)}" and its child jobs? Running children are stopped; it ends cancelled.`)) return;
    setCancelling((old) => new Set(old).add(job.job_id));
    try {
      await api<{ status: string }>(`/jobs/${encodeURIComponent(job.job_id)}/cancel`, { method: 'POST' });
      toast(`Cancelled ${job.job_title}`);
    } catch (error) {
      reportError(error);
    } finally {
      setCancelling((old) => {
        const next = new Set(old);
        next.delete(job.job_id);
        return next;
      });
    }
  };
  const now = serverNow();

  const columns: Array<Column<WaitingJob>> = [
    {
      label: 'Job',
      class: 'col-title',
      cell: (j) => (
        <a href={jobHref(j.job_id)}>
          <Ellipsis text={j.job_title} />
        </a>
      ),
    },
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
    { label: 'Waiting since', class: 'col-time', cell: (j) => (j.since ? <span title={j.since}>{ago(now - Date.parse(j.since))}</span> : '—') },
    {
      label: '',
      class: 'col-actions',
      cell: (j) => (
        <button type="button" class="danger" data-testid="cancel" disabled={cancelling.has(j.job_id)} onClick={() => void cancel(j)}>
          {cancelling.has(j.job_id) ? 'Cancelling…' : 'Cancel'}
        </button>
      ),
    },
  ];

  return (
    <section class="waiting-section" data-testid="waiting-section">
      <div class="view-head">
        <h2>
          Waiting for children <span class="count">{rows.length}</span>
        </h2>
      </div>
      <Table
        columns={columns}
        rows={shown}
        rowKey={(j) => j.job_id}
        rowProps={(j) => ({ 'data-testid': 'waiting-row', 'data-job-id': j.job_id })}
        empty="No jobs waiting for children"
        caption="Jobs waiting for their child jobs"
      />
      {rows.length > PAGE ? (
        <Pager
          hasPrev={current > 0}
          hasNext={current < pages - 1}
          onPrev={() => setPage(current - 1)}
          onNext={() => setPage(current + 1)}
          label={`Page ${current + 1} of ${pages}`}
        />
      ) : null}
    </section>
  );
}
