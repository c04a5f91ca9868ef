import { useRef, useState } from 'preact/hooks';
import type { DeliveryView, WebhookView } from '../api/types.js';
import { Ellipsis } from '../components/ellipsis.js';
import { Table, type Column } from '../components/table.js';
import { ago, time } from '../format.js';
import { serverNow } from '../state/server-clock.js';
import { can } from '../state/session.js';
import { usePolledApi } from '../state/use-polled-api.js';
import { useTick } from '../state/use-tick.js';

/** How often the hooks and the open deliveries are read again while the page is visible (ms). */
const POLL_MS = 5000;

/** A delivery's status as a coloured label. */
function DeliveryStatus({ delivery }: { delivery: DeliveryView }) {
  return (
    <span class={`badge badge-${delivery.status}`} data-testid="delivery-status">
      {delivery.status}
    </span>
  );
}

/** What the receiver answered last: `HTTP 200`, or the error (`timed out after 10 s`). */
const answer = (d: DeliveryView) => d.error ?? (d.status_code !== undefined ? `HTTP ${d.status_code}` : '—');

const since = (iso: string | undefined, now: number) => (iso ? ago(now - Date.parse(iso)) : '—');

/** The newest deliveries of one hook (`GET /webhooks/{name}/deliveries`), read again while shown. */
function Deliveries({ hook }: { hook: WebhookView }) {
  const { data, error } = usePolledApi<{ deliveries: DeliveryView[] }>(`/webhooks/${encodeURIComponent(hook.name)}/deliveries?limit=50`, POLL_MS, (e) => hook.events.includes(e.type));
  const now = serverNow();
  const columns: Array<Column<DeliveryView>> = [
    { label: 'Event', class: 'col-event', cell: (d) => <span title={`event ${d.event_id}`}>{d.event_type}</span> },
    { label: 'Happened', class: 'col-datetime', cell: (d) => time(d.event_at) },
    { label: 'Status', class: 'col-status', cell: (d) => <DeliveryStatus delivery={d} /> },
    { label: 'Attempts', class: 'col-num col-attempts', cell: (d) => d.attempts },
    { label: 'Answer', class: 'col-answer', cell: (d) => <Ellipsis text={answer(d)} /> },
    { label: 'Last attempt', class: 'col-time', cell: (d) => <span title={time(d.last_attempt_at)}>{since(d.last_attempt_at, now)}</span> },
    { label: 'Next attempt', class: 'col-datetime', cell: (d) => (d.next_attempt_at ? time(d.next_attempt_at) : '—') },
  ];
  return (
    <div class="deliveries" data-testid="webhook-deliveries">
      <h3>Newest deliveries of {hook.name}</h3>
      {error ? <p class="error-text">{error}</p> : null}
      {data ? (
        <Table
          columns={columns}
          rows={data.deliveries}
          rowKey={(d) => d.event_id}
          rowProps={(d) => ({ 'data-testid': 'webhook-delivery', 'data-status': d.status })}
          empty="No deliveries yet"
          caption={`Deliveries of ${hook.name}`}
        />
      ) : error ? null : (
        <p class="muted">Loading…</p>
      )}
    </div>
  );
}

/**
 * The webhooks of the server config (`GET /webhooks`, admin): each hook's
 * receiver, events and filter, how many deliveries are not done, and its
 * last delivery; a hook opens to its newest deliveries. Deliveries change
 * without events of their own: the view reads them again every 5 s while
 * the page is visible, and shortly after an event a hook listens to.
 */
export function WebhooksView() {
  const admin = can('fleet.read');
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set());
  // The event types of the hooks as last read.
  const types = useRef(new Set<string>());
  const hooks = usePolledApi<{ webhooks: WebhookView[] }>(admin ? '/webhooks' : null, POLL_MS, (e) => types.current.has(e.type));
  const list = hooks.data?.webhooks;
  types.current = new Set(list?.flatMap((h) => h.events));
  useTick();
  const now = serverNow();

  const toggle = (name: string) =>
    setOpen((old) => {
      const next = new Set(old);
      if (!next.delete(name)) next.add(name);
      return next;
    });

  const columns: Array<Column<WebhookView>> = [
    {
      label: 'Webhook',
      class: 'col-title',
      cell: (h) => (
        <>
          <strong>{h.name}</strong>
          <span class="sub ellipsis mono" title={h.url}>
            {h.url}
          </span>
        </>
      ),
    },
    {
      label: 'Events',
      class: 'col-events',
      cell: (h) => {
        const filter = [h.filter.title !== undefined ? `title ~ "${h.filter.title}"` : '', h.filter.module ? `module ${h.filter.module.join('|')}` : '', h.filter.worker_id ? `worker ${h.filter.worker_id.join('|')}` : '']
          .filter(Boolean)
          .join(', ');
        return (
          <>
            {h.events.join(', ')}
            {filter ? <span class="sub">filter: {filter}</span> : null}
          </>
        );
      },
    },
    { label: 'Pending', class: 'col-num', cell: (h) => <span data-testid="webhook-pending">{h.pending}</span> },
    {
      label: 'Last delivery',
      class: 'col-last',
      cell: (h) => {
        const d = h.last_delivery;
        if (!d) return <span class="muted" data-testid="webhook-last">none yet</span>;
        return (
          <span data-testid="webhook-last" title={`event ${d.event_id}, ${d.attempts} attempt${d.attempts === 1 ? '' : 's'}`}>
            <DeliveryStatus delivery={d} /> {d.event_type}
            <span class="sub">
              {answer(d)} · {since(d.last_attempt_at ?? d.finished_at, now)}
            </span>
          </span>
        );
      },
    },
    {
      label: '',
      class: 'col-actions',
      cell: (h) => (
        <button type="button" data-testid="webhook-deliveries-toggle" aria-expanded={open.has(h.name)} onClick={() => toggle(h.name)}>
          {open.has(h.name) ? 'Hide' : 'Deliveries'}
        </button>
      ),
    },
  ];

  return (
    <section>
      <div class="view-head">
        <h1>Webhooks {list ? <span class="count">{list.length}</span> : null}</h1>
      </div>
      {!admin ? (
        <p class="notice" data-testid="admin-only">
          Webhooks are shown to admin tokens only.
        </p>
      ) : (
        <>
          {hooks.error ? (
            <p class="error-text" data-testid="load-error">
              {hooks.error}
            </p>
          ) : null}
          {list ? (
            <Table
              columns={columns}
              rows={list}
              rowKey={(h) => h.name}
              rowProps={(h) => ({ 'data-testid': 'webhook-row', 'data-name': h.name })}
              detail={(h) => (open.has(h.name) ? <Deliveries hook={h} /> : null)}
              empty="No webhooks: add them to the server config (server.webhooks)"
              caption="Webhooks"
            />
          ) : hooks.error ? null : (
            <p class="muted">Loading…</p>
          )}
        </>
      )}
    </section>
  );
}
