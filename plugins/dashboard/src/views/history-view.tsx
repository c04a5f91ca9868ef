import { useEffect, useRef, useState } from 'preact/hooks';
import { api, reportError } from '../api/api-client.js';
import type { JobPage, JobView } from '../api/types.js';
import { Ellipsis } from '../components/ellipsis.js';
import { JobTitleCell } from '../components/job-title-cell.js';
import { Pager } from '../components/pager.js';
import { StateBadge } from '../components/state-badge.js';
import { Table, type Column } from '../components/table.js';
import { useGeneration, useServerEvents } from '../events/use-server-events.js';
import { isoToLocalInput, localInputToIso, runtime, stateLabel, time } from '../format.js';
import { hashQuery, jobHref, parseRoute, routeHref, useHash } from '../router.js';
import { useObservable } from '../state/observable.js';
import { toast } from '../state/toast.js';
import { useCoalesced } from '../state/use-coalesced.js';
import { lookUpWorker, workerLabel } from '../state/worker-lookup.js';
import { workersStore } from '../state/workers-store.js';

const LIMIT = 50;
/** The most jobs `POST /jobs/retry` retries in one call (the server's default `limit`). */
const RETRY_LIMIT = 1000;
/** Events after which the listing may change: a job finished, was retried (retried_as) or removed. */
const CHANGES_HISTORY = new Set(['job.completed', 'job.failed', 'job.cancelled', 'job.retried', 'job.removed']);
/** Events after which the listing of jobs waiting for children may change. */
const CHANGES_WAITING = new Set(['job.waiting_children', 'job.resumed', 'job.completed', 'job.failed', 'job.cancelled', 'job.removed']);

type StateFilter = '' | 'completed' | 'failed' | 'cancelled' | 'waiting-children';
const STATES: readonly StateFilter[] = ['completed', 'failed', 'cancelled', 'waiting-children'];

/** The filter as typed in the form (worker: a host name, `host (id)` or an id; times: `datetime-local` values). */
interface FilterForm {
  state: StateFilter;
  title: string;
  worker: string;
  since: string;
  until: string;
}

/** The filter as applied, kept in the location hash (`#/history?state=failed&title=x`): worker id, ISO times. */
interface Filter {
  state: StateFilter;
  title: string;
  worker: string;
  since: string;
  until: string;
}

const EMPTY: FilterForm = { state: '', title: '', worker: '', since: '', until: '' };

/** The applied filter and page of a location hash: the filter's fields, `cursor` (the page) and `prev` (the cursors of the pages between the first and this one). */
function fromHash(hash: string): { filter: Filter; cursor?: string; prev: string[] } {
  const q = hashQuery(hash);
  const state = q.get('state') ?? '';
  const cursor = q.get('cursor') || undefined;
  return {
    filter: {
      state: (STATES as readonly string[]).includes(state) ? (state as StateFilter) : '',
      title: q.get('title') ?? '',
      worker: q.get('worker') ?? '',
      since: q.get('since') ?? '',
      until: q.get('until') ?? '',
    },
    ...(cursor ? { cursor } : {}),
    prev: cursor ? (q.get('prev') ?? '').split(',').filter(Boolean) : [],
  };
}

/** The hash of a filter and page. */
function toHash(filter: Filter, cursor?: string, prev: string[] = []): string {
  return routeHref('history', { ...filter, ...(cursor ? { cursor, prev: prev.join(',') } : {}) });
}

/** The form showing an applied filter (a known worker by its host name and short id). */
function formOf(filter: Filter): FilterForm {
  const worker = filter.worker ? workersStore.get(filter.worker) : undefined;
  return {
    state: filter.state,
    title: filter.title,
    worker: worker ? workerLabel(worker) : filter.worker,
    since: isoToLocalInput(filter.since),
    until: isoToLocalInput(filter.until),
  };
}

/** The fields but the state, as the API takes them (`GET /jobs` query, `POST /jobs/retry` body). */
function apiFilter(filter: Filter): Record<string, string> {
  return {
    ...(filter.title ? { title: filter.title } : {}),
    ...(filter.worker ? { worker: filter.worker } : {}),
    ...(filter.since ? { since: filter.since } : {}),
    ...(filter.until ? { until: filter.until } : {}),
  };
}

/**
 * Why "Retry all failed" has nothing to do for the applied filter (its
 * tooltip), or `undefined` while it may find failed jobs: the state filter
 * excludes failed jobs, or the listing, seen whole on one page, has no
 * failed job that is not retried yet.
 */
function retryAllBlocked(applied: Filter, page: JobPage | undefined, paged: boolean): string | undefined {
  if (applied.state && applied.state !== 'failed') return `The state filter (${stateLabel(applied.state)}) excludes failed jobs`;
  if (!page || paged || page.next) return undefined;
  if (!page.jobs.some((j) => j.state === 'failed')) return 'No failed jobs match the filter';
  if (!page.jobs.some((j) => j.state === 'failed' && !j.retried_as)) return 'Every failed job that matches the filter has been retried';
  return undefined;
}

/**
 * Jobs newest first with server-side filters (state, title, worker, time
 * range) and cursor paging, both kept in the location hash
 * (`#/history?state=failed&cursor=C&prev=B`: the page's cursor and those of
 * the pages between the first and it, for "previous"); the worker filter
 * offers the known workers by host name. "Retry all failed" retries every
 * failed job the filter selects.
 */
