import { useState } from 'preact/hooks';
import { api, reportError } from '../api/api-client.js';
import type { WorkerView } from '../api/types.js';
import { Ellipsis } from '../components/ellipsis.js';
import { JobLink } from '../components/job-link.js';
import { Pager } from '../components/pager.js';
import { StateBadge } from '../components/state-badge.js';
import { Table, type Column } from '../components/table.js';
import { CapabilitiesCell, CapabilitiesDetail } from '../components/worker-capabilities.js';
import { ago, percent, time, workerStatus } from '../format.js';
import { scheduleText } from '../schedule-text.js';
import { useObservable } from '../state/observable.js';
import { serverNow } from '../state/server-clock.js';
import { can } from '../state/session.js';
import { useBusyIds } from '../state/use-busy-ids.js';
import { useTick } from '../state/use-tick.js';
import { workersStore } from '../state/workers-store.js';

const PAGE = 100;

/**
 * Every worker, sorted by hostname, 100 a page: status and active hours
 * (its schedule, when one applies), current job, capabilities (tags, GPUs,
 * binaries, a count of encoders that opens everything it advertises),
 * version, last heartbeat, enable/disable. Offline workers (no heartbeat
 * within the server's expiry, computed here every second) are listed apart.
 */
export function WorkersView() {
  useObservable(workersStore.version);
  const loaded = useObservable(workersStore.loaded);
  useTick();
  const [filter, setFilter] = useState('');
  const [page, setPage] = useState(0);
  const [offlinePage, setOfflinePage] = useState(0);
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set());
  const busy = useBusyIds();

  if (!loaded) return <p class="muted">Loading…</p>;
  const needle = filter.trim().toLowerCase();
  const all = workersStore.all().filter((w) => !needle || w.hostname.toLowerCase().includes(needle) || w.worker_id.toLowerCase().includes(needle));
  const online = all.filter((w) => workersStore.isOnline(w));
  const offline = all.filter((w) => !workersStore.isOnline(w));
  const now = serverNow();
  const admin = can('worker.disable');

  const toggle = async (worker: WorkerView) => {
    busy.add(worker.worker_id);
    try {
      const attributes = await api<WorkerView['attributes']>(`/workers/${encodeURIComponent(worker.worker_id)}`, {
        method: 'PATCH',
        body: { disabled: !worker.attributes.disabled },
      });
      workersStore.setAttributes(worker.worker_id, attributes ?? { ...worker.attributes, disabled: !worker.attributes.disabled });
    } catch (error) {
      reportError(error);
    } finally {
      busy.remove(worker.worker_id);
    }
  };

  const columns: Array<Column<WorkerView>> = [
    {
      label: 'Host',
      class: 'col-host',
      cell: (w) => (
        <>
          <Ellipsis text={w.hostname} />
          {w.worker_id !== w.hostname ? <span class="sub ellipsis" title={w.worker_id}>{w.worker_id}</span> : null}
        </>
      ),
    },
    {
      label: 'Status',
      class: 'col-status',
      cell: (w) => {
        // An offline worker advertises no tags: only its own schedule still applies to it.
        const schedule = w.schedule && (w.schedule.source === 'worker' || workersStore.isOnline(w)) ? scheduleText(w.schedule, now) : undefined;
        return (
          <>
            <StateBadge state={w.status} label={workerStatus(w.status)} testId="worker-status" />
            {w.attributes.disabled ? <span class="badge badge-disabled">disabled</span> : null}
            {schedule ? (
              <span class={`sub schedule${w.schedule!.active ? '' : ' schedule-off'}`} data-testid="worker-schedule" data-active={String(w.schedule!.active)} title={schedule.title}>
                {schedule.text}
              </span>
            ) : null}
          </>
        );
      },
    },
    {
      label: 'Current job',
      class: 'col-title',
      cell: (w) =>
        w.job_id ? (
          <span data-testid="worker-job" class="worker-job">
            <JobLink id={w.job_id} title={w.job_title ?? w.job_id} />
            <span class="sub">{[w.task, typeof w.progress === 'number' ? percent(w.progress) : undefined].filter(Boolean).join(' · ')}</span>
          </span>
        ) : (
          <span data-testid="worker-job" class="muted">
            —
          </span>
        ),
    },
    {
      label: 'Capabilities',
      class: 'col-caps',
      cell: (w) => (
        <CapabilitiesCell
          value={w.capabilities}
          open={open.has(w.worker_id)}
          onToggle={() =>
            setOpen((old) => {
              const next = new Set(old);
              if (!next.delete(w.worker_id)) next.add(w.worker_id);
              return next;
            })
          }
        />
      ),
    },
    { label: 'Version', class: 'col-version', cell: (w) => <span data-testid="worker-version">{w.version || '—'}</span> },
    {
      label: 'Last heartbeat',
      class: 'col-time',
      cell: (w) => (
        <span data-testid="worker-heartbeat" title={time(w.last_seen)}>
          {w.last_seen ? ago(now - Date.parse(w.last_seen)) : '—'}
        </span>
      ),
    },
  ];
  if (admin) {
    columns.push({
      label: '',
      class: 'col-actions',
      cell: (w) => (
        <button type="button" data-testid="worker-toggle" class={w.attributes.disabled ? 'primary' : ''} disabled={busy.has(w.worker_id)} onClick={() => void toggle(w)}>
          {w.attributes.disabled ? 'Enable' : 'Disable'}
        </button>
      ),
    });
  }
  const detail = (w: WorkerView) => (open.has(w.worker_id) ? <CapabilitiesDetail value={w.capabilities} /> : null);
  const rowProps = (online: boolean) => (w: WorkerView) => ({ 'data-testid': 'worker-row', 'data-worker-id': w.worker_id, 'data-online': String(online) });

  const onlinePages = Math.max(1, Math.ceil(online.length / PAGE));
  const onlineAt = Math.min(page, onlinePages - 1);
  const offlinePages = Math.max(1, Math.ceil(offline.length / PAGE));
  const offlineAt = Math.min(offlinePage, offlinePages - 1);

  return (
    <section>
      <div class="view-head">
        <h1>
          Workers <span class="count">{online.length} online</span>
        </h1>
        <div class="actions">
          <input
            type="search"
            class="filter-input"
            placeholder="Filter by host or id"
            aria-label="Filter workers by host or id"
            value={filter}
            onInput={(e) => {
              setFilter(e.currentTarget.value);
              setPage(0);
              setOfflinePage(0);
            }}
          />
        </div>
      </div>
      <Table
        columns={columns}
        rows={online.slice(onlineAt * PAGE, (onlineAt + 1) * PAGE)}
        rowKey={(w) => w.worker_id}
        rowProps={rowProps(true)}
        detail={detail}
        empty={needle ? 'No online worker matches' : 'No workers online'}
        caption="Online workers"
      />
      {online.length > PAGE ? (
        <Pager
          hasPrev={onlineAt > 0}
          hasNext={onlineAt < onlinePages - 1}
          onPrev={() => setPage(onlineAt - 1)}
          onNext={() => setPage(onlineAt + 1)}
          label={`${onlineAt * PAGE + 1}–${Math.min(online.length, (onlineAt + 1) * PAGE)} of ${online.length}`}
        />
      ) : null}
      <section class="subsection" data-testid="workers-offline">
        <h2>
          Offline <span class="count">{offline.length}</span>
        </h2>
        <Table
          columns={columns}
          rows={offline.slice(offlineAt * PAGE, (offlineAt + 1) * PAGE)}
          rowKey={(w) => w.worker_id}
          rowProps={rowProps(false)}
          detail={detail}
          empty="No offline workers"
          caption="Offline workers"
        />
        {offline.length > PAGE ? (
          <div class="pager">
            <button type="button" disabled={offlineAt === 0} onClick={() => setOfflinePage(offlineAt - 1)}>
              ← Previous
            </button>
            <span class="pager-label">{`${offlineAt * PAGE + 1}–${Math.min(offline.length, (offlineAt + 1) * PAGE)} of ${offline.length}`}</span>
            <button type="button" disabled={offlineAt >= offlinePages - 1} onClick={() => setOfflinePage(offlineAt + 1)}>
              Next →
            </button>
          </div>
        ) : null}
      </section>
    </section>
  );
}
