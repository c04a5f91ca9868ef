import { useEffect, useRef, useState } from 'preact/hooks';
import { api, reportError } from '../api/api-client.js';
import type { JobPage, JobView } from '../api/types.js';
import { Ellipsis } from '../components/ellipsis.js';
import { Pager } from '../components/pager.js';
import { StateBadge } from '../components/state-badge.js';
import { Table, type Column } from '../components/table.js';
import { useGeneration, useServerEvents } from '../events/use-server-events.js';
import { localInputToIso, runtime, time } from '../format.js';
import { jobHref } from '../router.js';
import { toast } from '../state/toast.js';
import { useCoalesced } from '../state/use-coalesced.js';

const LIMIT = 50;
/** Events after which the listing may change: a job finished, was retried (retried_as) or removed. */
const CHANGES_HISTORY = new Set(['job.completed', 'job.failed', 'job.cancelled', 'job.retried', 'job.removed']);

/** The filter as typed in the form. */
interface FilterForm {
  state: '' | 'completed' | 'failed' | 'cancelled';
  title: string;
  worker: string;
  since: string;
  until: string;
}

const EMPTY: FilterForm = { state: '', title: '', worker: '', since: '', until: '' };

/** The filter's fields but the state, as the API takes them (`GET /jobs` query, `POST /jobs/retry` body). */
function apiFilter(form: FilterForm): Record<string, string> {
  const since = localInputToIso(form.since);
  const until = localInputToIso(form.until);
  return {
    ...(form.title.trim() ? { title: form.title.trim() } : {}),
    ...(form.worker.trim() ? { worker: form.worker.trim() } : {}),
    ...(since ? { since } : {}),
    ...(until ? { until } : {}),
  };
}

/**
 * Why "Retry all failed" has nothing to do for the applied filter (its
 * tooltip), or `undefined` while it may find failed jobs: the state filter
 * excludes failed jobs, or the listing, seen whole on one page, has no
 * failed job that is not retried yet.
 */
function retryAllBlocked(applied: FilterForm, page: JobPage | undefined, paged: boolean): string | undefined {
  if (applied.state === 'completed' || applied.state === 'cancelled') return `The state filter (${applied.state}) excludes failed jobs`;
  if (!page || paged || page.next) return undefined;
  if (!page.jobs.some((j) => j.state === 'failed')) return 'No failed jobs match the filter';
  if (!page.jobs.some((j) => j.state === 'failed' && !j.retried_as)) return 'Every failed job that matches the filter has been retried';
  return undefined;
}

/**
 * Jobs newest first with server-side filters (state, title, worker, time
 * range) and cursor paging (a stack of cursors for "previous"); "Retry all
 * failed" retries every failed job the filter selects.
 */
