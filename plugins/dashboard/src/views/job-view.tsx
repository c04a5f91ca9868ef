import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api, reportError } from '../api/api-client.js';
import type { JobView as Job, Phase, TaskRecord } from '../api/types.js';
import { ChildrenPanel } from '../components/children-panel.js';
import { JsonView } from '../components/json-view.js';
import { ProgressBar } from '../components/progress-bar.js';
import { StateBadge } from '../components/state-badge.js';
import { useGeneration, useServerEvents } from '../events/use-server-events.js';
import { fps, hms, ms, runtime, speed, time } from '../format.js';
import { failureMessage, jobDocument, stderrTail } from '../job-details.js';
import { jobHref } from '../router.js';
import { useObservable } from '../state/observable.js';
import { toast } from '../state/toast.js';
import { useChildren } from '../state/use-children.js';
import { useCoalesced } from '../state/use-coalesced.js';
import { workersStore } from '../state/workers-store.js';

const PHASES: Phase[] = ['init', 'validate', 'run', 'cleanup'];

/**
 * One job: its state, document (rendered JSON), each task's phases and
 * durations, the result record, and for failures the message and stderr
 * tail; retry (failed or cancelled, not yet retried) and cancel. A job
 * that fanned out lists its children ({@link ChildrenPanel}); a child links
 * to its parent. What it requires of its worker is listed, and a queued job
 * no live worker can run says so.
 */
