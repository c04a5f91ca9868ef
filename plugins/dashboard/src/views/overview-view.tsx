import { useEffect, useRef, useState } from 'preact/hooks';
import { api, reportError } from '../api/api-client.js';
import type { Overview } from '../api/types.js';
import { QueueState, QueueToggle } from '../components/queue-toggle.js';
import { useGeneration, useServerEvents } from '../events/use-server-events.js';
import { useObservable } from '../state/observable.js';
import { routeHref } from '../router.js';
import { useCoalesced } from '../state/use-coalesced.js';
import { workersStore } from '../state/workers-store.js';

/**
 * Counts of the farm (`GET /status/overview`): queued, running, waiting
 * for children (when the server counts them), workers
 * online and disabled, finished and failed in the last hour, and the queue's
 * state with its toggle. Loaded again (at most once a second) when an event
 * changes one of them.
 */
export function OverviewView() {
  const [overview, setOverview] = useState<Overview | undefined>();
  const seq = useRef(0);
  const generation = useGeneration();
  const presence = useObservable(workersStore.presence);

  const load = async () => {
    const mine = ++seq.current;
    try {
      const next = await api<Overview>('/status/overview');
      if (mine === seq.current) setOverview(next);
    } catch (error) {
      if (mine === seq.current) reportError(error);
    }
  };
  const reload = useCoalesced(() => void load(), 1000);

  useEffect(() => void load(), [generation]);
  // A worker came or went (offline is computed here, on a timer): the worker counts changed. Asked again a moment
  // later too: this clock's estimate of the server's may run a little ahead of the server's own expiry check.
  const firstPresence = useRef(presence);
  useEffect(() => {
    if (presence === firstPresence.current) return;
    reload();
    const again = setTimeout(reload, 1500);
    return () => clearTimeout(again);
  }, [presence]);
  useServerEvents((event) => {
    if (event.type.startsWith('job.') || event.type === 'queue.cleared' || event.type === 'worker.attributes' || event.type === 'worker.removed') reload();
    else if (event.type === 'queue.attributes' && overview) {
      setOverview({ ...overview, queue: { ...overview.queue, disabled: Boolean(event.attributes?.disabled) } });
    }
  });

  if (!overview) return <p class="muted">Loading…</p>;
  const { jobs, workers, queue } = overview;
  // The finished-job cards open the history filtered as they count: that state, finished since an hour ago.
  const history = (state: string) => routeHref('history', { state, since: overview.finished_since });
  return (
    <section>
      <div class="view-head">
        <h1>Overview</h1>
        <div class="actions">
          <span class="muted">Queue</span>
          <QueueState disabled={queue.disabled} />
          <QueueToggle disabled={queue.disabled} onChange={(disabled) => setOverview({ ...overview, queue: { disabled } })} />
        </div>
      </div>
      <div class="cards">
        <Card label="Queued" value={jobs.queued} testId="overview-queued" href="#/queue" />
        <Card label="Running" value={jobs.running} testId="overview-running" href="#/running" />
        {jobs.waiting !== undefined ? <Card label="Waiting for children" value={jobs.waiting} testId="overview-waiting" href="#/running" /> : null}
        <Card label="Workers online" value={workers.online} testId="overview-workers-online" href="#/workers" />
        <Card label="Workers disabled" value={workers.disabled} testId="overview-workers-disabled" href="#/workers" />
        <Card label="Workers offline" value={workers.offline} testId="overview-workers-offline" href="#/workers" />
        <Card label="Completed (last hour)" value={jobs.completed} testId="overview-completed-hour" href={history('completed')} />
        <Card label="Failed (last hour)" value={jobs.failed} testId="overview-failed-hour" href={history('failed')} tone={jobs.failed ? 'bad' : undefined} />
        <Card label="Cancelled (last hour)" value={jobs.cancelled} testId="overview-cancelled-hour" href={history('cancelled')} />
      </div>
    </section>
  );
}

function Card({ label, value, testId, href, tone }: { label: string; value: number; testId: string; href: string; tone?: 'bad' | undefined }) {
  return (
    <a class={tone ? `card card-${tone}` : 'card'} href={href}>
      <span class="card-value" data-testid={testId}>
        {value}
      </span>
      <span class="card-label">{label}</span>
    </a>
  );
}
