import { useEffect, useRef, useState } from 'preact/hooks';
import { api, reportError } from '../api/api-client.js';
import type { EventJob } from '../api/server-event.js';
import type { JobPage, JobView, LiveProgress } from '../api/types.js';
import { Ellipsis } from '../components/ellipsis.js';
import { Pager } from '../components/pager.js';
import { ProgressBar } from '../components/progress-bar.js';
import { Table, type Column } from '../components/table.js';
import { useGeneration, useServerEvents } from '../events/use-server-events.js';
import { ago, clip, fps, hms, speed } from '../format.js';
import { jobHref } from '../router.js';
import { useObservable } from '../state/observable.js';
import { serverNow } from '../state/server-clock.js';
import { toast } from '../state/toast.js';
import { useTick } from '../state/use-tick.js';
import { workersStore } from '../state/workers-store.js';
import { WaitingSection } from './waiting-section.js';

/** A running job as this view keeps it: from `GET /jobs?state=running`, then from `job.*` events. */
type RunningJob = Pick<JobView, 'job_id' | 'job_title' | 'worker_id' | 'worker_hostname' | 'started_at' | 'cancel_requested' | 'live' | 'parent_id'>;

const PAGE = 100;
/** Running jobs fetched per request of the snapshot. */
const FETCH = 500;
/** Events after which a job no longer runs (`job.waiting_children`: it handed over child jobs and holds no worker). */
const FINISHED = new Set(['job.completed', 'job.failed', 'job.cancelled', 'job.requeued', 'job.removed', 'job.waiting_children']);

function fromEvent(job: EventJob): RunningJob {
  return {
    job_id: job.job_id,
    job_title: job.job_title ?? job.job_id,
    ...(job.worker_id ? { worker_id: job.worker_id } : {}),
    ...(job.started_at ? { started_at: job.started_at } : {}),
    ...(job.cancel_requested ? { cancel_requested: true } : {}),
    ...(job.parent_id ? { parent_id: job.parent_id } : {}),
  };
}

/**
 * Every running job with its worker's latest progress: a progress bar
 * (indeterminate while the percent is unknown), fps, speed, ETA, the task
 * and cancel. Progress comes from the workers' heartbeats (`worker.heartbeat`).
 * A child job links to its parent; below, the jobs waiting for their
 * children ({@link WaitingSection}).
 */
export function RunningView() {
  const [jobs, setJobs] = useState<Map<string, RunningJob> | undefined>();
  const [page, setPage] = useState(0);
  const [cancelling, setCancelling] = useState<Set<string>>(new Set());
  const seq = useRef(0);
  const generation = useGeneration();
  useObservable(workersStore.version); // progress and hostnames come from the workers
  useTick(); // "started 12 s ago"

  const load = async () => {
    const mine = ++seq.current;
    try {
      const all: RunningJob[] = [];
      let cursor: string | undefined;
      do {
        const page: JobPage = await api<JobPage>(`/jobs?state=running&limit=${FETCH}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        all.push(...page.jobs);
        cursor = page.next;
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
    if (event.type === 'job.started') {
      setJobs((old) => new Map(old).set(job.job_id, fromEvent(job)));
    } else if (FINISHED.has(event.type) && jobs.has(job.job_id)) {
      setJobs((old) => {
        const next = new Map(old);
        next.delete(job.job_id);
        return next;
      });
    } else if (event.type === 'job.cancel_requested' && jobs.has(job.job_id)) {
      setJobs((old) => new Map(old).set(job.job_id, { ...old!.get(job.job_id)!, cancel_requested: true }));
    }
  });

  if (!jobs) return <p class="muted">Loading…</p>;
  const rows = [...jobs.values()].sort((a, b) => (a.started_at ?? '').localeCompare(b.started_at ?? '') || a.job_id.localeCompare(b.job_id));
  const pages = Math.max(1, Math.ceil(rows.length / PAGE));
  const current = Math.min(page, pages - 1);
  const shown = rows.slice(current * PAGE, (current + 1) * PAGE);

  const cancel = async (job: RunningJob) => {
    if (!confirm(`Cancel the running job "${clip(job.job_title)}"? Its worker stops it; it ends cancelled.`)) return;
    setCancelling((old) => new Set(old).add(job.job_id));
    try {
      const answer = await api<{ status: string }>(`/jobs/${encodeURIComponent(job.job_id)}/cancel`, { method: 'POST' });
      toast(answer.status === 'cancelled' ? `Cancelled ${job.job_title}` : `Cancel requested for ${job.job_title}`);
    } catch (error) {
      reportError(error);
      setCancelling((old) => {
        const next = new Set(old);
        next.delete(job.job_id);
        return next;
      });
    }
  };

  const live = (job: RunningJob): LiveProgress => {
    const worker = workersStore.runningJob(job.job_id);
    return worker ? { ...(worker.task ? { task: worker.task } : {}), ...(worker.progress !== undefined ? { progress: worker.progress } : {}), ...(worker.info ? { info: worker.info } : {}) } : job.live ?? {};
  };
  const hostname = (job: RunningJob) => (job.worker_id ? workersStore.get(job.worker_id)?.hostname : undefined) ?? job.worker_hostname ?? job.worker_id ?? '—';
  const now = serverNow();

  const columns: Array<Column<RunningJob>> = [
    {
      label: 'Job',
      class: 'col-title',
      cell: (j) => (
        <>
          <a href={jobHref(j.job_id)}>
            <Ellipsis text={j.job_title} />
          </a>
          {j.parent_id ? (
            <a class="sub" href={jobHref(j.parent_id)} data-testid="parent-link" title={`A child job of ${j.parent_id}`}>
              ↑ parent job
            </a>
          ) : null}
        </>
      ),
    },
    { label: 'Task', class: 'col-task', cell: (j) => <span data-testid="task">{live(j).task ?? '—'}</span> },
    { label: 'Progress', class: 'col-progress', cell: (j) => <ProgressBar value={live(j).progress} label={`Progress of ${j.job_title}`} /> },
    { label: 'FPS', class: 'col-num', cell: (j) => <span data-testid="fps">{fps(live(j).info?.fps)}</span> },
    { label: 'Speed', class: 'col-num', cell: (j) => <span data-testid="speed">{speed(live(j).info?.speed)}</span> },
    { label: 'ETA', class: 'col-num', cell: (j) => <span data-testid="eta">{hms(live(j).info?.eta)}</span> },
    {
      label: 'Worker',
      class: 'col-worker',
      cell: (j) => (
        <span data-testid="worker">
          <Ellipsis text={hostname(j)} />
        </span>
      ),
    },
    { label: 'Started', class: 'col-time', cell: (j) => (j.started_at ? <span title={j.started_at}>{ago(now - Date.parse(j.started_at))}</span> : '—') },
    {
      label: '',
      class: 'col-actions',
      cell: (j) => (
        <button type="button" class="danger" data-testid="cancel" disabled={j.cancel_requested || cancelling.has(j.job_id)} onClick={() => void cancel(j)}>
          {j.cancel_requested || cancelling.has(j.job_id) ? 'Cancelling…' : 'Cancel'}
        </button>
      ),
    },
  ];

  return (
    <section>
      <div class="view-head">
        <h1>
          Running <span class="count">{rows.length}</span>
        </h1>
      </div>
      <Table
        columns={columns}
        rows={shown}
        rowKey={(j) => j.job_id}
        rowProps={(j) => ({ 'data-testid': 'running-row', 'data-job-id': j.job_id })}
        empty="No running jobs"
        emptyTestId="empty"
        caption="Running jobs"
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
      <WaitingSection />
    </section>
  );
}