export function HistoryView() {
  const [form, setForm] = useState<FilterForm>(EMPTY);
  const [applied, setApplied] = useState<FilterForm>(EMPTY);
  const [cursors, setCursors] = useState<string[]>([]);
  const [cursor, setCursor] = useState<string | undefined>();
  const [page, setPage] = useState<JobPage | undefined>();
  const [retrying, setRetrying] = useState(false);
  const seq = useRef(0);
  const generation = useGeneration();

  const load = async () => {
    const mine = ++seq.current;
    // "all" is the history: finished jobs only (completed, failed, cancelled), not the queue or what runs.
    const query = new URLSearchParams({ state: applied.state || 'finished', ...apiFilter(applied), limit: String(LIMIT), ...(cursor ? { cursor } : {}) });
    try {
      const next = await api<JobPage>(`/jobs?${query}`);
      if (mine === seq.current) setPage(next);
    } catch (error) {
      if (mine === seq.current) reportError(error);
    }
  };
  const reload = useCoalesced(() => void load(), 1000);
  useEffect(() => void load(), [generation, applied, cursor]);

  useServerEvents((event) => {
    const id = event.job?.job_id;
    // Only finished jobs are listed: what is submitted, starts or moves in the queue changes nothing here.
    if (!id || !CHANGES_HISTORY.has(event.type)) return;
    // The first page shows what just finished; other pages only change when one of their jobs does.
    if (!cursor || page?.jobs.some((j) => j.job_id === id)) reload();
  });

  const apply = (next: FilterForm) => {
    setApplied(next);
    setCursors([]);
    setCursor(undefined);
  };

  const retryAllFailed = async () => {
    const filter = apiFilter(applied);
    const what = Object.keys(filter).length ? 'every failed job that matches the filter' : 'every failed job';
    if (!confirm(`Retry ${what}? Each one is queued again as a new job.`)) return;
    setRetrying(true);
    try {
      const answer = await api<{ count: number; skipped?: number }>('/jobs/retry', { method: 'POST', body: { state: 'failed', ...filter } });
      const skipped = answer.skipped ? ` (${answer.skipped} already retried)` : '';
      toast(`Retried ${answer.count} failed job${answer.count === 1 ? '' : 's'}${skipped}`);
      reload();
    } catch (error) {
      reportError(error);
    } finally {
      setRetrying(false);
    }
  };

  const noRetry = retryAllBlocked(applied, page, Boolean(cursor));
  const set = (field: keyof FilterForm) => (e: { currentTarget: HTMLInputElement | HTMLSelectElement }) => setForm({ ...form, [field]: e.currentTarget.value });
  const offset = cursors.length * LIMIT;

  const columns: Array<Column<JobView>> = [
    { label: 'State', class: 'col-status', cell: (j) => <StateBadge state={j.state} /> },
    {
      label: 'Job',
      class: 'col-title',
      cell: (j) => (
        <a href={jobHref(j.job_id)}>
          <Ellipsis text={j.job_title} />
        </a>
      ),
    },
    { label: 'Worker', class: 'col-worker', cell: (j) => <Ellipsis text={j.worker_hostname ?? j.result?.worker ?? j.worker_id ?? '—'} /> },
    { label: 'Finished', class: 'col-datetime', cell: (j) => time(j.finished_at) },
    { label: 'Runtime', class: 'col-num', cell: (j) => runtime(j.result?.runtime) },
    { label: 'Attempts', class: 'col-num col-attempts', cell: (j) => j.attempts },
    {
      label: 'Retry',
      class: 'col-retry',
      cell: (j) =>
        j.retried_as ? (
          <a href={jobHref(j.retried_as)} title={`Retried as ${j.retried_as}`}>
            retried →
          </a>
        ) : j.retry_of ? (
          <a href={jobHref(j.retry_of)} title={`Retry of ${j.retry_of}`}>
            ← retry of
          </a>
        ) : null,
    },
  ];

  return (
    <section>
      <div class="view-head">
        <h1>History</h1>
        <div class="actions">
          <button
            type="button"
            data-testid="retry-all-failed"
            disabled={retrying || Boolean(noRetry)}
            title={noRetry ?? 'Queue every failed job that matches the filter again (each as a new job)'}
            onClick={() => void retryAllFailed()}
          >
            Retry all failed
          </button>
        </div>
      </div>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          apply(form);
        }}
      >
        <label>
          State
          <select data-testid="filter-state" value={form.state} onChange={set('state')}>
            <option value="">all</option>
            <option value="completed">completed</option>
            <option value="failed">failed</option>
            <option value="cancelled">cancelled</option>
          </select>
        </label>
        <label class="grow">
          Title contains
          <input type="search" data-testid="filter-title" value={form.title} onInput={set('title')} />
        </label>
        <label>
          Worker id
          <input type="text" data-testid="filter-worker" value={form.worker} onInput={set('worker')} />
        </label>
        <label>
          Since
          <input type="datetime-local" data-testid="filter-since" value={form.since} onInput={set('since')} />
        </label>
        <label>
          Until
          <input type="datetime-local" data-testid="filter-until" value={form.until} onInput={set('until')} />
        </label>
        <div class="filter-buttons">
          <button type="submit" class="primary" data-testid="filter-apply">
            Apply
          </button>
          <button
            type="button"
            onClick={() => {
              setForm(EMPTY);
              apply(EMPTY);
            }}
          >
            Clear
          </button>
        </div>
      </form>
      {page ? (
        <>
          <Table
            columns={columns}
            rows={page.jobs}
            rowKey={(j) => j.job_id}
            rowProps={(j) => ({ 'data-testid': 'history-row', 'data-job-id': j.job_id })}
            empty={applied.state || Object.keys(apiFilter(applied)).length ? 'No jobs match the filter' : 'No finished jobs yet'}
            caption="Jobs, newest first"
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
            label={page.jobs.length ? `${offset + 1}–${offset + page.jobs.length}` : ''}
          />
        </>
      ) : (
        <p class="muted">Loading…</p>
      )}
    </section>
  );
}
