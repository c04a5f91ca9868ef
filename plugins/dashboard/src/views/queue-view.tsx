import { useEffect, useRef, useState } from 'preact/hooks';
import { api, reportError } from '../api/api-client.js';
import type { JobPage, JobView } from '../api/types.js';
import { Ellipsis } from '../components/ellipsis.js';
import { JobTitleCell } from '../components/job-title-cell.js';
import { Pager } from '../components/pager.js';
import { QueueState, QueueToggle } from '../components/queue-toggle.js';
import { Table, type Column } from '../components/table.js';
import { useGeneration, useServerEvents } from '../events/use-server-events.js';
import { clip, time } from '../format.js';
import { toast } from '../state/toast.js';
import { useCoalesced } from '../state/use-coalesced.js';
import { workersStore } from '../state/workers-store.js';

const LIMIT = 50;
/** Events after which the page is read again (the order may have changed). */
const REORDERS = new Set(['job.submitted', 'job.requeued', 'job.resumed', 'job.priority', 'job.retried', 'job.started', 'job.removed', 'job.cancelled', 'queue.cleared']);
/** Events after which a job has left the queue. */
const LEAVES = new Set(['job.started', 'job.removed', 'job.cancelled']);

/**
 * The queue in order (`GET /jobs?state=queued`, 50 a page, server-side
 * cursors): change a job's priority, remove it, pause or resume the queue.
 * A job no live worker can run says why ("no eligible worker: needs tag
 * gpu"); while the page shows jobs with requirements it is read again when
 * workers come or go.
 */
