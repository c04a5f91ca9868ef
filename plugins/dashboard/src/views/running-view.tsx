import { api, reportError } from '../api/api-client.js';
import type { EventJob } from '../api/server-event.js';
import type { JobView, LiveProgress } from '../api/types.js';
import { CancelButton } from '../components/cancel-button.js';
import { Ellipsis } from '../components/ellipsis.js';
import { JobTitleCell } from '../components/job-title-cell.js';
import { PagedTable, useRowsPage } from '../components/paged-table.js';
import { ProgressBar } from '../components/progress-bar.js';
import type { Column } from '../components/table.js';
import { TimeAgo } from '../components/time-ago.js';
import { useServerEvents } from '../events/use-server-events.js';
import { clip, fps, hms, speed } from '../format.js';
import { useObservable } from '../state/observable.js';
import { serverNow } from '../state/server-clock.js';
import { toast } from '../state/toast.js';
import { useBusyIds } from '../state/use-busy-ids.js';
import { useJobsInState } from '../state/use-jobs-in-state.js';
import { useTick } from '../state/use-tick.js';
import { workersStore } from '../state/workers-store.js';
import { WaitingSection } from './waiting-section.js';

/** A running job as this view keeps it: from `GET /jobs?state=running`, then from `job.*` events. */
type RunningJob = Pick<JobView, 'job_id' | 'job_title' | 'worker_id' | 'worker_hostname' | 'started_at' | 'cancel_requested' | 'live' | 'parent_id'>;

const PAGE = 100;
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
  const { jobs, put, drop } = useJobsInState<RunningJob>('running', (job) => job);
  const cancelling = useBusyIds();
  useObservable(workersStore.version); // progress and hostnames come from the workers
  useTick(); // "started 12 s ago"

  useServerEvents((event) => {
    const job = event.job;
    if (!job?.job_id || !jobs) return;
    if (event.type === 'job.started') {
      put(job.job_id, () => fromEvent(job));
    } else if (FINISHED.has(event.type) && jobs.has(job.job_id)) {
      drop(job.job_id);
    } else if (event.type === 'job.cancel_requested' && jobs.has(job.job_id)) {
      put(job.job_id, (old) => ({ ...old!, cancel_requested: true }));
    }
  });

  const rows = jobs ? [...jobs.values()].sort((a, b) => (a.started_at ?? '').localeCompare(b.started_at ?? '') || a.job_id.localeCompare(b.job_id)) : [];
  const page = useRowsPage(rows, PAGE);
  if (!jobs) return <p class="muted">Loading…</p>;

  const cancel = async (job: RunningJob) => {
    if (!confirm(`Cancel the running job "${clip(job.job_title)}"? Its worker stops it; it ends cancelled.`)) return;
    cancelling.add(job.job_id);
    try {
      const answer = await api<{ status: string }>(`/jobs/${encodeURIComponent(job.job_id)}/cancel`, { method: 'POST' });
      toast(answer.status === 'cancelled' ? `Cancelled ${job.job_title}` : `Cancel requested for ${job.job_title}`);
    } catch (error) {
      reportError(error);
      cancelling.remove(job.job_id);
    }
  };

  const live = (job: RunningJob): LiveProgress => {
    const worker = workersStore.runningJob(job.job_id);
    return worker ? { ...(worker.task ? { task: worker.task } : {}), ...(worker.progress !== undefined ? { progress: worker.progress } : {}), ...(worker.info ? { info: worker.info } : {}) } : job.live ?? {};
  };
  const hostname = (job: RunningJob) => (job.worker_id ? workersStore.get(job.worker_id)?.hostname : undefined) ?? job.worker_hostname ?? job.worker_id ?? '—';
  const now = serverNow();

  const columns: Array<Column<RunningJob>> = [
    { label: 'Job', class: 'col-title', cell: (j) => <JobTitleCell job={j} /> },
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
    { label: 'Started', class: 'col-time', cell: (j) => <TimeAgo at={j.started_at} now={now} /> },
    { label: '', class: 'col-actions', cell: (j) => <CancelButton busy={Boolean(j.cancel_requested) || cancelling.has(j.job_id)} onCancel={() => void cancel(j)} /> },
  ];

  return (
    <section>
      <div class="view-head">
        <h1>
          Running <span class="count">{rows.length}</span>
        </h1>
      </div>
      <PagedTable
        columns={columns}
        page={page}
        rowKey={(j) => j.job_id}
        rowProps={(j) => ({ 'data-testid': 'running-row', 'data-job-id': j.job_id })}
        empty="No running jobs"
        emptyTestId="empty"
        caption="Running jobs"
      />
      <WaitingSection />
    </section>
  );
}