export function HistoryView() {
  // The applied filter and page live in the hash: a filtered view can be linked, and Back restores the one before.
  const hash = useHash();
  // (Leaving for another view changes the hash before this view is gone: it keeps the last history hash.)
  const ownHash = useRef(hash);
  if (parseRoute(hash).name === 'history') ownHash.current = hash;
  const { filter: applied, cursor, prev } = fromHash(ownHash.current);
  const key = toHash(applied, cursor, prev);
  const [form, setForm] = useState<FilterForm>(() => formOf(applied));
  const [workerError, setWorkerError] = useState<string | undefined>();
  const [page, setPage] = useState<JobPage | undefined>();
  const [retrying, setRetrying] = useState(false);
  const seq = useRef(0);
  const generation = useGeneration();
  useObservable(workersStore.presence); // the workers offered in the worker filter

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
  useEffect(() => void load(), [generation, key]);
  // Back, Forward or a link changed the filter: the form shows it. The form already shows the filter it was
  // made from (first render) and the one its own Apply set, and what a person typed meanwhile is kept: the
  // effect runs after the first paint, when they may have changed a field already.
  const filterKey = toHash(applied);
  const formShows = useRef(filterKey);
  useEffect(() => {
    if (filterKey === formShows.current) return;
    formShows.current = filterKey;
    setForm(formOf(applied));
    setWorkerError(undefined);
  }, [filterKey]);

  useServerEvents((event) => {
    const id = event.job?.job_id;
    // Only finished jobs are listed: what is submitted, starts or moves in the queue changes nothing here.
    if (!id || !(applied.state === 'waiting-children' ? CHANGES_WAITING : CHANGES_HISTORY).has(event.type)) return;
    // The first page shows what just finished; other pages only change when one of their jobs does.
    if (!cursor || page?.jobs.some((j) => j.job_id === id)) reload();
  });

  /** Show `next` (a new history entry), or load the same view again. */
  const navigate = (next: string) => {
    if (next === key) void load();
    else location.hash = next;
  };

  const apply = (next: FilterForm) => {
    const worker = lookUpWorker(next.worker, workersStore.all());
    setWorkerError(worker.error);
    if (worker.error) return;
    const filter: Filter = {
      state: next.state,
      title: next.title.trim(),
      worker: worker.id ?? '',
      since: localInputToIso(next.since) ?? '',
      until: localInputToIso(next.until) ?? '',
    };
    const href = toHash(filter);
    formShows.current = href;
    setForm({ ...formOf(filter), since: next.since, until: next.until });
    navigate(href);
  };

  const retryAllFailed = async () => {
    const filter = apiFilter(applied);
    const what = Object.keys(filter).length ? 'every failed job that matches the filter' : 'every failed job';
    if (!confirm(`Retry ${what}, at most ${RETRY_LIMIT} in one go? Each one is queued again as a new job.`)) return;
    setRetrying(true);
    try {
      const answer = await api<{ count: number; skipped?: number; more?: boolean }>('/jobs/retry', { method: 'POST', body: { state: 'failed', ...filter } });
      const skipped = answer.skipped ? ` (${answer.skipped} already retried)` : '';
      if (answer.more) toast(`${answer.count} retried${skipped}; more remain: press again`);
      else toast(`Retried ${answer.count} failed job${answer.count === 1 ? '' : 's'}${skipped}`);
      reload();
    } catch (error) {
      reportError(error);
    } finally {
      setRetrying(false);
    }
  };

  const noRetry = retryAllBlocked(applied, page, Boolean(cursor));
  const set = (field: keyof FilterForm) => (e: { currentTarget: HTMLInputElement | HTMLSelectElement }) => {
    if (field === 'worker') setWorkerError(undefined);
    const value = e.currentTarget.value;
    // From the latest form, not this render's: two edits before a render both count.
    setForm((now) => ({ ...now, [field]: value }));
  };
  const offset = cursor ? (prev.length + 1) * LIMIT : 0;
  const workers = workersStore.all();

  const columns: Array<Column<JobView>> = [
    { label: 'State', class: 'col-status', cell: (j) => <StateBadge state={j.state} /> },
    { label: 'Job', class: 'col-title', cell: (j) => <JobTitleCell job={j} /> },
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
            <option value="waiting-children">{stateLabel('waiting-children')}</option>
          </select>
        </label>
        <label class="grow">
          Title contains
          <input type="search" data-testid="filter-title" value={form.title} onInput={set('title')} />
        </label>
        <label>
          Worker
          <input
            type="text"
            data-testid="filter-worker"
            list="history-workers"
            placeholder="host name or id"
            autocomplete="off"
            spellcheck={false}
            aria-invalid={workerError ? true : undefined}
            aria-describedby={workerError ? 'filter-worker-error' : undefined}
            value={form.worker}
            onInput={set('worker')}
          />
          <datalist id="history-workers">
            {workers.map((w) => (
              <option key={w.worker_id} value={workerLabel(w)}>
                {w.worker_id}
              </option>
            ))}
          </datalist>
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
        {workerError ? (
          <p class="field-error filter-error" role="alert" id="filter-worker-error" data-testid="filter-worker-error">
            {workerError}
          </p>
        ) : null}
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
            hasPrev={Boolean(cursor)}
            hasNext={Boolean(page.next)}
            onPrev={() => navigate(toHash(applied, prev[prev.length - 1], prev.slice(0, -1)))}
            onNext={() => navigate(toHash(applied, page.next, cursor ? [...prev, cursor] : []))}
            label={page.jobs.length ? `${offset + 1}–${offset + page.jobs.length}` : ''}
          />
        </>
      ) : (
        <p class="muted">Loading…</p>
      )}
    </section>
  );
}