export function QueueView() {
  const [page, setPage] = useState<JobPage | undefined>();
  const [cursors, setCursors] = useState<string[]>([]); // the cursor of each page before the current one ('' = first)
  const [cursor, setCursor] = useState<string | undefined>();
  const [paused, setPaused] = useState<boolean | undefined>();
  const [total, setTotal] = useState<number | undefined>();
  const [edits, setEdits] = useState<Record<string, string>>({});
  const seq = useRef(0);
  const generation = useGeneration();

  const load = async () => {
    const mine = ++seq.current;
    try {
      const [jobs, queue] = await Promise.all([
        api<JobPage>(`/jobs?state=queued&limit=${LIMIT}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`),
        api<{ entries?: number; attributes?: { disabled?: boolean } }>('/queue?limit=1'),
      ]);
      if (mine !== seq.current) return;
      setPage(jobs);
      setPaused(Boolean(queue.attributes?.disabled));
      if (typeof queue.entries === 'number') setTotal(queue.entries);
    } catch (error) {
      if (mine === seq.current) reportError(error);
    }
  };
  const reload = useCoalesced(() => void load(), 1000);
  useEffect(() => void load(), [generation, cursor]);
  // Who can run a job changes with the workers online.
  const routed = Boolean(page?.jobs.some((j) => j.eligibility));
  useEffect(() => (routed ? workersStore.presence.subscribe(() => reload()) : undefined), [routed]);

  useServerEvents((event) => {
    if (event.type === 'queue.attributes') setPaused(Boolean(event.attributes?.disabled));
    if (!REORDERS.has(event.type)) return;
    const id = event.job?.job_id;
    if (id && LEAVES.has(event.type) && page?.jobs.some((j) => j.job_id === id)) {
      setPage((old) => old && { ...old, jobs: old.jobs.filter((j) => j.job_id !== id) });
    }
    reload();
  });

  const savePriority = async (job: JobView) => {
    const text = edits[job.job_id] ?? String(job.priority);
    const priority = Number(text);
    if (!Number.isInteger(priority)) {
      toast(`Priority must be a whole number, not "${text}"`, 'error');
      return;
    }
    try {
      const updated = await api<JobView>(`/jobs/${encodeURIComponent(job.job_id)}`, { method: 'PATCH', body: { priority } });
      setEdits(({ [job.job_id]: _, ...rest }) => rest);
      setPage((old) => old && { ...old, jobs: old.jobs.map((j) => (j.job_id === job.job_id ? { ...j, priority: updated?.priority ?? priority } : j)) });
      toast(`Priority of ${job.job_title} set to ${priority}`);
      reload();
    } catch (error) {
      reportError(error);
    }
  };

  const remove = async (job: JobView) => {
    if (!confirm(`Remove "${clip(job.job_title)}" from the queue? It is deleted, not kept in the history.`)) return;
    try {
      await api(`/jobs/${encodeURIComponent(job.job_id)}`, { method: 'DELETE' });
      setPage((old) => old && { ...old, jobs: old.jobs.filter((j) => j.job_id !== job.job_id) });
      toast(`Removed ${job.job_title}`);
      reload();
    } catch (error) {
      reportError(error);
    }
  };

  const offset = cursors.length * LIMIT;
  const columns: Array<Column<JobView>> = [
    { label: '#', class: 'col-num col-narrow', cell: (j) => offset + (page?.jobs.indexOf(j) ?? 0) + 1 },
    {
      label: 'Job',
      class: 'col-title',
      cell: (j) => (
        <>
          <JobTitleCell job={j} />
          {j.eligibility?.eligible_workers === 0 ? (
            <span class="sub no-eligible" data-testid="no-eligible" title={j.requirements?.join(' ')}>
              {j.eligibility.message ?? 'no eligible worker'}
            </span>
          ) : null}
        </>
      ),
    },
    { label: 'Tasks', class: 'col-task', cell: (j) => <Ellipsis text={(j.tasks ?? []).map((t) => t.module).join(' → ') || '—'} /> },
    { label: 'Added', class: 'col-datetime', cell: (j) => time(j.added) },
    { label: 'Attempts', class: 'col-num col-attempts', cell: (j) => j.attempts },
    {
      label: 'Priority',
      class: 'col-priority',
      cell: (j) => (
        <form
          class="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            void savePriority(j);
          }}
        >
          <input
            type="number"
            step={1}
            class="priority-input"
            data-testid="priority-input"
            aria-label={`Priority of ${j.job_title}`}
            value={edits[j.job_id] ?? String(j.priority)}
            onInput={(e) => {
              const value = e.currentTarget.value;
              setEdits((old) => ({ ...old, [j.job_id]: value }));
            }}
          />
          <button type="submit" data-testid="priority-save" disabled={edits[j.job_id] === undefined || edits[j.job_id] === String(j.priority)}>
            Save
          </button>
        </form>
      ),
    },
    {
      label: '',
      class: 'col-actions',
      cell: (j) => (
        <button
          type="button"
          class="danger"
          data-testid="remove"
          disabled={Boolean(j.parent_id)}
          {...(j.parent_id ? { title: 'A child job stays with its parent: cancel the parent instead' } : {})}
          onClick={() => void remove(j)}
        >
          Remove
        </button>
      ),
    },
  ];

  return (
    <section>
      <div class="view-head">
        <h1>
          Queue {total !== undefined ? <span class="count">{total}</span> : null}
        </h1>
        <div class="actions">
          {paused !== undefined ? (
            <>
              <QueueState disabled={paused} />
              <QueueToggle disabled={paused} onChange={setPaused} />
            </>
          ) : null}
        </div>
      </div>
      {paused ? <p class="notice">The queue is paused: workers get no new jobs until it is resumed.</p> : null}
      {page ? (
        <>
          <Table
            columns={columns}
            rows={page.jobs}
            rowKey={(j) => j.job_id}
            rowProps={(j) => ({ 'data-testid': 'queue-row', 'data-job-id': j.job_id })}
            empty={cursors.length ? 'No more queued jobs' : 'The queue is empty'}
            caption="Queued jobs"
          />
          <Pager
            hasPrev={cursors.length > 0}
            hasNext={Boolean(page.next)}
            onPrev={() => {
              const prev = cursors[cursors.length - 1];
              setCursors(cursors.slice(0, -1));
              setCursor(prev || undefined);
            }}
            onNext={() => {
              setCursors([...cursors, cursor ?? '']);
              setCursor(page.next);
            }}
            label={page.jobs.length ? `${offset + 1}–${offset + page.jobs.length}${total !== undefined ? ` of ${total}` : ''}` : ''}
          />
        </>
      ) : (
        <p class="muted">Loading…</p>
      )}
    </section>
  );
}