export function JobView({ jobId }: { jobId: string }) {
  const [job, setJob] = useState<Job | undefined>();
  const [missing, setMissing] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const seq = useRef(0);
  const generation = useGeneration();
  useObservable(workersStore.version);

  const load = async () => {
    const mine = ++seq.current;
    try {
      const next = await api<Job>(`/jobs/${encodeURIComponent(jobId)}`);
      if (mine === seq.current) {
        setJob(next);
        setMissing(undefined);
      }
    } catch (error) {
      if (mine !== seq.current) return;
      if (error instanceof ApiError && error.status === 404) setMissing(error.message);
      else reportError(error);
    }
  };
  const reload = useCoalesced(() => void load(), 1000);
  useEffect(() => void load(), [generation]);
  // A queued job with requirements: who can run it changes with the workers online.
  const routed = Boolean(job?.eligibility && job.state === 'queued');
  useEffect(() => (routed ? workersStore.presence.subscribe(() => reload()) : undefined), [routed]);
  useServerEvents((event) => {
    if (event.job?.job_id === jobId || (event.type === 'job.retried' && event.job?.retry_of === jobId)) reload();
  });
  // A job that fanned out: its children, live (the hook is called whatever the job, as hooks must be).
  const fannedOut = Boolean(job && (job.flow || job.state === 'waiting-children'));
  const children = useChildren(fannedOut ? [jobId] : []);

  if (missing) {
    return (
      <section>
        <h1>Job {jobId}</h1>
        <p class="error-text">{missing}</p>
      </section>
    );
  }
  if (!job) return <p class="muted">Loading…</p>;

  const retry = async () => {
    setBusy(true);
    try {
      const answer = await api<{ job_id: string }>(`/jobs/${encodeURIComponent(job.job_id)}/retry`, { method: 'POST' });
      setJob({ ...job, retried_as: answer.job_id });
      toast(`Retried as ${answer.job_id}`);
      reload();
    } catch (error) {
      reportError(error);
    } finally {
      setBusy(false);
    }
  };
  const cancel = async () => {
    const what =
      job.state === 'running'
        ? 'Cancel this running job? Its worker stops it; it ends cancelled.'
        : job.state === 'waiting-children'
          ? 'Cancel this job and its child jobs? Running children are stopped; it ends cancelled.'
          : 'Cancel this queued job? It leaves the queue, cancelled.';
    if (!confirm(what)) return;
    setBusy(true);
    try {
      const answer = await api<{ status: string }>(`/jobs/${encodeURIComponent(job.job_id)}/cancel`, { method: 'POST' });
      toast(answer.status === 'cancelled' ? 'Job cancelled' : 'Cancel requested');
      reload();
    } catch (error) {
      reportError(error);
    } finally {
      setBusy(false);
    }
  };

  const finished = job.state === 'failed' || job.state === 'cancelled';
  const message = finished ? failureMessage(job) : undefined;
  const tail = finished ? stderrTail(job.result) : undefined;
  const worker = job.state === 'running' ? workersStore.runningJob(job.job_id) : undefined;
  const live = worker ?? job.live;
  const flow = fannedOut ? children.get(jobId) : undefined;
  const waitResult = job.result?.waiting_children !== undefined;
  const tasks: TaskRecord[] = job.result?.tasks ?? (job.tasks ?? []).map((t, index) => ({ index, module: t.module, status: job.state === 'queued' ? 'pending' : '—', durations: {} }));

  return (
    <section>
      <div class="view-head">
        <h1 class="job-heading">
          <span class="job-title" data-testid="job-title">
            {job.job_title}
          </span>
          <StateBadge state={job.state} testId="job-state" />
          {job.cancel_requested && job.state === 'running' ? <span class="badge badge-cancelled">cancel requested</span> : null}
        </h1>
        <div class="actions">
          {finished && !job.retried_as && !job.parent_id ? (
            <button type="button" class="primary" data-testid="retry" disabled={busy} onClick={() => void retry()}>
              Retry
            </button>
          ) : null}
          {(job.state === 'queued' || job.state === 'running' || job.state === 'waiting-children') && !job.cancel_requested ? (
            <button type="button" class="danger" data-testid="cancel" disabled={busy} onClick={() => void cancel()}>
              Cancel
            </button>
          ) : null}
        </div>
      </div>

      <dl class="facts">
        <dt>Id</dt>
        <dd class="mono">{job.job_id}</dd>
        <dt>Added</dt>
        <dd>{time(job.added)}</dd>
        <dt>Started</dt>
        <dd>{time(job.started_at)}</dd>
        <dt>Finished</dt>
        <dd>{time(job.finished_at)}</dd>
        <dt>Priority</dt>
        <dd>{job.priority}</dd>
        <dt>Attempts</dt>
        <dd>{job.attempts}</dd>
        <dt>Worker</dt>
        <dd>{job.worker_hostname ?? job.result?.worker ?? job.worker_id ?? '—'}</dd>
        {job.parent_id ? (
          <>
            <dt>Parent</dt>
            <dd>
              <a href={jobHref(job.parent_id)} data-testid="parent-link">
                {job.parent_id}
              </a>
            </dd>
          </>
        ) : null}
        {job.retried_as ? (
          <>
            <dt>Retried as</dt>
            <dd>
              <a href={jobHref(job.retried_as)} data-testid="retry-link">
                {job.retried_as}
              </a>
            </dd>
          </>
        ) : null}
        {job.retry_of ? (
          <>
            <dt>Retry of</dt>
            <dd>
              <a href={jobHref(job.retry_of)} data-testid={job.retried_as ? 'retry-of-link' : 'retry-link'}>
                {job.retry_of}
              </a>
            </dd>
          </>
        ) : null}
        {job.requirements?.length ? (
          <>
            <dt class="facts-row">Requires</dt>
            <dd class="facts-rest" data-testid="job-requirements">
              {job.requirements.map((r) => (
                <span key={r} class="chip" data-testid="job-requirement">
                  {r}
                </span>
              ))}
            </dd>
          </>
        ) : null}
      </dl>

      {job.state === 'queued' && job.eligibility?.eligible_workers === 0 ? (
        <p class="notice eligibility-notice" data-testid="job-eligibility">
          {job.eligibility.message ?? 'no eligible worker'}. It stays queued and runs as soon as a worker that has it polls.
        </p>
      ) : null}

      {job.state === 'running' ? (
        <div class="panel live-panel">
          <h2>Progress</h2>
          <div class="live-row">
            <ProgressBar value={live?.progress} label="Progress of the running task" />
            <span>Task: {live?.task ?? '—'}</span>
            <span>FPS: {fps(live?.info?.fps)}</span>
            <span>Speed: {speed(live?.info?.speed)}</span>
            <span>ETA: {hms(live?.info?.eta)}</span>
          </div>
        </div>
      ) : null}

      {message ? (
        <div class="panel panel-error">
          <h2>{job.state === 'failed' ? 'Failure' : 'Cancelled'}</h2>
          <p class="error-message" data-testid="job-error">
            {message}
          </p>
          {tail ? (
            <>
              <h3>stderr (last lines)</h3>
              <pre class="stderr" data-testid="job-stderr">
                {tail}
              </pre>
            </>
          ) : null}
        </div>
      ) : null}

      {fannedOut ? <ChildrenPanel answer={flow} job={job} /> : null}

      <div class="panel">
        <h2>Tasks</h2>
        <div class="table-wrap">
          <table class="table" data-testid="job-tasks">
            <thead>
              <tr>
                <th class="col-narrow">#</th>
                <th>Module</th>
                <th>Status</th>
                {PHASES.map((p) => (
                  <th key={p} class="col-num">
                    {p}
                  </th>
                ))}
                <th class="col-num">total</th>
                <th>Error</th>
              </tr>
            </thead>
            <tbody>
              {tasks.map((t) => {
                const durations = t.durations;
                const total = PHASES.reduce((sum, p) => sum + (durations[p] ?? 0), 0);
                const error = t.error;
                return (
                  <tr key={t.index} data-testid="job-task">
                    {/* 1-based, as the CLI and the worker logs count tasks (the record's index is 0-based). */}
                    <td class="col-narrow">{t.index + 1}</td>
                    <td>{t.module}</td>
                    <td>
                      <StateBadge
                        state={
                          t.waiting && waitResult
                            ? // The task that waited: waiting, or how the job ended while it waited (a child failed, a cancel).
                              job.state
                            : live?.task === t.module && job.state === 'running' && !job.result
                              ? 'running'
                              : t.status
                        }
                      />
                    </td>
                    {PHASES.map((p) => (
                      <td key={p} class="col-num">
                        {durations[p] !== undefined ? ms(durations[p]) : '—'}
                      </td>
                    ))}
                    <td class="col-num">{total ? ms(total) : '—'}</td>
                    <td class="col-error">{error ? <span title={error.message}>{`${error.phase}: ${error.code}`}</span> : null}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      </div>

      <div class="panel">
        <h2>Document</h2>
        <JsonView value={jobDocument(job)} testId="job-document" />
      </div>

      {job.result ? (
        <div class="panel" data-testid="job-result">
          <h2>Result</h2>
          <p class="result-summary">
            {waitResult
              ? `Handed ${job.flow?.children ?? 'its'} child jobs to the server after ${runtime(job.result.runtime)} on ${job.result.worker} (core ${job.result.version})`
              : `${job.result.completed ? 'Completed' : job.result.cancelled ? 'Cancelled' : 'Failed'} in ${runtime(job.result.runtime)} on ${job.result.worker} (core ${job.result.version})${job.flow ? `: its run after waiting for ${job.flow.children} child jobs` : ''}`}
          </p>
          <details>
            <summary>Result record</summary>
            <JsonView value={job.result} />
          </details>
        </div>
      ) : null}
    </section>
  );
}
