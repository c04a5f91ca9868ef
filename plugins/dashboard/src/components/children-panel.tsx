import { useEffect, useState } from 'preact/hooks';
import { api } from '../api/api-client.js';
import type { ChildView, ChildrenView, JobView } from '../api/types.js';
import { childRoles, childStates, type ChildRole } from '../flow-details.js';
import { time } from '../format.js';
import { failureMessage } from '../job-details.js';
import { workersStore } from '../state/workers-store.js';
import { Ellipsis } from './ellipsis.js';
import { JobLink } from './job-link.js';
import { ProgressBar } from './progress-bar.js';
import { StateBadge } from './state-badge.js';
import { Table, type Column } from './table.js';

const ROLE: Record<ChildRole, string> = { round: 'this round', earlier: 'earlier round', finally: 'finally job' };

/**
 * A child's progress: while it runs, its worker's latest heartbeat (live
 * between answers), else the server's last one, else unknown (an
 * indeterminate bar, as in the Running view); otherwise the server's (100
 * once completed, else 0).
 */
function progressOf(child: ChildView): number | undefined {
  if (child.state !== 'running') return child.progress;
  const worker = workersStore.runningJob(child.job_id);
  if (typeof worker?.progress === 'number') return worker.progress;
  return typeof child.live?.progress === 'number' ? child.progress : undefined;
}

function hostOf(child: ChildView): string {
  return child.worker_hostname ?? (child.worker_id ? workersStore.get(child.worker_id)?.hostname : undefined) ?? child.worker_id ?? '—';
}

/**
 * Why failed children failed: their own `reason` when the store set one,
 * else their result's message, read once per child (`GET /jobs/{id}`: a
 * child view carries no result record).
 */
function useFailureReasons(answer: ChildrenView | undefined): Map<string, string> {
  const [reasons, setReasons] = useState<Map<string, string>>(new Map());
  const ask = (answer?.children ?? []).filter((c) => c.state === 'failed' && !c.reason && !reasons.has(c.job_id)).map((c) => c.job_id);
  const key = ask.join(' ');
  useEffect(() => {
    if (!ask.length) return;
    let live = true;
    void Promise.all(
      ask.map(async (id) => {
        try {
          return [id, failureMessage(await api<JobView>(`/jobs/${encodeURIComponent(id)}`)) ?? 'failed'] as const;
        } catch {
          return [id, 'failed'] as const;
        }
      }),
    ).then((found) => {
      if (live) setReasons((old) => new Map([...old, ...found]));
    });
    return () => {
      live = false;
    };
  }, [key]);
  return reasons;
}

/**
 * The children of a job that fanned out (`GET /jobs/{id}/children`,
 * kept current by a {@link ChildrenWatch}): the children's total progress
 * (weighted) and states, then each child of the current round with its
 * state, worker host, progress, weight, the reason of a failure or cancel,
 * and a link to its page; under "All child jobs", every child ever (earlier
 * rounds and the finally job too).
 */
export function ChildrenPanel({ answer, job }: { answer: ChildrenView | undefined; job: JobView }) {
  const reasons = useFailureReasons(answer);
  const waiting =
    job.state === 'waiting-children' && job.flow ? (
      <p class="children-waiting" data-testid="children-waiting">
        Waiting for {job.flow.pending} of {job.flow.children} child jobs: task {job.flow.task_index + 1} resumes, on any worker, once they have all completed.
      </p>
    ) : null;
  if (!answer) {
    return (
      <div class="panel" data-testid="job-children">
        <h2>Children</h2>
        {waiting}
        <p class="muted">Loading…</p>
      </div>
    );
  }
  const total = answer.flow?.children ?? answer.children.length;
  const roles = childRoles(answer);
  const others = answer.all.filter((c) => roles.get(c.job_id) !== 'round').length;
  const round: Array<Column<ChildView>> = [
    { label: '#', class: 'col-narrow', cell: (_, i) => i + 1 },
    {
      label: 'Child',
      class: 'col-title',
      cell: (child) => {
        const reason = child.reason ?? (child.state === 'failed' ? reasons.get(child.job_id) : undefined);
        return (
          <>
            <JobLink id={child.job_id} title={child.job_title} testId="child-link" />
            {reason && (child.state === 'failed' || child.state === 'cancelled') ? (
              <span class={`sub child-reason child-reason-${child.state}`} data-testid="child-reason">
                {reason}
              </span>
            ) : null}
          </>
        );
      },
    },
    { label: 'State', class: 'col-status', cell: (child) => <StateBadge state={child.state} testId="child-state" /> },
    {
      label: 'Worker',
      class: 'col-worker',
      cell: (child) => (
        <span data-testid="child-worker">
          <Ellipsis text={hostOf(child)} />
        </span>
      ),
    },
    { label: 'Progress', class: 'col-progress', cell: (child) => <ProgressBar value={progressOf(child)} label={`Progress of ${child.job_title}`} /> },
    { label: 'Weight', class: 'col-num', testId: 'child-weight', cell: (child) => child.weight },
  ];
  const all: Array<Column<ChildrenView['all'][number]>> = [
    { label: 'Role', class: 'col-status', cell: (child) => ROLE[roles.get(child.job_id) ?? 'earlier'] },
    {
      label: 'Child',
      class: 'col-title',
      cell: (child) => (
        <>
          <JobLink id={child.job_id} title={child.job_title} />
          {child.reason ? <span class="sub">{child.reason}</span> : null}
        </>
      ),
    },
    { label: 'State', class: 'col-status', cell: (child) => <StateBadge state={child.state} /> },
    { label: 'Finished', class: 'col-datetime', cell: (child) => time(child.finished_at) },
  ];
  return (
    <div class="panel" data-testid="job-children">
      <h2>
        Children {answer.flow ? <span class="muted">(round {answer.flow.round})</span> : null}
      </h2>
      {waiting}
      <div class="live-row children-total">
        <div class="children-progress" data-testid="children-progress">
          <ProgressBar value={answer.progress} label="Progress of the job: its children's, weighted" />
        </div>
        <span data-testid="children-states">{childStates(answer.states, total)}</span>
      </div>
      <Table
        columns={round}
        rows={answer.children}
        rowKey={(child) => child.job_id}
        rowProps={(child) => ({ 'data-testid': 'child-row', 'data-job-id': child.job_id })}
        empty="No children in this round"
        caption="Child jobs of this round"
        testId="children-table"
      />
      {answer.all.length ? (
        <details class="children-all" data-testid="children-all">
          <summary>
            All child jobs ({answer.all.length}){others ? `: ${others} from earlier rounds or the finally job` : ''}
          </summary>
          <Table
            columns={all}
            rows={answer.all}
            rowKey={(child) => child.job_id}
            rowProps={(child) => ({ 'data-testid': 'children-all-row', 'data-job-id': child.job_id, 'data-role': roles.get(child.job_id) })}
            empty="No child jobs"
            caption="Every child job, in the order they were queued"
          />
        </details>
      ) : null}
    </div>
  );
}
